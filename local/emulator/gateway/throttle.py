"""The usage plan's throttles: API Gateway's token buckets, per API key and method."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    """API Gateway's throttle: ``burst`` tokens, refilled at ``rate`` per second; thread-safe."""

    def __init__(self, rate: float, burst: float, clock: Clock) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """0 if a token was taken, else the seconds until one is available."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self._rate if self._rate > 0 else math.inf


class UsagePlanThrottle:
    """Per-key, per-method token buckets from the usage plan: method throttles, else the plan's own."""

    def __init__(
        self, methods: dict[str, dict[str, float]], default: dict[str, float] | None, clock: Clock = time.monotonic
    ) -> None:
        self._methods = methods
        self._default = default
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, usage_key: str, method_key: str) -> float:
        """0 if the request may pass, else the seconds until it could (``method_key``: ``/path/GET``)."""
        limits = self._methods.get(method_key, self._default)
        if limits is None:
            return 0.0
        with self._lock:
            bucket = self._buckets.get((usage_key, method_key))
            if bucket is None:
                bucket = TokenBucket(float(limits["RateLimit"]), float(limits["BurstLimit"]), self._clock)
                self._buckets[(usage_key, method_key)] = bucket
        return bucket.take()
