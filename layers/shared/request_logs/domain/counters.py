"""Additive counters of a set of logs: requests, outcomes, tokens, cost and latency sums."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from request_logs.domain.log import RequestLog


@dataclass
class Counters:
    """Additive counters of a set of logs (no sketches): what by_model/by_provider entries need."""

    requests: int = 0
    successful: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)
    unpriced: int = 0
    latency_sum: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def priced(self) -> int:
        return self.requests - self.unpriced

    @property
    def priced_cost(self) -> Decimal | None:
        """The cost of the priced requests; None when none was priced: an unpriced request costs
        unknown, not zero, and a set of only those has no cost to show (``unpriced`` says how many)."""
        return self.cost if self.priced else None

    def add_log(self, log: RequestLog) -> None:
        self.add(
            succeeded=log.status == "success",
            input_tokens=log.input_tokens,
            output_tokens=log.output_tokens,
            cost=log.cost_total,
            latency_ms=log.latency_ms,
        )

    def add(
        self, *, succeeded: bool, input_tokens: int, output_tokens: int, cost: Decimal | None, latency_ms: int
    ) -> None:
        """One request; ``cost`` None when nobody priced it."""
        self.requests += 1
        if succeeded:
            self.successful += 1
        else:
            self.failed += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        if cost is None:
            self.unpriced += 1
        else:
            self.cost += cost
        self.latency_sum += latency_ms

    def merge(self, other: Counters) -> None:
        self.requests += other.requests
        self.successful += other.successful
        self.failed += other.failed
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost += other.cost
        self.unpriced += other.unpriced
        self.latency_sum += other.latency_sum

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "successful": self.successful,
            "failed": self.failed,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": self.cost,
            "unpriced": self.unpriced,
            "latency_sum": self.latency_sum,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Counters:
        return cls(
            requests=int(raw.get("requests", 0)),
            successful=int(raw.get("successful", 0)),
            failed=int(raw.get("failed", 0)),
            input_tokens=int(raw.get("input_tokens", 0)),
            output_tokens=int(raw.get("output_tokens", 0)),
            cost=Decimal(raw.get("cost", 0)),
            unpriced=int(raw.get("unpriced", 0)),
            latency_sum=int(raw.get("latency_sum", 0)),
        )
