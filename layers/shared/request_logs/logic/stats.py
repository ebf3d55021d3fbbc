"""Use case of ``GET /api/account/request-logs/stats``: plan the reads, read rollups and edge logs, fold.

The plan (``domain/stats_plan``) cuts the range into day, hour and raw-edge pieces. Every piece becomes
rollups that each lie within one bucket: rollup items as stored, and one rollup per raw edge folded here
from its logs (an edge lies within one hour). Time groupings key those rollups by their bucket; sums
and sketch merges are exact, so any range and grouping is exact and percentiles keep the sketches' 1 %.

``by_model`` is always answered, from the model items (one per bucket and model, with sketches), so its
entries carry the same measures, percentiles included, whatever ``group_by`` asks for; the same items,
merged per bucket, are the time buckets (counters add and sketches merge exactly). ``by_provider`` reads
the provider items when asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypedDict

from request_logs.domain.counters import Counters
from request_logs.domain.errors import InvalidQuery
from request_logs.domain.log import RequestLog
from request_logs.domain.reads import ReadStats
from request_logs.domain.rollups import DAY_MS, HOUR_MS, Rollup, dimension_value
from request_logs.domain.stats_plan import (
    DIMENSION_GROUPINGS,
    MAX_HOURLY_BUCKETS,
    Piece,
    StatsPlan,
    floor_to,
    hourly_buckets,
    iso_week,
    plan_stats,
)
from request_logs.domain.timeutil import format_ms, from_ms
from request_logs.models.stats import (
    DayStats,
    GroupStats,
    HourStats,
    ModelStats,
    ProviderStats,
    StatsRange,
    StatsResponse,
    StatsSummary,
    WeekStats,
)
from request_logs.store import logs as log_store
from request_logs.store import stats as stats_store

_ONE_DECIMAL = Decimal("0.1")


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


def get_request_log_stats(
    account_id: str,
    start_ms: int,
    end_ms: int,
    groups: tuple[str, ...],
    *,
    now_ms: int,
    reads: ReadStats | None = None,
) -> StatsResponse:
    """Stats of ``[start_ms, end_ms)`` for the given groupings; ``reads`` counts DynamoDB items read
    (benchmarks and tests hold the endpoint to O(buckets) with it)."""
    hourly = "hour" in groups
    if hourly and (buckets := hourly_buckets(start_ms, end_ms)) > MAX_HOURLY_BUCKETS:
        raise InvalidQuery(
            f"group_by=hour answers at most {MAX_HOURLY_BUCKETS} hourly buckets (31 days); this range spans "
            f"{buckets}. Use a shorter range, or group_by=day or week.",
            param="group_by",
        )
    plan = plan_stats(start_ms, end_ms, now_ms=now_ms, hourly=hourly)
    inputs = read_inputs(account_id, plan, groups, now_ms=now_ms, reads=reads if reads is not None else ReadStats())
    return build_response(plan, groups, inputs)


def read_inputs(
    account_id: str, plan: StatsPlan, groups: tuple[str, ...], *, now_ms: int, reads: ReadStats
) -> StatsInputs:
    """Read each piece of the plan: rollup items for hour and day pieces, raw logs for the edges."""
    dimensions = [d for d in DIMENSION_GROUPINGS if d == "model" or d in groups]
    inputs = StatsInputs([], {d: [] for d in dimensions})
    for piece in plan.pieces:
        if piece.source == "raw":
            # The plan reads raw logs only where retention leaves all of them visible.
            logs = log_store.logs_in_range(account_id, piece.start_ms, piece.end_ms, reads)
            if logs:  # an edge without requests must not become an empty bucket entry
                inputs.buckets.append(BucketRollup(piece.start_ms, fold_logs(logs)))
            for dimension in dimensions:
                inputs.values[dimension].extend(fold_logs_by(logs, dimension).items())
            continue
        # Every log is in exactly one model item of its bucket, so the model items, read for by_model
        # anyway, also give each bucket's rollup: the "all" items would be the same sums read twice.
        by_model = stats_store.query_rollups(account_id, piece.source, "model", piece.start_ms, piece.end_ms, reads)
        inputs.buckets.extend(
            BucketRollup(int(bucket_ms), rollup)
            for bucket_ms, rollup in _merge_by((item.key.bucket_ms, item.rollup) for item in by_model).items()
        )
        inputs.values["model"].extend((item.key.value, item.rollup) for item in by_model)
        for dimension in dimensions:
            if dimension != "model":
                inputs.values[dimension].extend(_dimension_items(account_id, piece, dimension, reads))
    return inputs


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


def build_response(plan: StatsPlan, groups: tuple[str, ...], inputs: StatsInputs) -> StatsResponse:
    overall = Rollup()
    for bucket in inputs.buckets:
        _merge_measures(overall, bucket.rollup)
    arrays: dict[str, list[GroupStats]] = {}
    if "hour" in groups:
        arrays["by_hour"] = [
            HourStats(hour=format_ms(key), **_measures(rollup))
            for key, rollup in _by_time(inputs.buckets, lambda ms: floor_to(ms, HOUR_MS))
        ]
    if "day" in groups:
        arrays["by_day"] = [
            DayStats(date=_date(key), **_measures(rollup))
            for key, rollup in _by_time(inputs.buckets, lambda ms: floor_to(ms, DAY_MS))
        ]
    if "week" in groups:
        arrays["by_week"] = [
            WeekStats(week=iso_week(key).label, start_date=_date(key), **_measures(rollup))
            for key, rollup in _by_time(inputs.buckets, lambda ms: iso_week(ms).start_ms)
        ]
    if "model" in inputs.values:
        arrays["by_model"] = [
            ModelStats(model=value, **_measures(rollup)) for value, rollup in _by_value(inputs.values["model"])
        ]
    if "provider" in inputs.values:
        arrays["by_provider"] = [
            ProviderStats(provider=value, **_measures(rollup)) for value, rollup in _by_value(inputs.values["provider"])
        ]
    return StatsResponse(stats=_summary(overall), range=_range(plan), **arrays)


def _date(epoch_ms: int) -> str:
    return from_ms(epoch_ms).date().isoformat()


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


class _Measures(TypedDict):
    requests: int
    tokens: int
    cost: Decimal | None
    successful: int
    failed: int
    input_tokens: int
    output_tokens: int
    unpriced_requests: int
    avg_latency_ms: int | None
    p50_latency_ms: int | None
    p95_latency_ms: int | None
    p99_latency_ms: int | None


def _measures(rollup: Rollup) -> _Measures:
    """The fields every ``by_<group>`` entry shares."""
    counters = rollup.counters
    fields: _Measures = {
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
    }
    return fields


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


def _range(plan: StatsPlan) -> StatsRange:
    note = None
    if plan.rounded:
        edges = [edge for edge, rounded in (("start", plan.start_rounded), ("end", plan.end_rounded)) if rounded]
        note = (
            f"Request logs are kept 90 days, so the {' and '.join(edges)} of this range, inside an hour past "
            "that, was widened to the whole hour, which the hourly statistics (kept forever) answer exactly."
        )
    return StatsRange(start=format_ms(plan.start_ms), end=format_ms(plan.end_ms), rounded=plan.rounded, note=note)
