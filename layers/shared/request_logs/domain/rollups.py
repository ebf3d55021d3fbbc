"""Rollups: hour and day buckets × (all, model, provider, api key). Pure: folding logs into deltas,
merging deltas, and the additive totals a stats response is built from.

A rollup item for ``dimension == "all"`` also carries small per-model, per-provider and per-status counter
maps, so ``by_model``/``by_provider`` over a range read one item per bucket instead of one per bucket and
model, and a status filter's totals read the same items. The maps are bounded in entries
(``MAX_EMBEDDED_GROUPS``) and in the bytes of their names (``MAX_EMBEDDED_GROUP_BYTES``); past either bound
the item says so and readers use the per-dimension items instead. Status has no per-dimension items and
needs none: its map holds two entries at most (ingest accepts ``success`` and ``error`` only). Items written
before it was embedded have no status map, or one that covers only the logs added since, so a reader
trusts it only when its requests add up to the item's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from request_logs.domain.log import RequestLog
from request_logs.domain.sketches import Sketch

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
GRANULARITIES: dict[str, int] = {"hour": HOUR_MS, "day": DAY_MS}
ROLLUP_DIMENSIONS = ("all", "model", "provider", "api_key")
EMBEDDED_GROUPS = ("model", "provider", "status")
MAX_EMBEDDED_GROUPS = 256
# A model or provider name may be 256 characters of up to 4 bytes each: 256 such names per group would take
# the item past DynamoDB's 400 KB limit on their own, so the names' UTF-8 bytes are bounded too.
MAX_EMBEDDED_GROUP_BYTES = 16_384


def bucket_start(epoch_ms: int, granularity: str) -> int:
    size = GRANULARITIES[granularity]
    return epoch_ms - epoch_ms % size


@dataclass(frozen=True, order=True)
class RollupKey:
    account_id: str
    granularity: str
    bucket_ms: int
    dimension: str
    value: str  # "" for the "all" dimension


def dimension_value(log: RequestLog, dimension: str) -> str:
    if dimension == "all":
        return ""
    if dimension == "api_key":
        return log.api_key_id
    return str(getattr(log, dimension))


def rollup_keys_for(log: RequestLog) -> list[RollupKey]:
    """Every rollup item one log contributes to (2 granularities × 4 dimensions)."""
    return [
        RollupKey(
            log.account_id,
            granularity,
            bucket_start(log.created_ms, granularity),
            dimension,
            dimension_value(log, dimension),
        )
        for granularity in GRANULARITIES
        for dimension in ROLLUP_DIMENSIONS
    ]


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


@dataclass
class Rollup:
    """Counters, percentile sketches and (for "all") embedded per-model/provider counters."""

    counters: Counters = field(default_factory=Counters)
    latency: Sketch = field(default_factory=Sketch)
    ttft: Sketch = field(default_factory=Sketch)
    groups: dict[str, dict[str, Counters]] = field(default_factory=dict)
    groups_overflow: bool = False

    def add_log(self, log: RequestLog, *, embed_groups: bool) -> None:
        self.counters.add_log(log)
        self.latency.add(log.latency_ms)
        if log.ttft_ms is not None:
            self.ttft.add(log.ttft_ms)
        if embed_groups:
            for group in EMBEDDED_GROUPS:
                single = Counters()
                single.add_log(log)
                self._merge_group(group, str(getattr(log, group)), single)

    def merge(self, other: Rollup) -> None:
        self.counters.merge(other.counters)
        self.latency.merge(other.latency)
        self.ttft.merge(other.ttft)
        self.groups_overflow = self.groups_overflow or other.groups_overflow
        for group, entries in other.groups.items():
            for value, counters in entries.items():
                self._merge_group(group, value, counters)

    def _merge_group(self, group: str, value: str, counters: Counters) -> None:
        entries = self.groups.setdefault(group, {})
        if value not in entries:
            if (
                len(entries) >= MAX_EMBEDDED_GROUPS
                or sum(len(name.encode()) for name in entries) + len(value.encode()) > MAX_EMBEDDED_GROUP_BYTES
            ):
                self.groups_overflow = True
                return
            entries[value] = Counters()
        entries[value].merge(counters)
