"""Rollups: hour and day buckets × (all, model, provider, api key), and quarter hours for "all". Pure:
folding logs into deltas, merging deltas, and the additive totals a stats response is built from.

Quarter-hour items exist for the "all" dimension only: in zones offset by :15, :30 or :45 (and on Lord
Howe's half-hour daylight saving) a local day or hour starts inside a UTC hour, and the time buckets of
a stats answer come from "all" items (decisions §27). One more item per batch and quarter hour, not per
dimension value.

A rollup item for ``dimension == "all"`` also carries small per-model, per-provider and per-status counter
maps, so ``by_model``/``by_provider`` over a range read one item per bucket instead of one per bucket and
model, and a status filter's totals read the same items; the items of the other dimensions carry a
per-status map, so a model, provider or key filter with a status reads its own items. The maps are
bounded in entries (``MAX_EMBEDDED_GROUPS``) and in the bytes of their names (``MAX_EMBEDDED_GROUP_BYTES``);
past either bound the item says so and readers use the per-dimension items instead. Status has no
per-dimension items and needs none: its map holds two entries at most (ingest accepts ``success`` and
``error`` only). Items written before it was embedded have no status map, or one that covers only the logs
added since, so a reader trusts it only when its requests add up to the item's.

Attribution dimensions, hours and days only: ``user`` for every log, and ``metadata.<key>`` for each
metadata key the account indexes (``metadata_dimension``); a log without a user or without the key counts
under ``ABSENT_VALUE``, so every log is in exactly one item of each dimension and a grouping's entries add
up to the totals. Values are stored marked (``filters.attributed_value``). They are high-cardinality, so
they are never embedded in the "all" items: a grouping reads one item per bucket and value.

The "all" hour and day items also embed each model's latency sketch (``embedded_sketches``), so
``by_model``, which every stats answer carries with its percentiles, reads one item per bucket rather than
one per bucket and model. Bounded by the sketches' bins (``MAX_EMBEDDED_SKETCH_BINS``): past it the item
drops them and says so (``sketches_overflow``), and readers use the model items, as they do for an item
written before the sketches were embedded (its sketches then count fewer logs than its model counters).
Quarter-hour items go without: time buckets need no per-model percentiles.

Every rollup item also carries value histograms (``domain/histograms``): the counters of its logs per bin
of latency and of cost, which answer totals with a latency or cost bound from the same items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from request_logs.domain.counters import Counters
from request_logs.domain.filters import METADATA_PREFIX, attributed_value
from request_logs.domain.histograms import VALUE_KINDS, bin_of, log_value
from request_logs.domain.log import RequestLog
from request_logs.domain.sketches import Sketch

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
QUARTER_MS = HOUR_MS // 4
GRANULARITIES: dict[str, int] = {"quarter": QUARTER_MS, "hour": HOUR_MS, "day": DAY_MS}
ROLLUP_DIMENSIONS = ("all", "model", "provider", "api_key", "user")
EMBEDDED_GROUPS = ("model", "provider", "status")
MAX_EMBEDDED_GROUPS = 128
# A model or provider name may be 256 characters of up to 4 bytes each: 128 such names per group would take
# the item near DynamoDB's 400 KB limit on their own, so the names' UTF-8 bytes are bounded too. Both bounds
# were halved when the counters gained the token and cost components (bench: rollup_item_bytes_worst_case).
MAX_EMBEDDED_GROUP_BYTES = 8_192
# Groups whose latency sketches ride in the "all" hour and day items, and the bins all of them may hold
# together. A model's day typically fills 100 to 250 bins (1 % accuracy over 100 ms to a minute), so the
# bound keeps a dozen or more models' sketches; at worst (counts of 38 digits) it adds about 70 KB to an
# item (bench: rollup_item_bytes_worst_case).
SKETCHED_GROUPS = ("model",)
MAX_EMBEDDED_SKETCH_BINS = 3_072


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


def embedded_groups(dimension: str) -> tuple[str, ...]:
    """The counter maps an item of ``dimension`` embeds: model, provider and status in the "all" items;
    status in a model's, provider's or key's items, so one of those filters with a status is answered
    from the same items."""
    return EMBEDDED_GROUPS if dimension == "all" else ("status",)


def embedded_sketches(key: RollupKey) -> tuple[str, ...]:
    """The groups whose per-value latency sketches an item embeds: the model's, in "all" hour and day
    items (what ``by_model`` reads over a range)."""
    return SKETCHED_GROUPS if key.dimension == "all" and key.granularity in ("hour", "day") else ()


def metadata_dimension(key: str) -> str:
    """The rollup dimension of an indexed metadata key (named like its filter, ``metadata.<key>``)."""
    return METADATA_PREFIX + key


def dimension_value(log: RequestLog, dimension: str) -> str:
    if dimension == "all":
        return ""
    if dimension == "api_key":
        return log.api_key_id
    if dimension == "user":
        return attributed_value(log.user)
    if dimension.startswith(METADATA_PREFIX):
        return attributed_value((log.metadata or {}).get(dimension[len(METADATA_PREFIX) :]))
    return str(getattr(log, dimension))


def dimensions_of(granularity: str, metadata_keys: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The dimensions kept at ``granularity``: quarter hours for "all" only; hours and days for the fixed
    ones and for each of the account's indexed metadata keys (``metadata_keys``)."""
    if granularity == "quarter":
        return ("all",)
    return ROLLUP_DIMENSIONS + tuple(metadata_dimension(key) for key in metadata_keys)


