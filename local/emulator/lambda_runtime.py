"""Load and invoke the template's functions in this process, the way the Lambda runtime would.

Each function's ``app.py`` is imported from its ``CodeUri`` under a unique module name, with the
shared layer on ``sys.path`` (as ``/opt/python`` is in Lambda) and the template's environment set.
The functions share this process, but each one's log lines carry its own name, ARN, request id and
cold start, as in its own Lambda process (``local.emulator.function_logs``).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from local.emulator.function_logs import invocation, isolate_function_log_keys
from local.stack.template import ACCOUNT, LAYER_PATH, REGION, FunctionSpec, Template


@dataclass
class LambdaContext:
    """The attributes Powertools and our handlers read from the Lambda context object."""

    function_name: str
    timeout_seconds: int = 10
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


def ensure_layer_on_path() -> None:
    if str(LAYER_PATH) not in sys.path:
        sys.path.insert(0, str(LAYER_PATH))


def load_module(spec: FunctionSpec) -> ModuleType:
    """Import a function's handler module once per process (like a warm execution environment)."""
    ensure_layer_on_path()
    module_file, _, _ = spec.handler.rpartition(".")
    path = spec.code_uri / f"{module_file}.py"
    name = f"_lambda_{spec.logical_id}"
    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        # Like a failed Lambda init: the next invocation imports afresh, never a half-initialised module.
        del sys.modules[name]
        raise
    return module


# One lock per loaded handler module, process-wide like the modules themselves.
_ENVIRONMENT_LOCKS: dict[str, threading.Lock] = {}


class FunctionRegistry:
    """Lazily imported handlers of every function in the template; thread-safe to invoke.

    Each function has one warm execution environment (its module, loaded once per process), and Lambda
    never runs two invocations in one environment at once: handler modules keep per-invocation state in
    globals (the Powertools resolver's current event, the batch processor's records), so concurrent
    invocations of one function take turns.
    """

    def __init__(self, template: Template, environment: dict[str, str] | None = None) -> None:
        self.specs = template.functions()
        if environment:
            os.environ.update(environment)
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._lock = threading.Lock()

    def handler(self, logical_id: str) -> Callable[[dict[str, Any], Any], Any]:
        with self._lock:
            if logical_id not in self._handlers:
                spec = self.specs[logical_id]
                with invocation(logical_id, loading=True):
                    module = load_module(spec)
                # The handlers share one Powertools logger per service: give each function its own keys.
                isolate_function_log_keys()
                self._handlers[logical_id] = getattr(module, spec.handler.rpartition(".")[2])
                _ENVIRONMENT_LOCKS.setdefault(logical_id, threading.Lock())
            return self._handlers[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        spec = self.specs[logical_id]
        handler = self.handler(logical_id)
        with _ENVIRONMENT_LOCKS[logical_id], invocation(logical_id):
            context = LambdaContext(function_name=logical_id, timeout_seconds=spec.timeout)
            return handler(event, context)
