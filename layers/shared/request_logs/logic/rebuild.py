"""Rebuild: recompute an account's rollups for whole UTC days from the retained logs, for recovery.

For when rollups no longer match the logs: the aggregator gave up on records (its on-failure queue
alarm), or a bug wrote wrong items. Each day is recomputed from scratch, hours and the day itself, and
every item of the day is made equal to the fold of its logs: written when it differs, deleted when no
log supports it, left alone when equal, so a second run writes nothing.

The live aggregator may still write the same items, so the rebuild must never let a log be counted
twice or dropped:

- Per day it reads the current items (consistently) *before* the logs, and writes each item on the
  condition that its version did not change. If the aggregator applied a record in between, the write
  fails and the day starts over: the re-read logs then include that record's log.
- It keeps each item's ``applied`` high-water marks, so records the aggregator already applied stay
  applied and a replay of them is still recognised.
- What conditions cannot catch is a record applied *after* the rebuild wrote, for a log the rebuild
  already counted: the log was in the table, but its stream record had not reached the aggregator yet.
  A record can reach it for at most ``MaximumRecordAgeInSeconds`` after it was written (plus one
  invocation's timeout), so the rebuild refuses days that end later than that before now
  (``settle_seconds``), unless forced once the aggregator is known to be idle. This assumes a log is
  ingested soon after it was created; after redriving old messages from the ingest dead-letter queue,
  wait as long again before rebuilding their days.
- Days any part of which is past log retention (90 days) are refused outright: their logs are gone and
  rebuilding would erase stats that are kept forever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from request_logs.domain.reads import ReadStats
from request_logs.domain.retention import oldest_retained_log_ms
from request_logs.domain.rollups import (
    DAY_MS,
    GRANULARITIES,
    HOUR_MS,
    Rollup,
    RollupKey,
    dimensions_of,
    embedded_groups,
    embedded_sketches,
    rollup_keys_for,
)
from request_logs.domain.timeutil import format_ms
from request_logs.store import api_keys as account_store
from request_logs.store import logs as log_store
from request_logs.store import stats as stats_store
from request_logs.store.stats import StoredRollup, VersionConflict

# DynamoDB Streams keeps records 24 hours: the longest a record can wait when the age is unbounded.
STREAM_RETENTION_SECONDS = 86_400
# A rebuild of a day takes far less than this; no log of the range may expire while it runs.
_RETENTION_MARGIN_MS = HOUR_MS
# Attempts per day when the aggregator keeps writing the day's items (it should not: see the module).
MAX_DAY_ATTEMPTS = 5


class RebuildRefused(ValueError):
    """A range the rebuild cannot make exact: its logs are gone, or may still reach the aggregator."""


class RebuildConflict(RuntimeError):
    """The aggregator kept writing a day's items while the rebuild recomputed them."""


@dataclass(frozen=True)
class RebuildRange:
    account_id: str
    start_ms: int  # a UTC midnight
    end_ms: int  # a UTC midnight, exclusive

    @property
    def hours(self) -> int:
        return (self.end_ms - self.start_ms) // HOUR_MS


@dataclass
class RebuildResult:
    logs_read: int = 0
    written: int = 0
    deleted: int = 0
    unchanged: int = 0


def settle_seconds(maximum_record_age_seconds: int | None, function_timeout_seconds: int) -> int:
    """How long after a log is written its stream record may still be applied by the aggregator."""
    age = STREAM_RETENTION_SECONDS if maximum_record_age_seconds is None else maximum_record_age_seconds
    return age + function_timeout_seconds


