"""When to retry a call, and how long to wait first.

Every endpoint is a GET, so a retry never does anything twice. Retried: 429 (after its ``Retry-After``),
5xx (after ``Retry-After`` when the answer has one) and calls that got no answer (connection refused or
broken, timeouts). The wait without ``Retry-After`` is capped exponential backoff with "equal jitter":
half the capped delay, plus a random part of the other half, so clients that failed together do not
retry together, and none retries sooner than half its backoff.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    """Calls made at most for one request, the first included (1: never retry)."""
    initial_backoff: float = 0.5
    """Seconds: the ceiling of the first backoff, doubled (``multiplier``) after each failed attempt..."""
    max_backoff: float = 20.0
    """... up to this cap."""
    multiplier: float = 2.0
    max_retry_after: float = 120.0
    """A ``Retry-After`` longer than this is not waited out: the error is raised at once."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("backoffs must be non-negative and the multiplier at least 1")

    def backoff_ceiling(self, failed_attempts: int) -> float:
        """The capped exponential delay after ``failed_attempts`` (1 after the first call failed)."""
        exponent = max(0, failed_attempts - 1)
        # The cap first: ``multiplier ** exponent`` alone overflows a float past a thousand or so attempts.
        if self.initial_backoff * self.multiplier ** min(exponent, 64) >= self.max_backoff:
            return self.max_backoff
        return float(self.initial_backoff * self.multiplier**exponent)

    def backoff(self, failed_attempts: int, rand: float) -> float:
        """Equal jitter: ``ceiling / 2 + rand × ceiling / 2`` for ``rand`` in [0, 1)."""
        ceiling = self.backoff_ceiling(failed_attempts)
        return ceiling / 2 + ceiling / 2 * rand

    def delay(self, failed_attempts: int, retry_after: float | None, rand: float) -> float | None:
        """Seconds to wait before the next attempt, or None to give up (attempts spent, or ``Retry-After``
        beyond ``max_retry_after``)."""
        if failed_attempts >= self.max_attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff(failed_attempts, rand)
