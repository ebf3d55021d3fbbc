"""Stream aggregation, exactly once in effect.

A batch of INSERT records is folded in memory into one delta per rollup item (hour and day × all, model,
provider, api key). For each touched item the current item is read; only records above its high-water
mark are applied; counters, merged sketches and the new mark go back in one put conditional on the
item's version. So replays, bisected retries and crashes between writes apply each record to each item
at most once, and records that were not applied are reported as failures so Lambda re-delivers them.
Two shards writing the same item at once lose a version race and simply re-read.

Marks are kept per *log partition* (``account#shard``), not per stream shard: Lambda's stream events do
not name their shard, while DynamoDB Streams delivers the records of one partition key in sequence-number
order (within a shard, and from parent to child shard). An account has ``LOG_SHARDS`` partitions, so an
item never holds more than that many marks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from request_logs.domain.rollups import Rollup, RollupKey, rollup_keys_for
from request_logs.store import stats as stats_store
from request_logs.store.items import StoredLog
from request_logs.store.stats import StoredRollup, VersionConflict

MAX_WRITE_ATTEMPTS = 8


@dataclass(frozen=True)
class StreamLog:
    """One INSERT record: the log, its partition, and its place in the stream."""

    partition: str
    sequence: int
    sequence_number: str  # as Lambda reports it back in batchItemFailures
    log: StoredLog


@dataclass
class AggregationResult:
    items_touched: int = 0
    writes: int = 0
    conflicts: int = 0
    failed_sequence_numbers: list[str] = field(default_factory=list)


def _fold(entries: list[StreamLog], key: RollupKey) -> Rollup:
    rollup = Rollup()
    for entry in entries:
        rollup.add_log(entry.log, embed_groups=key.dimension == "all")
    return rollup


def _advance(stored: StoredRollup, fresh: list[StreamLog]) -> StoredRollup:
    rollup = Rollup()
    rollup.merge(stored.rollup)
    rollup.merge(_fold(fresh, stored.key))
    applied = dict(stored.applied)
    for entry in fresh:
        applied[entry.partition] = max(applied.get(entry.partition, -1), entry.sequence)
    return StoredRollup(stored.key, rollup, stored.version + 1, applied)


def aggregate(entries: list[StreamLog]) -> AggregationResult:
    """Fold a batch into the stats table: one conditional write per touched rollup item."""
    by_key: dict[RollupKey, list[StreamLog]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: (e.partition, e.sequence)):
        for key in rollup_keys_for(entry.log):
            by_key[key].append(entry)
    result = AggregationResult(items_touched=len(by_key))
    pending = set(by_key)
    failed: set[RollupKey] = set()
    for _ in range(MAX_WRITE_ATTEMPTS):
        if not pending:
            break
        current = stats_store.load_rollups(pending)
        retry: set[RollupKey] = set()
        for key in sorted(pending):
            stored = current.get(key) or StoredRollup(key)
            fresh = [e for e in by_key[key] if e.sequence > stored.applied_through(e.partition)]
            if not fresh:
                continue  # a replay: everything here was applied before
            try:
                stats_store.save_rollup(_advance(stored, fresh), expected_version=stored.version)
                result.writes += 1
            except VersionConflict:
                result.conflicts += 1
                retry.add(key)
        pending = retry
    failed |= pending
    # Lambda re-delivers from the lowest reported sequence number: every record of a failed item.
    result.failed_sequence_numbers = sorted({entry.sequence_number for key in failed for entry in by_key[key]}, key=int)
    return result