def rollup_keys_for(log: RequestLog, metadata_keys: tuple[str, ...] = ()) -> list[RollupKey]:
    """Every rollup item one log contributes to (hour and day × each dimension, and its quarter hour);
    ``metadata_keys``: the metadata keys indexed for this log (``store/items.indexed_metadata_keys``)."""
    return [
        RollupKey(
            log.account_id,
            granularity,
            bucket_start(log.created_ms, granularity),
            dimension,
            dimension_value(log, dimension),
        )
        for granularity in GRANULARITIES
        for dimension in dimensions_of(granularity, metadata_keys)
    ]


@dataclass
class Rollup:
    """Counters, percentile sketches and (for "all") embedded per-model/provider counters and per-model
    latency sketches."""

    counters: Counters = field(default_factory=Counters)
    latency: Sketch = field(default_factory=Sketch)
    ttft: Sketch = field(default_factory=Sketch)
    groups: dict[str, dict[str, Counters]] = field(default_factory=dict)
    groups_overflow: bool = False
    # Group → value → latency sketch of its logs (``embedded_sketches``); emptied for good past the bound.
    group_latency: dict[str, dict[str, Sketch]] = field(default_factory=dict)
    sketches_overflow: bool = False
    # Value kind → bin's lower edge → counters of the logs in that bin (domain/histograms).
    histograms: dict[str, dict[str, Counters]] = field(default_factory=dict)

    def add_log(self, log: RequestLog, *, groups: tuple[str, ...], sketched: tuple[str, ...] = ()) -> None:
        """Fold one log in, with its counters embedded in ``groups`` (``embedded_groups`` of the item) and
        its latency in the sketches of ``sketched`` (``embedded_sketches``)."""
        self.counters.add_log(log)
        self.latency.add(log.latency_ms)
        if log.ttft_ms is not None:
            self.ttft.add(log.ttft_ms)
        for kind in VALUE_KINDS:
            value = log_value(kind, log)
            if value is not None:
                single = Counters()
                single.add_log(log)
                self._merge_bin(kind, str(bin_of(kind, value)), single)
        for group in groups:
            single = Counters()
            single.add_log(log)
            self._merge_group(group, str(getattr(log, group)), single)
        if sketched and not self.sketches_overflow:
            for group in sketched:
                self.group_latency.setdefault(group, {}).setdefault(str(getattr(log, group)), Sketch()).add(
                    log.latency_ms
                )
            self._bound_sketches()

    def merge(self, other: Rollup) -> None:
        self.counters.merge(other.counters)
        self.latency.merge(other.latency)
        self.ttft.merge(other.ttft)
        self.groups_overflow = self.groups_overflow or other.groups_overflow
        for group, entries in other.groups.items():
            for value, counters in entries.items():
                self._merge_group(group, value, counters)
        for kind, bins in other.histograms.items():
            for lower, counters in bins.items():
                self._merge_bin(kind, lower, counters)
        self.sketches_overflow = self.sketches_overflow or other.sketches_overflow
        if not self.sketches_overflow:
            for group, sketches in other.group_latency.items():
                for value, sketch in sketches.items():
                    self.group_latency.setdefault(group, {}).setdefault(value, Sketch()).merge(sketch)
        self._bound_sketches()

    def group_breakdown(self, group: str) -> dict[str, Rollup] | None:
        """Per value of ``group``, its counters and latency sketch from the embedded maps; None when they
        do not account for every log of the item (an overflowed map, or one written before sketches were
        embedded), and the per-dimension items must answer instead."""
        entries, sketches = self.groups.get(group), self.group_latency.get(group)
        if self.groups_overflow or self.sketches_overflow or entries is None or sketches is None:
            return None
        if sum(c.requests for c in entries.values()) != self.counters.requests or any(
            value not in sketches or sketches[value].count != counters.requests for value, counters in entries.items()
        ):
            return None
        return {value: Rollup(counters=counters, latency=sketches[value]) for value, counters in entries.items()}

    def _bound_sketches(self) -> None:
        # An overflowed group map cannot say which logs a sketch lacks: the sketches would never be read.
        if (
            self.sketches_overflow
            or self.groups_overflow
            or (
                sum(len(sketch.bins) for sketches in self.group_latency.values() for sketch in sketches.values())
                > MAX_EMBEDDED_SKETCH_BINS
            )
        ):
            self.sketches_overflow = True
            self.group_latency = {}

    def _merge_bin(self, kind: str, lower: str, counters: Counters) -> None:
        # Bounded without a check: a histogram has at most len(EDGES[kind]) bins (about a hundred).
        self.histograms.setdefault(kind, {}).setdefault(lower, Counters()).merge(counters)

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
