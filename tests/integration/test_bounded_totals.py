"""Totals and summaries with a latency or cost bound come from the rollups' value histograms, exactly.

Every bin wholly inside a bound adds its counters; the bin a bound cuts is answered by the logs inside
it, read from the value index. Checked against brute force for bounds on bin edges, inside bins, on
values present several times, with each equality filter the rollups hold, with dates that cut days and
hours, with unaggregated logs after the settled horizon, and on items written before histograms existed
(which must not be trusted). The reads are counted: a bound on an edge reads no log of the settled range,
however many the account has.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from request_logs.config import get_settings
from request_logs.domain.filters import LogQuery
from request_logs.domain.reads import ReadStats
from request_logs.logic.totals import filtered_totals
from request_logs.store.dynamo import dynamodb
from tests.conftest import ACCOUNT_A, ACCOUNT_B, DAY_MS, NOW, NOW_MS, sample_messages
from tests.integration import oracle
from tests.integration.oracle import expected_cost
from tests.integration.shared_stack import SharedStack, aggregate_stream, fresh_messages, shared_stack

LIST = "/api/account/request-logs"
ENHANCED = "/api/account/request-logs/enhanced"
BACKFILL_AT = NOW - timedelta(hours=2)
FRESH_AT = NOW - timedelta(hours=1)
UNAGGREGATED_AT = NOW - timedelta(minutes=30)
ACCOUNT_OLD = "acct_gamma"  # its rollup items lose their histograms, as items written before them would
DAYS = 20


@dataclass
class World:
    shared: SharedStack
    messages: list[dict[str, Any]]


def _on_edges(base: list[dict[str, Any]], account: str) -> list[dict[str, Any]]:
    """Logs whose values sit on and next to bin edges, several of each (equal values)."""
    rng = random.Random(account)
    extra = []
    for n, latency in enumerate([300, 300, 299, 301, 5000, 5000, 4999, 5001, 1234, 1234]):
        created = NOW_MS - rng.randrange(1, DAYS) * DAY_MS - rng.randrange(DAY_MS)
        extra.append(oracle.variant(rng.choice(base), f"req_edge_latency_{n}", created, latency_ms=latency))
    for n, (input_cost, output_cost) in enumerate([("0.006", "0.004"), ("0.006", "0.004"), ("0.01", "0")]):
        created = NOW_MS - rng.randrange(1, DAYS) * DAY_MS - rng.randrange(DAY_MS)
        cost = {"input": input_cost, "output": output_cost, "input_per_million": "1", "output_per_million": "2"}
        extra.append(oracle.variant(rng.choice(base), f"req_edge_cost_{n}", created, cost=cost))
    return [{**message, "account_id": account} for message in extra]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    a = sample_messages(ACCOUNT_A, count=200, days=DAYS, seed=81, error_rate=0.15)
    a += _on_edges(a, ACCOUNT_A)
    b = sample_messages(ACCOUNT_B, count=800, days=DAYS, seed=82, error_rate=0.15)
    b += _on_edges(b, ACCOUNT_B)
    old = [{**m, "account_id": ACCOUNT_OLD} for m in sample_messages(ACCOUNT_B, count=100, days=DAYS, seed=83)]
    with shared_stack() as shared:
        functions, stack = shared.api.functions, shared.stack
        with time_machine.travel(BACKFILL_AT, tick=False):
            assert shared.ingest.messages(a + b + old) == []
            aggregate_stream(functions, stack)
        fresh_ms = oracle.ms_of(FRESH_AT)
        fresh = [
            *fresh_messages(a, fresh_ms, ACCOUNT_A, "req_fresh_a"),
            *fresh_messages(b, fresh_ms, ACCOUNT_B, "req_fresh_b"),
            *fresh_messages(old, fresh_ms, ACCOUNT_OLD, "req_fresh_old"),
        ]
        with time_machine.travel(FRESH_AT, tick=False):
            assert shared.ingest.messages(fresh) == []
            aggregate_stream(functions, stack)
        unaggregated = fresh_messages(a, oracle.ms_of(UNAGGREGATED_AT), ACCOUNT_A, "req_unaggregated_a")
        with time_machine.travel(UNAGGREGATED_AT, tick=False):
            assert shared.ingest.messages(unaggregated) == []
        _drop_histograms(ACCOUNT_OLD)
        yield World(shared, a + b + old + fresh + unaggregated)


def _drop_histograms(account: str) -> None:
    """Every second rollup item of the account as written before histograms existed."""
    client, table = dynamodb(), get_settings().stats_table
    items = [item for page in client.get_paginator("scan").paginate(TableName=table) for item in page["Items"]]
    mine = [item for item in items if item["pk"]["S"].startswith(f"{account}#") and "histograms" in item]
    assert mine
    for item in mine[::2]:
        client.update_item(
            TableName=table, Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="REMOVE histograms"
        )


# ---------------------------------------------------------------- brute force


def _matching(world: World, account: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return oracle.expected_for_params(world.messages, account, NOW_MS, params)


def _check(world: World, account: str, params: dict[str, Any]) -> None:
    key = {ACCOUNT_A: "key_alpha1", ACCOUNT_B: "key_beta1"}.get(account, "key_beta1")
    expected = _matching(world, account, params)
    if "min_cost" not in params and "max_cost" not in params:  # the list has no cost filters (the spec's)
        listed = world.shared.api.get(LIST, {**params, "limit": 1}, account=account, api_key_id=key)
        assert listed.status == 200, listed.body
        assert listed.body["pagination"]["total"] == len(expected), params
    enhanced = world.shared.api.get(ENHANCED, {**params, "limit": 1}, account=account, api_key_id=key)
    assert enhanced.status == 200, enhanced.body
    summary = enhanced.body["summary"]
    priced = [cost for m in expected if (cost := expected_cost(m)) is not None]
    assert summary["requests"] == len(expected), params
    assert summary["priced_requests"] == len(priced), params
    assert oracle.stated_cost(summary["total_cost"]) == oracle.expected_set_cost(priced), params
    assert summary["total_tokens"] == sum(m["input_tokens"] + m["output_tokens"] for m in expected), params
    oracle.assert_components(summary, expected, str(params))


def _costs(world: World, account: str) -> list[Decimal]:
    return sorted(c for m in world.messages if m["account_id"] == account and (c := expected_cost(m)) is not None)


# ---------------------------------------------------------------- exact


BOUNDS = [
    {"min_latency": 5000},  # on an edge
    {"max_latency": 300},  # the bin [300, 400) is cut: its logs at 300 ms are read
    {"min_latency": 301, "max_latency": 4999},  # both inside bins
    {"min_latency": 1234, "max_latency": 1234},  # one value present several times
    {"min_latency": 300, "max_latency": 5000},  # both on edges
    {"min_cost": "0.01"},
    {"max_cost": "0.01"},
    {"min_cost": "0.0001234", "max_cost": "0.0234"},
    {"min_cost": "0"},  # every priced log, none of the unpriced
]
EQUALITY = [
    {},
    {"model": "openai/gpt-4o"},
    {"provider": "anthropic"},
    {"api_key_id": "key_alpha2"},
    {"status": "error"},  # no histograms per status: read through the value index
]


@pytest.mark.parametrize("equality", EQUALITY, ids=lambda e: ",".join(e.values()) or "none")
@pytest.mark.parametrize("bound", BOUNDS, ids=lambda b: ",".join(f"{k}={v}" for k, v in b.items()))
def test_totals_with_a_bound_equal_brute_force(world: World, bound: dict[str, Any], equality: dict[str, str]) -> None:
    _check(world, ACCOUNT_A, {**bound, **equality})


@pytest.mark.parametrize(
    "dates",
    [
        {"start_date": oracle.iso(NOW_MS - 7 * DAY_MS - 5 * 3_600_000 - 123_456)},  # cuts a day and an hour
        {"start_date": oracle.iso(NOW_MS - 3 * DAY_MS - NOW_MS % DAY_MS)},  # a midnight
        {"start_date": oracle.iso(NOW_MS - 2 * 3_600_000)},  # only hours, and the unaggregated logs
    ],
    ids=["cut", "midnight", "recent"],
)
def test_dates_that_cut_days_and_hours(world: World, dates: dict[str, str]) -> None:
    costs = _costs(world, ACCOUNT_A)
    for bound in ({"min_latency": 5000}, {"max_latency": 777}, {"min_cost": str(costs[len(costs) // 2])}):
        _check(world, ACCOUNT_A, {**bound, **dates})


def test_latency_and_cost_bounds_together(world: World) -> None:
    costs = _costs(world, ACCOUNT_A)
    _check(world, ACCOUNT_A, {"min_latency": 1000, "max_cost": str(costs[len(costs) // 3])})


def test_items_without_histograms_are_not_trusted(world: World) -> None:
    costs = _costs(world, ACCOUNT_OLD)
    for bound in ({"min_latency": 5000}, {"max_latency": 300}, {"min_cost": str(costs[len(costs) // 2])}):
        _check(world, ACCOUNT_OLD, bound)


@pytest.mark.parametrize(
    ("equality", "bound"),
    [
        ({"provider": "anthropic"}, {"min_latency": 3000}),
        ({}, {"max_latency": 500}),
        ({}, {"min_cost": Decimal("0.01")}),
    ],
    ids=["provider,min_latency", "max_latency", "min_cost"],
)
def test_the_bounds_selectivity_comes_with_the_totals(
    world: World, equality: dict[str, str], bound: dict[str, Any]
) -> None:
    """Whole settled days: the share of the unbounded query's logs the bound keeps, as brute force counts
    it. A page prices reading by time against reading the value index with it."""
    start, end = NOW_MS - NOW_MS % DAY_MS - 15 * DAY_MS, NOW_MS - NOW_MS % DAY_MS - DAY_MS
    dates = {"start_date": oracle.iso(start), "end_date": oracle.iso(end - 1)}
    query = LogQuery(ACCOUNT_A, start, end, **equality, **bound)
    totals = filtered_totals(query, now_ms=NOW_MS, reads=ReadStats(), with_sums=False)
    kept = len(_matching(world, ACCOUNT_A, {**dates, **equality, **bound}))
    unbounded = len(_matching(world, ACCOUNT_A, {**dates, **equality}))
    assert totals.source == "rollups" and 0 < kept < unbounded
    assert totals.bound_selectivity == pytest.approx(kept / unbounded)
    assert (
        filtered_totals(
            LogQuery(ACCOUNT_A, start, end, **equality), now_ms=NOW_MS, reads=ReadStats(), with_sums=False
        ).bound_selectivity
        is None
    ), "no bound, no selectivity"


# ---------------------------------------------------------------- what it reads


@dataclass
class LogReads:
    items: int = 0

    def record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            self.items += int(parsed.get("ScannedCount", 0))


def _log_reads_of_total(world: World, account: str, params: dict[str, Any]) -> int:
    """Log items (index entries included) read by a one-log page and its total: the page costs about one
    item per day's partition it opens, the total only the logs the rollups cannot answer."""
    key = "key_alpha1" if account == ACCOUNT_A else "key_beta1"
    reads = LogReads()
    events = dynamodb().meta.events
    events.register("after-call.dynamodb", reads.record, unique_id="bounded-totals-reads")
    path = ENHANCED if "min_cost" in params else LIST
    try:
        response = world.shared.api.get(path, {**params, "limit": 1}, account=account, api_key_id=key)
    finally:
        events.unregister("after-call.dynamodb", unique_id="bounded-totals-reads")
    assert response.status == 200
    assert response.body["pagination"]["total"] == len(_matching(world, account, params))
    return reads.items


@pytest.mark.parametrize("bound", [{"min_latency": 1000}, {"max_latency": 2000}, {"min_cost": "0.001"}])
def test_a_bound_on_an_edge_reads_what_the_rollups_cannot_answer_not_the_account(
    world: World, bound: dict[str, Any]
) -> None:
    small, large = _log_reads_of_total(world, ACCOUNT_A, bound), _log_reads_of_total(world, ACCOUNT_B, bound)
    matching_large = len(_matching(world, ACCOUNT_B, bound))
    assert matching_large > 100, "the larger account has many logs inside the bound"
    # The unaggregated tail, the partial hours at the range's edges, the logs at exactly 2000 ms, and the
    # page's own reads: a few dozen, the same for four times the logs.
    assert large <= 2 * small + 20, (small, large)
    assert large < matching_large / 3, (large, matching_large)
