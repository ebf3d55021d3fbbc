"""Use case of ``GET /api/account/request-logs/stats``: plan the reads, read rollups and edge logs, fold.

The plan (``domain/stats_plan``) cuts the range into day, hour and raw-edge pieces. Every piece becomes
rollups that each lie within one bucket: rollup items as stored, and one rollup per raw edge folded here
from its logs (an edge lies within one hour). Time groupings key those rollups by their bucket; sums
and sketch merges are exact, so any range and grouping is exact and percentiles keep the sketches' 1 %.

``by_model`` is always answered, so its entries carry the same measures, percentiles included, whatever
``group_by`` asks for: from the per-model counters and latency sketches the "all" hour and day items
embed, the same items that are the time buckets (one item per bucket); a bucket whose item cannot say
(too many models, or written before the sketches were embedded) reads its model items instead.
``by_provider`` reads the provider items when asked for.

Time buckets are local to the request's zone. Where its days (weeks, hours) do not start on UTC ones, the
plan is cut at their starts (``stats_plan``): the time buckets then come from the "all" items of that cut
plan (one per hour, where a UTC day item would straddle two local days), while ``by_model`` and
``by_provider`` keep the uncut plan's day items, so a local-time request reads one item per hour of its
range rather than one per hour and model.

``by_user`` and ``by_metadata`` (``group_by=user`` or ``metadata.<key>`` of an indexed key) read their
dimension's items the same way as ``by_provider``: one per bucket and value, so O(buckets × groups in the
range), and the raw edges' logs. Every log is in exactly one item of the dimension (those without a value
under the absent value, ``domain/rollups``), so the entries (the top ``limit`` by requests, the logs
without a value, and one ``other`` entry for the rest) add up to the totals exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from request_logs.domain.counters import Counters
from request_logs.domain.errors import InvalidQuery
from request_logs.domain.filters import DEFAULT_GROUP_LIMIT, METADATA_PREFIX, value_of_attributed
from request_logs.domain.log import RequestLog
from request_logs.domain.reads import ReadStats
from request_logs.domain.rollups import (
    DAY_MS,
    GRANULARITIES,
    HOUR_MS,
    QUARTER_MS,
    Rollup,
    RollupKey,
    dimension_value,
)
from request_logs.domain.stats_plan import (
    DIMENSION_GROUPINGS,
    LAST_PLANNED_MS,
    MAX_HOURLY_BUCKETS,
    TIME_GROUPINGS,
    Piece,
    StatsPlan,
    hourly_buckets,
    iso_week,
    local_bucket_start,
    local_bucket_starts,
    plan_stats,
    raw_logs_retained,
)
from request_logs.domain.timeutil import format_in_zone, local_time, zone_name
from request_logs.logic.attribution import require_indexed
from request_logs.models.logs import ComponentTotals
from request_logs.models.stats import (
    DayStats,
    GroupStats,
    HourStats,
    MetadataStats,
    ModelStats,
    ProviderStats,
    StatsRange,
    StatsResponse,
    StatsSummary,
    UserStats,
    WeekStats,
)
from request_logs.store import logs as log_store
from request_logs.store import stats as stats_store

_ONE_DECIMAL = Decimal("0.1")
# Local buckets are found day by day: with a zone other than UTC, a grouping by time spans at most this.
MAX_LOCAL_RANGE_DAYS = 3_660


@dataclass(frozen=True)
class BucketRollup:
    """A rollup of logs that all lie in the bucket starting at ``bucket_ms`` (an hour or a day)."""

    bucket_ms: int
    rollup: Rollup


@dataclass
class StatsInputs:
    """Everything read for one request, ready to fold."""

    buckets: list[BucketRollup]
    values: dict[str, list[tuple[str, Rollup]]]  # dimension → (value, rollup) pieces
    # An hour a local bucket starts inside, past log retention and without quarter-hour items, counted whole.
    cuts_approximate: bool = False


def get_request_log_stats(
    account_id: str,
    start_ms: int,
    end_ms: int,
    groups: tuple[str, ...],
    *,
    now_ms: int,
    zone: tzinfo = UTC,
    reads: ReadStats | None = None,
    group_limit: int = DEFAULT_GROUP_LIMIT,
) -> StatsResponse:
    """Stats of ``[start_ms, end_ms)`` for the given groupings, time buckets in ``zone``; ``reads`` counts
    DynamoDB items read (benchmarks and tests hold the endpoint to O(buckets) with it). ``group_limit``:
    the top N of a user or metadata grouping."""
    reads = reads if reads is not None else ReadStats()
    pending: list[tuple[str, tuple[int, int]]] = []
    for group in groups:
        if group.startswith(METADATA_PREFIX) and (
            span := require_indexed(account_id, group[len(METADATA_PREFIX) :], reads)
        ):
            pending.append((group, span))
    hourly = "hour" in groups
    if hourly and (buckets := hourly_buckets(start_ms, end_ms)) > MAX_HOURLY_BUCKETS:
        raise InvalidQuery(
            f"group_by=hour answers at most {MAX_HOURLY_BUCKETS} hourly buckets (31 days); this range spans "
            f"{buckets}. Use a shorter range, or group_by=day or week.",
            param="group_by",
        )
    plan = plan_stats(start_ms, end_ms, now_ms=now_ms, hourly=hourly)
    # In UTC, local buckets start where rollup items do: the plan needs no cut.
    time_groups = [group for group in groups if group in TIME_GROUPINGS] if zone is not UTC else []
    if time_groups and min(end_ms, LAST_PLANNED_MS) - start_ms > MAX_LOCAL_RANGE_DAYS * DAY_MS:
        raise InvalidQuery(
            f"With tz other than UTC, group_by={','.join(time_groups)} answers at most {MAX_LOCAL_RANGE_DAYS} "
            "days (ten years): use a shorter range.",
            param="end_date",
        )
    cuts = {cut for group in time_groups for cut in local_bucket_starts(start_ms, end_ms, group, zone)}
    bucket_plan = plan_stats(start_ms, end_ms, now_ms=now_ms, hourly=hourly, cuts=cuts) if cuts else plan
    inputs = read_inputs(
        account_id, plan, groups, now_ms=now_ms, reads=reads, bucket_plan=None if bucket_plan == plan else bucket_plan
    )
    response = build_response(bucket_plan, groups, inputs, zone, group_limit=group_limit)
    notes = [
        f"{group} was indexed after some logs of {format_in_zone(start, zone)} to {format_in_zone(end, zone)} were "
        "stored: until those days are rebuilt (admin rebuild-stats), its entries leave those logs out and add "
        "up to less than the totals."
        for group, (start, end) in pending
        if start < end_ms and end > start_ms
    ]
    if notes:
        note = " ".join(filter(None, [response.range.note, *notes]))
        response.range = response.range.model_copy(update={"note": note})
    return response


def read_inputs(
    account_id: str,
    plan: StatsPlan,
    groups: tuple[str, ...],
    *,
    now_ms: int,
    reads: ReadStats,
    bucket_plan: StatsPlan | None = None,
) -> StatsInputs:
    """Read each piece of the plan: rollup items for hour and day pieces, raw logs for the edges. The time
    buckets come from the same items, or, given a ``bucket_plan`` cut at local bucket starts, from its "all"
    items and raw pieces."""
    dimensions = [d for d in DIMENSION_GROUPINGS if d == "model" or d in groups]
    dimensions += [group for group in groups if _attribution(group)]
    inputs = StatsInputs([], {d: [] for d in dimensions})
    raw_logs: dict[tuple[int, int], list[RequestLog]] = {}  # a raw edge both plans hold is read once

    def logs_of(piece: Piece) -> list[RequestLog]:
        # The plan reads raw logs only where retention leaves all of them visible.
        if (piece.start_ms, piece.end_ms) not in raw_logs:
            raw_logs[piece.start_ms, piece.end_ms] = log_store.logs_in_range(
                account_id, piece.start_ms, piece.end_ms, reads
            )
        return raw_logs[piece.start_ms, piece.end_ms]

    for piece in plan.pieces:
        if piece.source == "raw":
            logs = logs_of(piece)
            if logs and bucket_plan is None:  # an edge without requests must not become an empty bucket entry
                inputs.buckets.append(BucketRollup(piece.start_ms, fold_logs(logs)))
            for dimension in dimensions:
                inputs.values[dimension].extend(fold_logs_by(logs, dimension).items())
            continue
        # One "all" item per bucket gives both the bucket and, from its embedded per-model counters and
        # sketches, by_model; buckets whose item does not account for every log by model read their model
        # items instead (domain/rollups: ``Rollup.group_breakdown``).
        items = stats_store.query_rollups(account_id, piece.source, "all", piece.start_ms, piece.end_ms, reads)
        if bucket_plan is None:
            inputs.buckets.extend(BucketRollup(item.key.bucket_ms, item.rollup) for item in items)
        inputs.values["model"].extend(_models_of(account_id, piece, items, reads))
        for dimension in dimensions:
            if dimension != "model":
                inputs.values[dimension].extend(_dimension_items(account_id, piece, dimension, reads))
    if bucket_plan is None:
        return inputs
    for piece in bucket_plan.pieces:
        if piece.source == "raw":
            if logs := logs_of(piece):
                inputs.buckets.append(BucketRollup(piece.start_ms, fold_logs(logs)))
        elif piece.source != "quarter":
            items = stats_store.query_rollups(account_id, piece.source, "all", piece.start_ms, piece.end_ms, reads)
            inputs.buckets.extend(BucketRollup(item.key.bucket_ms, item.rollup) for item in items)
    quartered = [
        hour
        for piece in bucket_plan.pieces
        if piece.source == "quarter"
        for hour in range(piece.start_ms, piece.end_ms, HOUR_MS)
    ]
    inputs.cuts_approximate = _read_quartered_hours(account_id, quartered, inputs, now_ms=now_ms, reads=reads)
    return inputs


def _read_quartered_hours(
    account_id: str, hours: list[int], inputs: StatsInputs, *, now_ms: int, reads: ReadStats
) -> bool:
    """The time buckets of hours a local bucket starts inside: their quarter-hour "all" items, each in the
    bucket it starts in. Each hour's item is read beside them, since an hour aggregated before quarter
    items existed has none: when the quarters do not add up to it, the hour's logs are read instead while
    retained, else the hour counts whole in the bucket it starts in (True: the answer says so)."""
    if not hours:
        return False

    def key(granularity: str, bucket_ms: int) -> RollupKey:
        return RollupKey(account_id, granularity, bucket_ms, "all", "")

    found = stats_store.load_rollups(
        [key(granularity, bucket) for hour in hours for granularity, bucket in _hour_and_quarters(hour)], reads
    )
    approximate = False
    for hour in hours:
        whole = found.get(key("hour", hour))
        quarters = [found[k] for q in range(hour, hour + HOUR_MS, QUARTER_MS) if (k := key("quarter", q)) in found]
        expected = whole.rollup.counters.requests if whole is not None else 0
        if sum(stored.rollup.counters.requests for stored in quarters) == expected:
            inputs.buckets.extend(BucketRollup(stored.key.bucket_ms, stored.rollup) for stored in quarters)
        elif raw_logs_retained(hour, now_ms):
            logs = log_store.logs_in_range(account_id, hour, hour + HOUR_MS, reads)
            by_quarter = _merge_by((log.created_ms - log.created_ms % QUARTER_MS, fold_logs([log])) for log in logs)
            inputs.buckets.extend(BucketRollup(int(start), rollup) for start, rollup in by_quarter.items())
        elif whole is not None:
            inputs.buckets.append(BucketRollup(hour, whole.rollup))
            approximate = True
    return approximate


def _hour_and_quarters(hour: int) -> list[tuple[str, int]]:
    return [("hour", hour), *(("quarter", quarter) for quarter in range(hour, hour + HOUR_MS, QUARTER_MS))]


def _models_of(
    account_id: str, piece: Piece, items: list[stats_store.StoredRollup], reads: ReadStats
) -> list[tuple[str, Rollup]]:
    """(model, rollup) pieces of a piece's buckets: from the "all" items' embedded maps where they account
    for every log, else from the model items of the runs of buckets where they do not."""
    size = GRANULARITIES[piece.source]
    found: list[tuple[str, Rollup]] = []
    unexplained: list[int] = []  # bucket starts whose model items must answer
    for item in items:
        breakdown = item.rollup.group_breakdown("model")
        if breakdown is None:
            unexplained.append(item.key.bucket_ms)
        else:
            found.extend(breakdown.items())
    for start, end in _runs(unexplained, size):
        model_items = stats_store.query_rollups(account_id, piece.source, "model", start, end, reads)
        found.extend((item.key.value, item.rollup) for item in model_items)
    return found


def _runs(bucket_starts: list[int], size: int) -> list[tuple[int, int]]:
    """Sorted bucket starts as ``[start, end)`` ranges of consecutive buckets: one query each."""
    runs: list[tuple[int, int]] = []
    for start in sorted(bucket_starts):
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], start + size)
        else:
            runs.append((start, start + size))
    return runs


def _dimension_items(account_id: str, piece: Piece, dimension: str, reads: ReadStats) -> list[tuple[str, Rollup]]:
    items = stats_store.query_rollups(account_id, piece.source, dimension, piece.start_ms, piece.end_ms, reads)
    return [(item.key.value, item.rollup) for item in items]


def fold_logs(logs: Iterable[RequestLog]) -> Rollup:
    rollup = Rollup()
    for log in logs:
        rollup.add_log(log, groups=())
    return rollup


def fold_logs_by(logs: Iterable[RequestLog], dimension: str) -> dict[str, Rollup]:
    by_value: dict[str, Rollup] = {}
    for log in logs:
        by_value.setdefault(dimension_value(log, dimension), Rollup()).add_log(log, groups=())
    return by_value


def _merge_measures(into: Rollup, other: Rollup) -> None:
    """Counters and sketches only: the embedded group maps are not needed once items are read."""
    into.counters.merge(other.counters)
    into.latency.merge(other.latency)
    into.ttft.merge(other.ttft)


def _merge_by(pairs: Iterable[tuple[int | str, Rollup]]) -> dict[int | str, Rollup]:
    merged: dict[int | str, Rollup] = {}
    for key, rollup in pairs:
        _merge_measures(merged.setdefault(key, Rollup()), rollup)
    return merged


# ---------------------------------------------------------------- folding into the response (pure)


def _attribution(group: str) -> bool:
    return group == "user" or group.startswith(METADATA_PREFIX)


def build_response(
    plan: StatsPlan,
    groups: tuple[str, ...],
    inputs: StatsInputs,
    zone: tzinfo = UTC,
    *,
    group_limit: int = DEFAULT_GROUP_LIMIT,
) -> StatsResponse:
    overall = Rollup()
    for bucket in inputs.buckets:
        _merge_measures(overall, bucket.rollup)
    arrays: dict[str, list[GroupStats]] = {}

    def local(grouping: str) -> list[tuple[int, Rollup]]:
        return _by_time(inputs.buckets, lambda ms: local_bucket_start(ms, grouping, zone))

    if "hour" in groups:
        arrays["by_hour"] = [
            HourStats(hour=format_in_zone(key, zone), **_measures(rollup)) for key, rollup in local("hour")
        ]
    if "day" in groups:
        arrays["by_day"] = [DayStats(date=_date(key, zone), **_measures(rollup)) for key, rollup in local("day")]
    if "week" in groups:
        arrays["by_week"] = [
            WeekStats(week=iso_week(key, zone).label, start_date=_date(key, zone), **_measures(rollup))
            for key, rollup in local("week")
        ]
    if "model" in inputs.values:
        arrays["by_model"] = [
            ModelStats(model=value, **_measures(rollup)) for value, rollup in _by_value(inputs.values["model"])
        ]
    if "provider" in inputs.values:
        arrays["by_provider"] = [
            ProviderStats(provider=value, **_measures(rollup)) for value, rollup in _by_value(inputs.values["provider"])
        ]
    for group in groups:
        if group == "user":
            arrays["by_user"] = [
                UserStats(user=value, other=other, other_groups=folded, **_measures(rollup))
                for value, other, folded, rollup in _top(inputs.values[group], group_limit)
            ]
        elif group.startswith(METADATA_PREFIX):
            key = group[len(METADATA_PREFIX) :]
            arrays["by_metadata"] = [
                MetadataStats(key=key, value=value, other=other, other_groups=folded, **_measures(rollup))
                for value, other, folded, rollup in _top(inputs.values[group], group_limit)
            ]
    if inputs.cuts_approximate:
        plan = replace(plan, cuts_rounded=True)
    return StatsResponse(stats=_summary(overall), range=_range(plan, zone), **arrays)


def _date(epoch_ms: int, zone: tzinfo) -> str:
    return local_time(epoch_ms, zone).date().isoformat()


def _by_time(buckets: list[BucketRollup], key_of: Callable[[int], int]) -> list[tuple[int, Rollup]]:
    merged = _merge_by((key_of(bucket.bucket_ms), bucket.rollup) for bucket in buckets)
    return sorted(((int(key), rollup) for key, rollup in merged.items()), key=lambda pair: pair[0])


def _by_value(pieces: list[tuple[str, Rollup]]) -> list[tuple[str, Rollup]]:
    """Most requests first (the spec's example), then by name so the order is stable."""
    merged = _merge_by(pieces)
    return sorted(
        ((str(value), rollup) for value, rollup in merged.items()),
        key=lambda pair: (-pair[1].counters.requests, pair[0]),
    )


def _top(pieces: list[tuple[str, Rollup]], limit: int) -> list[tuple[str | None, bool, int | None, Rollup]]:
    """(value, other, groups folded, rollup) entries of an attribution grouping: the ``limit`` values with
    most requests (then by value), the logs without a value (value None), then one ``other`` entry folding
    every value past the top (None when there is none), so the entries add up to the totals."""
    ranked = _by_value(pieces)
    present = [(value_of_attributed(stored), rollup) for stored, rollup in ranked]
    values = [(value, rollup) for value, rollup in present if value is not None]
    absent = [rollup for value, rollup in present if value is None]
    entries: list[tuple[str | None, bool, int | None, Rollup]] = [
        (value, False, None, rollup) for value, rollup in values[:limit]
    ]
    entries += [(None, False, None, rollup) for rollup in absent]
    rest = values[limit:]
    if rest:
        folded = Rollup()
        for _, rollup in rest:
            _merge_measures(folded, rollup)
        entries.append((None, True, len(rest), folded))
    return entries


def _measures(rollup: Rollup) -> dict[str, Any]:
    """The fields every ``by_<group>`` entry shares."""
    counters = rollup.counters
    return {
        "requests": counters.requests,
        "tokens": counters.total_tokens,
        "cost": counters.priced_cost,
        "successful": counters.successful,
        "failed": counters.failed,
        "input_tokens": counters.input_tokens,
        "output_tokens": counters.output_tokens,
        "unpriced_requests": counters.unpriced,
        "avg_latency_ms": _average(counters),
        "p50_latency_ms": _whole_ms(rollup.latency.quantile(0.5)),
        "p95_latency_ms": _whole_ms(rollup.latency.quantile(0.95)),
        "p99_latency_ms": _whole_ms(rollup.latency.quantile(0.99)),
        **ComponentTotals.fields_of(counters),
    }


def _summary(overall: Rollup) -> StatsSummary:
    counters = overall.counters
    return StatsSummary(
        total_requests=counters.requests,
        successful_requests=counters.successful,
        failed_requests=counters.failed,
        success_rate=_success_rate(counters),
        total_tokens=counters.total_tokens,
        input_tokens=counters.input_tokens,
        output_tokens=counters.output_tokens,
        total_cost=counters.priced_cost,
        avg_latency_ms=_average(counters),
        p50_latency_ms=_whole_ms(overall.latency.quantile(0.5)),
        p95_latency_ms=_whole_ms(overall.latency.quantile(0.95)),
        p99_latency_ms=_whole_ms(overall.latency.quantile(0.99)),
        p50_time_to_first_token_ms=_whole_ms(overall.ttft.quantile(0.5)),
        p95_time_to_first_token_ms=_whole_ms(overall.ttft.quantile(0.95)),
        p99_time_to_first_token_ms=_whole_ms(overall.ttft.quantile(0.99)),
        unpriced_requests=counters.unpriced,
        **ComponentTotals.fields_of(counters),
    )


def _success_rate(counters: Counters) -> float | None:
    """Percent with one decimal, half up; None without requests (a rate of nothing is undefined, not 0)."""
    if not counters.requests:
        return None
    rate = (Decimal(counters.successful * 100) / counters.requests).quantize(_ONE_DECIMAL, ROUND_HALF_UP)
    return float(rate)


def _average(counters: Counters) -> int | None:
    """Mean latency in whole ms, half up, in integer arithmetic; None without requests."""
    if not counters.requests:
        return None
    return (2 * counters.latency_sum + counters.requests) // (2 * counters.requests)


def _whole_ms(value: float | None) -> int | None:
    """Half up to whole ms: at most 0.5 ms on top of the sketch's 1 % relative error."""
    return None if value is None else math.floor(value + 0.5)


def _range(plan: StatsPlan, zone: tzinfo) -> StatsRange:
    notes = []
    if plan.start_rounded or plan.end_rounded:
        edges = [edge for edge, rounded in (("start", plan.start_rounded), ("end", plan.end_rounded)) if rounded]
        notes.append(
            f"Request logs are kept 90 days, so the {' and '.join(edges)} of this range, inside an hour past "
            "that, was widened to the whole hour, which the hourly statistics (kept forever) answer exactly."
        )
    if plan.cuts_rounded:
        notes.append(
            "Where a local bucket starts inside an hour past the 90 days logs are kept, that hour's statistics "
            "are counted whole in the bucket the hour starts in."
        )
    return StatsRange(
        start=format_in_zone(plan.start_ms, zone),
        end=format_in_zone(plan.end_ms, zone),
        tz=zone_name(zone),
        rounded=plan.rounded,
        note=" ".join(notes) or None,
    )