def plan_rebuild(
    account_id: str, start_ms: int, end_ms: int, *, now_ms: int, settle_seconds: int, force: bool = False
) -> RebuildRange:
    """The whole UTC days covering ``[start_ms, end_ms)``, or RebuildRefused with the reason."""
    start = start_ms - start_ms % DAY_MS
    end = end_ms if end_ms % DAY_MS == 0 else end_ms - end_ms % DAY_MS + DAY_MS
    if start >= end:
        raise RebuildRefused("the range is empty")
    oldest = oldest_retained_log_ms(now_ms) + _RETENTION_MARGIN_MS
    if start < oldest:
        raise RebuildRefused(
            f"the range starts {format_ms(start)}, but logs created before {format_ms(oldest)} are past their "
            "90-day retention (or will be within the hour): rebuilding would erase stats that are kept forever"
        )
    settled = now_ms - settle_seconds * 1000
    if end > settled and not force:
        raise RebuildRefused(
            f"the range ends {format_ms(end)}, but records of logs written after {format_ms(settled)} may still "
            "reach the aggregator, which would then count them twice; rebuild up to that day, or force it "
            "once the aggregator is idle (iterator age 0, nothing being ingested)"
        )
    return RebuildRange(account_id, start, end)


def rebuild_stats(plan: RebuildRange, *, now_ms: int, progress: Callable[[int], object] | None = None) -> RebuildResult:
    """Make every rollup item of the range equal to the fold of its logs. ``progress(1)`` per hour read.

    The metadata dimensions are those of the keys the account indexes now: after a key's backfill
    (``logic/accounts.index_metadata_key``) every retained log carrying it is indexed under it, so the
    rebuilt items agree with what the aggregator keeps for new logs (``store/items.indexed_metadata_keys``).
    """
    result = RebuildResult()
    account = account_store.get_account(plan.account_id)
    metadata_keys = tuple(sorted(account.metadata_slots)) if account is not None else ()
    for day in range(plan.start_ms, plan.end_ms, DAY_MS):
        _rebuild_day(plan.account_id, day, now_ms, result, progress, metadata_keys)
    return result


def _rebuild_day(
    account_id: str,
    day: int,
    now_ms: int,
    result: RebuildResult,
    progress: Callable[[int], object] | None,
    metadata_keys: tuple[str, ...],
) -> None:
    for attempt in range(MAX_DAY_ATTEMPTS):
        current = _current_items(account_id, day, metadata_keys)
        folded: dict[RollupKey, Rollup] = {}
        reads = ReadStats()
        for hour in range(day, day + DAY_MS, HOUR_MS):
            for log in log_store.logs_in_range(account_id, hour, hour + HOUR_MS, reads):
                for key in rollup_keys_for(log, metadata_keys):
                    folded.setdefault(key, Rollup()).add_log(
                        log, groups=embedded_groups(key.dimension), sketched=embedded_sketches(key)
                    )
            if progress is not None and attempt == 0:
                progress(1)
        try:
            outcome = _write_day(current, folded)
        except VersionConflict:
            continue  # the aggregator wrote one of the items meanwhile: read everything again
        result.logs_read += reads.items_read
        result.written += outcome.written
        result.deleted += outcome.deleted
        result.unchanged += outcome.unchanged
        return
    raise RebuildConflict(f"the items of {format_ms(day)} kept changing during {MAX_DAY_ATTEMPTS} attempts")


def _current_items(account_id: str, day: int, metadata_keys: tuple[str, ...]) -> dict[RollupKey, StoredRollup]:
    """Every item of the day, quarter hours, hours and the day itself, read consistently (a stale version
    would only fail its write, but a stale body could pass for unchanged)."""
    discovered = [
        stored.key
        for granularity in GRANULARITIES
        for dimension in dimensions_of(granularity, metadata_keys)
        for stored in stats_store.query_rollups(account_id, granularity, dimension, day, day + DAY_MS)
    ]
    return stats_store.load_rollups(discovered)


def _write_day(current: dict[RollupKey, StoredRollup], folded: dict[RollupKey, Rollup]) -> RebuildResult:
    outcome = RebuildResult()
    for key in sorted(current.keys() | folded.keys()):
        stored = current.get(key) or StoredRollup(key)
        rollup = folded.get(key)
        if rollup is None:
            stats_store.delete_rollup(key, expected_version=stored.version)
            outcome.deleted += 1
        elif stored.version and stored.rollup == rollup:
            outcome.unchanged += 1
        else:
            replacement = StoredRollup(key, rollup, stored.version + 1, dict(stored.applied))
            stats_store.save_rollup(replacement, expected_version=stored.version)
            outcome.written += 1
    return outcome
