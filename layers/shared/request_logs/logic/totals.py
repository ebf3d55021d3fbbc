"""``total`` and ``summary`` of a filtered log list: from the stats rollups where they answer exactly,
by reading the matching logs otherwise (decisions §16).

Rollups answer a time range with at most one of status, model, provider or API key
(``LogQuery.rollup_filter``), at a cost that grows with buckets: day items for whole days, hour items for
whole hours, raw logs for the partial hours at the edges (the stats endpoint's plan). With a latency or
a cost bound (not both) and no status filter, the items' value histograms answer too: the bins wholly
inside the bound from the items, the bins it cuts from the value index (decisions §21). Only the part of
the range the aggregator has settled (``domain/freshness``) comes from rollups; logs created after it
are read. When nothing is settled, or a rollup cannot prove it is complete (an old item without per-status
counters), the whole answer is read from the logs. Both ways give the same numbers; tests hold them to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from request_logs.domain.counters import Counters
from request_logs.domain.filters import LogQuery
from request_logs.domain.freshness import rollups_settled_before
from request_logs.domain.histograms import Bound, CutBin, histogram_complete, split
from request_logs.domain.log import RequestLog
from request_logs.domain.ranges import visible_query
from request_logs.domain.reads import ReadStats
from request_logs.domain.rollups import GRANULARITIES, RollupKey
from request_logs.domain.timeutil import END_OF_TIME_MS
from request_logs.store import logs as log_store
from request_logs.store import stats as stats_store
from request_logs.store.keys import LOG_SHARDS
from request_logs.store.stats import StoredRollup
from request_logs.store.value_index import ValueRange, summarize_value_range


@dataclass(frozen=True)
class Totals:
    """Counters of every log a query matches; ``source`` says how they were obtained.

    ``bound_selectivity``: with a latency or cost bound answered from rollups, the share of the logs the
    query matches without its bound that the bound keeps (from the rollup items, free). A page reader uses
    it to price reading by time with the bound as a filter against reading the bound's value index.
    """

    counters: Counters
    source: Literal["rollups", "logs", "page"]
    bound_selectivity: float | None = None


def filtered_totals(query: LogQuery, *, now_ms: int, reads: ReadStats, with_sums: bool) -> Totals:
    """Exact totals of the logs of ``query`` that retention leaves visible."""
    visible = visible_query(query, now_ms=now_ms)
    if visible is None:
        return Totals(Counters(), "logs")  # nothing visible: nothing to read
    return visible_totals(visible, now_ms=now_ms, reads=reads, with_sums=with_sums)


def visible_totals(visible: LogQuery, *, now_ms: int, reads: ReadStats, with_sums: bool) -> Totals:
    """Exact totals of ``visible``, a query already narrowed by ``ranges.visible_query``; with
    ``with_sums`` False only ``counters.requests`` is needed."""
    from_rollups = rollup_totals(visible, now_ms=now_ms, reads=reads)
    if from_rollups is not None:
        return from_rollups
    return log_totals(visible, now_ms=now_ms, reads=reads, with_sums=with_sums)


def log_totals(visible: LogQuery, *, now_ms: int, reads: ReadStats, with_sums: bool) -> Totals:
    """Exact totals of ``visible`` by reading its logs (counting them only, without ``with_sums``)."""
    if with_sums:
        return Totals(log_store.summarize_logs(visible, reads, now_ms=now_ms), "logs")
    return Totals(Counters(requests=log_store.count_logs(visible, reads, now_ms=now_ms)), "logs")


def page_totals(logs: list[RequestLog]) -> Totals:
    """Exact totals of a query whose first page holds every log it matches (nothing more to read)."""
    counters = Counters()
    for log in logs:
        counters.add_log(log)
    return Totals(counters, "page")


def rollup_totals(query: LogQuery, *, now_ms: int, reads: ReadStats) -> Totals | None:
    """Exact totals of ``query`` (already visible) from the rollups, or None where they cannot answer."""
    bound = query.value_bound()
    if bound is None and (query.filters_latency or query.filters_cost):
        return None  # latency and cost bounds together: no one histogram answers both
    rollup_filter = (query.without_value_bounds() if bound is not None else query).rollup_filter()
    if rollup_filter is None or (bound is not None and rollup_filter.status is not None):
        return None  # histograms are kept per item, not per status inside it
    start_ms, end_ms = query.start_ms, query.end_ms
    progress = stats_store.load_progress(query.account_id, reads)
    if not progress.applied_stamps:
        return None  # the aggregator has applied nothing of this account yet
    if len(progress.applied_stamps) == LOG_SHARDS:
        # Every shard has a stamp: no probe needed (a shard whose logs all expired only holds the horizon
        # back, which is safe).
        shards = frozenset(progress.applied_stamps)
    else:
        whole_account = visible_query(LogQuery(query.account_id, 0, END_OF_TIME_MS), now_ms=now_ms)
        shards = log_store.shards_with_logs(whole_account, reads) if whole_account is not None else frozenset()
    settled_ms = rollups_settled_before(progress, shards, end_ms)
    if settled_ms is None or settled_ms <= start_ms:
        return None
    # Imported here: a cold start that never gets this far (no rollups yet) does not load the stats plan.
    from request_logs.domain.stats_plan import plan_stats

    plan = plan_stats(start_ms, min(end_ms, settled_ms), now_ms=now_ms, hourly=False)
    if plan.rounded:
        return None  # an edge past retention: rollups would count logs the list no longer shows
    bucket_keys: list[RollupKey] = []
    total = Counters()
    for piece in plan.pieces:
        if piece.source == "raw":
            piece_query = replace(query, start_ms=piece.start_ms, end_ms=piece.end_ms)
            total.merge(log_store.summarize_logs(piece_query, reads, now_ms=now_ms))
            continue
        size = GRANULARITIES[piece.source]
        bucket_keys.extend(
            RollupKey(query.account_id, piece.source, bucket, rollup_filter.dimension, rollup_filter.value)
            for bucket in range(piece.start_ms, piece.end_ms, size)
        )
    found = stats_store.load_rollups(bucket_keys, reads)
    from_items = (
        _filtered_counters(found, rollup_filter.status)
        if bound is None
        else _within_bound(query, bound, bucket_keys, found, now_ms, reads)
    )
    if from_items is None:
        return None
    total.merge(from_items)
    if plan.end_ms < end_ms:
        unsettled = replace(query, start_ms=plan.end_ms, end_ms=end_ms)
        total.merge(log_store.summarize_logs(unsettled, reads, now_ms=now_ms))
    selectivity = None
    if bound is not None:
        unbounded = sum(stored.rollup.counters.requests for stored in found.values())
        selectivity = from_items.requests / unbounded if unbounded else None
    return Totals(total, "rollups", selectivity)


def _filtered_counters(found: Mapping[RollupKey, StoredRollup], status: str | None) -> Counters | None:
    """The counters of the items, or of one status inside them; None when an item cannot tell."""
    total = Counters()
    for stored in found.values():
        if status is None:
            total.merge(stored.rollup.counters)
            continue
        by_status = stored.rollup.groups.get("status", {})
        # Items written before per-status counters existed cannot answer a status filter.
        if (
            stored.rollup.groups_overflow
            or sum(c.requests for c in by_status.values()) != stored.rollup.counters.requests
        ):
            return None
        if status in by_status:
            total.merge(by_status[status])
    return total


def _within_bound(
    query: LogQuery,
    bound: Bound,
    bucket_keys: list[RollupKey],
    found: Mapping[RollupKey, StoredRollup],
    now_ms: int,
    reads: ReadStats,
) -> Counters | None:
    """Counters of the logs of the rollup buckets that are inside the query's latency or cost bound: the
    histogram bins wholly inside, plus the logs of the bins the bound cuts, read from the value index over
    the buckets' span (the same bound cuts the same bins in every bucket). None when an item's histogram
    is incomplete (written before histograms existed)."""
    total = Counters()
    cut: set[CutBin] = set()
    for stored in found.values():
        counters = stored.rollup.counters
        histogram = stored.rollup.histograms.get(bound.kind, {})
        expected = counters.requests - (counters.unpriced if bound.kind == "cost" else 0)
        if not histogram_complete(histogram, expected):
            return None
        parts = split(histogram, bound)
        total.merge(parts.inside)
        cut.update(parts.cut)
    if cut:
        span_start = min(key.bucket_ms for key in bucket_keys)
        span_end = max(key.bucket_ms + GRANULARITIES[key.granularity] for key in bucket_keys)
        # The buckets are contiguous (the plan's rollup pieces lie between its raw edges).
        base = replace(query.without_value_bounds(), start_ms=span_start, end_ms=span_end)
        for piece in sorted(cut, key=lambda c: c.low):
            bounds = ValueRange(piece.low) if piece.high is None else ValueRange(piece.low, piece.high)
            total.merge(summarize_value_range(base, bound.kind, bounds, reads, now_ms=now_ms))
    return total
