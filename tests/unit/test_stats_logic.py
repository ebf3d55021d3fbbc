"""Folding read rollups into the stats response: rounding rules, ordering, nulls, the rounding note."""

from __future__ import annotations

import json
from decimal import Decimal

from request_logs.domain.counters import Counters
from request_logs.domain.rollups import Rollup
from request_logs.domain.sketches import Sketch
from request_logs.domain.stats_plan import StatsPlan
from request_logs.logic.stats import BucketRollup, StatsInputs, build_response
from request_logs.models import exact_json

HOUR = 3_600_000
DAY = 24 * HOUR
START = 1_793_059_200_000  # 2026-10-27T00:00:00Z


def rollup(requests: int, successful: int, latencies: list[int], cost: str = "0") -> Rollup:
    counters = Counters(
        requests=requests,
        successful=successful,
        failed=requests - successful,
        input_tokens=10 * requests,
        output_tokens=5 * requests,
        cost=Decimal(cost),
        latency_sum=sum(latencies),
    )
    return Rollup(counters=counters, latency=Sketch.of(latencies))


def response(buckets: list[BucketRollup], values: dict | None = None, **plan):
    inputs = StatsInputs(buckets, values or {"model": []})
    return build_response(StatsPlan(START, START + 3 * DAY, (), **plan), ("day",), inputs)


def test_success_rate_rounds_half_up_to_one_decimal() -> None:
    # 1/16 = 6.25 %: half up gives 6.3 where float rounding (banker's or binary) would give 6.2.
    summary = response([BucketRollup(START, rollup(16, 1, [100] * 16))]).stats
    assert summary.success_rate == 6.3
    summary = response([BucketRollup(START, rollup(2000, 1999, [100] * 2000))]).stats
    assert summary.success_rate == 100.0  # 99.95 → 100.0


def test_average_latency_is_whole_ms_half_up() -> None:
    summary = response([BucketRollup(START, rollup(2, 2, [100, 105]))]).stats
    assert summary.avg_latency_ms == 103  # 102.5


def test_no_requests_means_null_rates_and_percentiles_but_zero_counts() -> None:
    result = response([])
    assert result.stats.total_requests == 0
    assert result.stats.success_rate is None
    assert result.stats.avg_latency_ms is None
    assert result.stats.p99_latency_ms is None
    assert result.stats.total_cost is None  # nothing priced: unknown, not zero
    assert result.by_day == [] and result.by_model == []


def test_a_set_nobody_priced_has_no_cost_and_a_partly_priced_one_says_so() -> None:
    unpriced = rollup(3, 3, [100, 200, 300])
    unpriced.counters.unpriced = 3
    partly = rollup(2, 2, [100, 200], "0.25")
    partly.counters.unpriced = 1
    values = {"model": [("free-looking", unpriced), ("half", partly)]}
    result = response([BucketRollup(START, unpriced)], values)
    assert result.stats.total_cost is None and result.stats.unpriced_requests == 3
    by_model = {entry.model: entry for entry in result.by_model or []}
    assert by_model["free-looking"].cost is None and by_model["free-looking"].unpriced_requests == 3
    assert by_model["half"].cost == Decimal("0.25") and by_model["half"].unpriced_requests == 1
    written = json.loads(exact_json.dumps(result.model_dump(mode="json")))
    assert written["stats"]["total_cost"] is None and written["by_model"][0]["cost"] is None  # most requests first


def test_buckets_merge_into_days_and_costs_stay_exact() -> None:
    buckets = [
        BucketRollup(START + 5 * HOUR, rollup(1, 1, [200], "0.1")),
        BucketRollup(START + DAY, rollup(1, 0, [300], "0.2")),  # a day item
        BucketRollup(START + 23 * HOUR, rollup(1, 1, [400], "0.0000001")),
    ]
    result = response(buckets)
    assert [(d.date, d.requests, d.cost) for d in result.by_day or []] == [
        ("2026-10-27", 2, Decimal("0.1000001")),
        ("2026-10-28", 1, Decimal("0.2")),
    ]
    assert result.stats.total_cost == Decimal("0.3000001")
    written = json.loads(exact_json.dumps(result.model_dump(mode="json")), parse_float=Decimal)
    assert written["stats"]["total_cost"] == Decimal("0.3000001")


def test_models_order_by_requests_then_name() -> None:
    values = {"model": [("b", rollup(2, 2, [])), ("a", rollup(2, 2, [])), ("c", rollup(5, 5, []))]}
    result = response([], values)
    assert [entry.model for entry in result.by_model] == ["c", "a", "b"]


def test_every_entry_carries_percentiles_interpolated() -> None:
    values = {"model": [("a", rollup(3, 3, [661, 1058, 1120]))]}
    (entry,) = response([], values).by_model
    assert entry.p50_latency_ms is not None and entry.p99_latency_ms is not None
    assert abs(entry.p50_latency_ms - 1058) <= 1058 * 0.01 + 0.5
    assert abs(entry.p99_latency_ms - 1118.76) <= 1118.76 * 0.01 + 0.5  # near the largest, as numpy has it


def test_a_rounded_range_says_which_edge() -> None:
    rounded = response([], start_rounded=True).range
    assert rounded.rounded is True
    assert rounded.note is not None and "the start of this range" in rounded.note
    exact = response([]).range
    assert exact.rounded is False
    assert exact.note is None
    assert "note" not in exact.model_dump(mode="json")
