"""Powertools wiring every handler shares: metrics published once per invocation, never kept.

Handlers decorate with ``publish_metrics(metrics)`` instead of ``metrics.log_metrics``: the same EMF
document at the end of each invocation, and the invocation's metrics dropped when metrics are turned
off (``POWERTOOLS_METRICS_DISABLED``, as the local runtime does). Powertools 3.x keeps disabled metrics
in memory across invocations and prints them anyway once one metric holds 100 values; a dimension added
per invocation would also be reported as overwritten on every later one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Metrics

Handler = TypeVar("Handler", bound=Callable[..., Any])


def publish_metrics(metrics: Metrics) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        logged = metrics.log_metrics(handler)

        @functools.wraps(handler)
        def publish(event: Any, context: Any) -> Any:
            try:
                return logged(event, context)
            finally:
                metrics.clear_metrics()  # nothing left after a flush; what a disabled flush kept

        return publish  # type: ignore[return-value]

    return decorate
