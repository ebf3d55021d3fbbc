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

After the rollups, the batch's progress: per log partition, the latest ingest stamp among the records
that are applied together with every earlier record of the partition, which is what the freshness
horizon (``domain/freshness``) may rely on. A settle marker (``logic/settle``) is such a record without a
log: it gives its partition a stamp and nothing else. The accounts whose late logs the batch applied are
returned, for the handler to ask for settling.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from request_logs.domain.freshness import is_late
from request_logs.domain.rollups import Rollup, RollupKey, embedded_groups, embedded_sketches, rollup_keys_for
from request_logs.store import stats as stats_store
from request_logs.store.stats import StoredRollup, VersionConflict
from request_logs.store.stream_records import StreamLog, stream_log_from

# The use case takes stream records as Lambda delivers them; parsing them is the store's (item format).
__all__ = [
    "AggregationResult",
    "StreamLog",
    "aggregate",
    "applied_stamps",
    "late_stamps",
    "oldest_record_age_ms",
    "stream_log_from",
]

MAX_WRITE_ATTEMPTS = 8


@dataclass
class AggregationResult:
    items_touched: int = 0
    writes: int = 0
    conflicts: int = 0
    failed_sequence_numbers: list[str] = field(default_factory=list)
    progress_writes: int = 0
    progress_failed_accounts: list[str] = field(default_factory=list)  # their applied stamps lag, safely
    # account → stamp of the latest late log applied: where settling is asked for (logic/settle).
    late_stamps: dict[str, int] = field(default_factory=dict)


def _fold(entries: list[StreamLog], key: RollupKey) -> Rollup:
    rollup = Rollup()
    for entry in entries:
        if entry.log is not None:
            rollup.add_log(entry.log, groups=embedded_groups(key.dimension), sketched=embedded_sketches(key))
    return rollup


def _advance(stored: StoredRollup, fresh: list[StreamLog]) -> StoredRollup:
    rollup = Rollup()
    rollup.merge(stored.rollup)
    rollup.merge(_fold(fresh, stored.key))
    applied = dict(stored.applied)
    for entry in fresh:
        applied[entry.partition] = max(applied.get(entry.partition, -1), entry.sequence)
    return StoredRollup(stored.key, rollup, stored.version + 1, applied)


def aggregate(entries: list[StreamLog], unparsed_sequence_numbers: Iterable[str | None] = ()) -> AggregationResult:
    """Fold a batch into the stats table: one conditional write per touched rollup item, then one progress
    write per account.

    ``unparsed_sequence_numbers``: records of the batch that are not in ``entries`` (poison records the
    handler reports itself). Their partition is unknown, so no stamp is taken from any record after them;
    one without a sequence number has no known place at all, and no stamp is taken from the batch.
    """
    by_key: dict[RollupKey, list[StreamLog]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: (e.partition, e.sequence)):
        if entry.log is None:
            continue  # a settle marker: no rollup, only its partition's stamp below
        for key in rollup_keys_for(entry.log, entry.metadata_keys):
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
    # Only now that the rollups are written: a stamp must never run ahead of them. A failed progress write
    # leaves the horizon where it was, which is safe; the next batch moves it.
    failed_sequences = {int(sequence) for sequence in result.failed_sequence_numbers}
    unparsed = {-1 if sequence is None else int(sequence) for sequence in unparsed_sequence_numbers}
    for account_id, stamps in sorted(applied_stamps(entries, failed_sequences, unparsed).items()):
        try:
            stats_store.record_applied_stamps(account_id, stamps)
            result.progress_writes += 1
        except (BotoCoreError, ClientError):
            result.progress_failed_accounts.append(account_id)
    result.late_stamps = late_stamps(entries, failed_sequences)
    return result


def late_stamps(entries: list[StreamLog], failed: set[int]) -> dict[str, int]:
    """account → the latest stamp among the applied late logs of the batch (``freshness.is_late``)."""
    latest: dict[str, int] = {}
    for entry in entries:
        if entry.log is None or entry.stamp is None or entry.sequence in failed:
            continue
        if is_late(entry.log.created_ms, entry.stamp):
            latest[entry.account_id] = max(latest.get(entry.account_id, entry.stamp), entry.stamp)
    return latest


def applied_stamps(entries: list[StreamLog], failed: set[int], unparsed: set[int]) -> dict[str, dict[int, int]]:
    """account → log shard → the latest stamp among the records applied with every earlier one of their
    partition.

    A partition counts only its records before its lowest unapplied one: Lambda re-delivers from there,
    and a stamp past a gap would claim logs that are not in the rollups. An unparsed record may belong to
    any partition, so it cuts them all. Logs ingested before stamps existed have none and give nothing.
    """
    cut_all = min(unparsed, default=None)
    cut: dict[str, int] = {}
    for entry in entries:
        if entry.sequence in failed:
            cut[entry.partition] = min(cut.get(entry.partition, entry.sequence), entry.sequence)
    stamps: dict[str, dict[int, int]] = defaultdict(dict)
    for entry in entries:
        limit = min((c for c in (cut.get(entry.partition), cut_all) if c is not None), default=None)
        stamp = entry.stamp
        if stamp is None or (limit is not None and entry.sequence >= limit):
            continue
        by_shard = stamps[entry.account_id]
        by_shard[entry.shard] = max(by_shard.get(entry.shard, stamp), stamp)
    return dict(stamps)


def oldest_record_age_ms(records: Iterable[dict[str, Any]], now: int) -> int | None:
    """How far behind the stream this batch is: the age of its oldest record, from the second DynamoDB
    stamps on each (``ApproximateCreationDateTime``); None when no record carries one."""
    created = [
        record["dynamodb"]["ApproximateCreationDateTime"]
        for record in records
        if isinstance(record.get("dynamodb"), dict)
        and isinstance(record["dynamodb"].get("ApproximateCreationDateTime"), int | float)
    ]
    if not created:
        return None
    return max(0, now - int(min(created) * 1000))
