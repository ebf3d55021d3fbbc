"""Each function's log keys as if it ran in a process of its own, as every Lambda function does.

Every handler creates ``Logger()`` for the same service (``POWERTOOLS_SERVICE_NAME``), and Powertools
keeps one stdlib logger per service, with one formatter holding the keys ``inject_lambda_context``
appends at each invocation: ``function_name``, ``function_arn``, ``function_request_id``,
``cold_start``, ``correlation_id``. On Lambda each function has that formatter to itself. Here the
functions share one interpreter, so every line would carry the keys of whichever function was invoked
last, in any thread: the aggregator's lines named IngestFunction.

``isolate_function_log_keys()`` gives each Powertools formatter one set of keys per function. Its
``log_format`` (the keys it writes on every line) resolves to the keys of the function whose
invocation runs in the current thread (``invocation()``, entered by ``FunctionRegistry.invoke``), and
to the shared keys outside any invocation. A function keeps its keys from one invocation to the next,
as a warm execution environment does, and ``cold_start`` is true on the first invocation of each
function rather than only on the first of the process.

Only the local runtime calls this; the handlers and what they log on AWS do not change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter


@dataclass(frozen=True)
class _Invocation:
    function: str
    cold_start: bool


_CURRENT: ContextVar[_Invocation | None] = ContextVar("local_lambda_invocation", default=None)
_PER_FUNCTION_KEYS = "_local_keys_per_function"  # formatter attribute: function → its keys
_CLASSES: dict[type, type] = {}
_CLASSES_LOCK = threading.Lock()
_INVOKED: set[str] = set()  # functions invoked at least once in this process: warm
_INVOKED_LOCK = threading.Lock()


@contextmanager
def invocation(function: str, *, loading: bool = False) -> Iterator[None]:
    """Run the block as ``function``'s invocation (``loading``: its module's import) in this thread."""
    if loading:
        cold_start = True
    else:
        with _INVOKED_LOCK:
            cold_start = function not in _INVOKED
            _INVOKED.add(function)
    token = _CURRENT.set(_Invocation(function, cold_start))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def _keys_get(formatter: Any) -> dict[str, Any]:
    shared: dict[str, Any] = formatter.__dict__["log_format"]
    current = _CURRENT.get()
    if current is None:
        return shared
    per_function: dict[str, dict[str, Any]] = formatter.__dict__.setdefault(_PER_FUNCTION_KEYS, {})
    keys = per_function.get(current.function)
    if keys is None:
        # A fresh environment: the keys the Logger was configured with, none of another function's.
        keys = per_function[current.function] = dict(shared)
    return keys


def _keys_set(formatter: Any, value: dict[str, Any]) -> None:
    current = _CURRENT.get()
    if current is None:
        formatter.__dict__["log_format"] = value
    else:
        formatter.__dict__.setdefault(_PER_FUNCTION_KEYS, {})[current.function] = value


def _per_function_class(base: type[LambdaPowertoolsFormatter]) -> type:
    with _CLASSES_LOCK:
        if base not in _CLASSES:

            def append_keys(self: Any, **keys: Any) -> None:
                current = _CURRENT.get()
                if current is not None and "cold_start" in keys:
                    # Powertools flips one flag per process; each function has an environment of its own.
                    keys["cold_start"] = current.cold_start
                base.append_keys(self, **keys)

            _CLASSES[base] = type(
                f"PerFunction{base.__name__}",
                (base,),
                {
                    "__module__": __name__,
                    "log_format": property(_keys_get, _keys_set),
                    "append_keys": append_keys,
                },
            )
        return _CLASSES[base]


def isolate_function_log_keys() -> None:
    """Give every Powertools formatter configured so far one set of keys per function (idempotent)."""
    for candidate in list(logging.Logger.manager.loggerDict.values()):
        handler = getattr(candidate, "powertools_handler", None)
        formatter = getattr(handler, "formatter", None)
        if not isinstance(formatter, LambdaPowertoolsFormatter) or type(formatter) in _CLASSES.values():
            continue
        if "log_format" not in formatter.__dict__:
            continue
        formatter.__class__ = _per_function_class(type(formatter))
