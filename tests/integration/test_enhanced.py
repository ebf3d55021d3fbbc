"""GET /api/account/request-logs/enhanced and cursor pagination, against brute force over the messages sent.

The dataset goes through the real ingest and the real stream in two rounds, the way traffic arrives: a
backfill of 40 days (every log of it *late*: ingested long after it was created) at NOW − 2 h, then
fresh traffic on every log shard at NOW − 1 h, each round aggregated, then more fresh traffic at
NOW − 30 min that the aggregator has not seen yet. At NOW the rollups are settled up to 10:00 (the last
applied stamps, minus the settle and lateness windows, floored to the hour), so totals come from rollups
for most of the range and from the logs after it, which include the unaggregated ones. A third account
gets late logs the aggregator has not seen: its totals must fall back to the logs.
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

from request_logs.domain.filters import LogQuery
from request_logs.domain.reads import ReadStats
from request_logs.domain.timeutil import END_OF_TIME_MS
from request_logs.logic.totals import filtered_totals
from tests.conftest import ACCOUNT_A, ACCOUNT_B, DAY_MS, NOW, NOW_MS, sample_messages
from tests.integration import oracle
from tests.integration.oracle import Filters, created_ms, expected_cost, log_id
from tests.integration.shared_stack import SharedStack, aggregate_stream, fresh_messages, shared_stack

PATH = "/api/account/request-logs/enhanced"
LIST = "/api/account/request-logs"
HOUR_MS = 3_600_000
BACKFILL_AT = NOW - timedelta(hours=2)
FRESH_AT = NOW - timedelta(hours=1)
UNAGGREGATED_AT = NOW - timedelta(minutes=30)
ACCOUNT_C = "acct_gamma"
SORTS = ("created_at", "cost", "latency", "tokens")
ORDERS = ("asc", "desc")


@dataclass
class World:
    shared: SharedStack
    messages: list[dict[str, Any]]  # every message ingested so far
    behind_ingested: bool = False


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    a = sample_messages(ACCOUNT_A, count=160, days=40, seed=41, error_rate=0.15)
    b = sample_messages(ACCOUNT_B, count=30, days=40, seed=42)
    c = [{**m, "account_id": ACCOUNT_C} for m in sample_messages(ACCOUNT_B, count=30, days=40, seed=43, error_rate=0.2)]
    with shared_stack() as shared:
        functions, stack = shared.api.functions, shared.stack
        with time_machine.travel(BACKFILL_AT, tick=False):
            assert shared.ingest.messages(a + b + c) == []
            aggregate_stream(functions, stack)
        fresh_ms = oracle.ms_of(FRESH_AT)
        fresh = [
            *fresh_messages(a, fresh_ms, ACCOUNT_A, "req_fresh_a"),
            *fresh_messages(b, fresh_ms, ACCOUNT_B, "req_fresh_b"),
            *fresh_messages(c, fresh_ms, ACCOUNT_C, "req_fresh_c"),
        ]
        with time_machine.travel(FRESH_AT, tick=False):
            assert shared.ingest.messages(fresh) == []
            aggregate_stream(functions, stack)
        unaggregated = fresh_messages(a, oracle.ms_of(UNAGGREGATED_AT), ACCOUNT_A, "req_unaggregated_a")
        with time_machine.travel(UNAGGREGATED_AT, tick=False):
            assert shared.ingest.messages(unaggregated) == []
        yield World(shared, a + b + c + fresh + unaggregated)


# ---------------------------------------------------------------- brute force


def _order_key(message: dict[str, Any], sort: str, order: str) -> tuple[Any, ...]:
    """The documented order in plain terms: value, then creation and id; unpriced logs last either way."""
    if sort == "cost":
        value = expected_cost(message)
    elif sort == "latency":
        value = Decimal(message["latency_ms"])
    elif sort == "tokens":
        value = Decimal(message["input_tokens"] + message["output_tokens"])
    else:
        value = Decimal(created_ms(message))
    tie = (created_ms(message), log_id(message))
    if order == "desc":
        return (value is not None, value or 0, tie)
    return (value is None, value or 0, tie)


def _expected(
    messages: list[dict[str, Any]],
    filters: Filters | None = None,
    *,
    sort: str = "created_at",
    order: str = "desc",
    min_cost: Decimal | None = None,
    max_cost: Decimal | None = None,
    account: str = ACCOUNT_A,
) -> list[dict[str, Any]]:
    matching = oracle.expected_logs(messages, account, NOW_MS, filters)
    if min_cost is not None or max_cost is not None:
        matching = [
            m
            for m in matching
            if (cost := expected_cost(m)) is not None
            and (min_cost is None or cost >= min_cost)
            and (max_cost is None or cost <= max_cost)
        ]
    return sorted(matching, key=lambda m: _order_key(m, sort, order), reverse=order == "desc")


def _expected_summary(matching: list[dict[str, Any]]) -> dict[str, Any]:
    costs = [expected_cost(m) for m in matching]
    priced = [c for c in costs if c is not None]
    total_cost = sum(priced, Decimal(0))
    return {
        "total_cost": total_cost,
        "total_tokens": sum(m["input_tokens"] + m["output_tokens"] for m in matching),
        "requests": len(matching),
        "priced_requests": len(priced),
        "unpriced_requests": len(matching) - len(priced),
        "input_tokens": sum(m["input_tokens"] for m in matching),
        "output_tokens": sum(m["output_tokens"] for m in matching),
        "avg_cost_per_request": (total_cost / len(priced)).quantize(Decimal("1e-12")) if priced else None,
        **oracle.expected_set_components(matching),
    }


def _exact(value: Any) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def _exact_text(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _got_summary(body: dict[str, Any]) -> dict[str, Any]:
    summary = dict(body["summary"])
    for name in ("total_cost", "avg_cost_per_request", *(f"{part}_cost" for part in oracle.COST_PARTS)):
        summary[name] = _exact(summary[name])
    return summary


def _walk(shared: SharedStack, path: str, params: dict[str, Any], *, by: str) -> list[dict[str, Any]]:
    """Every page of a query, by cursor or by offset; returns the pages' bodies."""
    pages: list[dict[str, Any]] = []
    cursor = None
    offset = 0
    while True:
        page_params = dict(params)
        if by == "cursor" and cursor is not None:
            page_params["cursor"] = cursor
        if by == "offset":
            page_params["offset"] = offset
        response = shared.api.get(path, page_params)
        assert response.status == 200, response.body
        pages.append(response.body)
        pagination = response.body["pagination"]
        if not pagination["hasMore"]:
            assert pagination["nextCursor"] is None
            return pages
        cursor = pagination["nextCursor"]
        offset += len(response.body["logs"])
        assert len(pages) < 500, "the walk does not end"


def _ids(pages: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for page in pages for entry in page["logs"]]


# ---------------------------------------------------------------- the spec's example and the log shape


def test_spec_example_most_expensive_first_with_summary_of_everything(world: World) -> None:
    response = world.shared.api.get(PATH, {"sort": "cost", "order": "desc", "limit": 10})
    assert response.status == 200, response.body
    expected = _expected(world.messages, sort="cost", order="desc")
    assert [entry["id"] for entry in response.body["logs"]] == [log_id(m) for m in expected[:10]]
    costs = [_exact(entry["cost"]["total"]) for entry in response.body["logs"]]
    assert costs == sorted(costs, reverse=True)
    assert _got_summary(response.body) == _expected_summary(expected)
    assert response.body["pagination"]["total"] == len(expected)
    assert response.body["pagination"]["hasMore"] is True


def test_each_log_carries_tokens_exact_costs_prices_and_their_source(world: World) -> None:
    pages = _walk(world.shared, PATH, {"limit": 100}, by="cursor")
    by_id = {log_id(m): m for m in world.messages}
    sources = set()
    for page in pages:
        for entry in page["logs"]:
            message = by_id[entry["id"]]
            assert entry["tokens"] == oracle.expected_tokens(message)
            cost = expected_cost(message)
            sources.add(entry["cost_source"])
            if cost is None:
                assert entry["cost"] is None and entry["pricing"] is None
                assert entry["cost_source"] == "unpriced"
                continue
            parts = {name: _exact(value) for name, value in entry["cost"].items()}
            assert parts["total"] == parts["input"] + parts["output"] == cost
            assert {part: parts[part] for part in oracle.COST_PARTS} == oracle.expected_cost_parts(message)
            pricing = dict(entry["pricing"])
            tier = pricing.pop("above_input_tokens")
            prices = {name: _exact(value) for name, value in pricing.items()}
            if message.get("cost") is not None:
                assert entry["cost_source"] == "gateway" and entry["catalog_version"] is None
                reported = message["cost"]
                assert prices == {name: _exact_text(reported.get(name)) for name in prices} and tier is None
            else:
                assert entry["cost_source"] == "catalog" and entry["catalog_version"] == oracle.CATALOG_VERSION
                assert {**prices, "above_input_tokens": tier} == oracle.catalog_prices(
                    message["model"], message["input_tokens"]
                )
    assert sources == {"gateway", "catalog", "unpriced"}, "the dataset must hold every cost source"


DETAIL_FIELDS = (
    "endpoint",
    "method",
    "time_to_first_token_ms",
    "streaming",
    "completed_at",
    "user_agent",
    "ip_address",
    "resolution",
)


def test_each_log_carries_the_single_logs_other_fields(world: World) -> None:
    """What an export's row holds, so that ``rlogs export`` paging this list writes the server's rows."""
    response = world.shared.api.get(PATH, {"status": "error", "limit": 5})
    assert response.status == 200, response.body
    for entry in response.body["logs"]:
        single = world.shared.api.get(f"{LIST}/{entry['id']}")
        assert single.status == 200, single.body
        assert {name: entry[name] for name in DETAIL_FIELDS} == {name: single.body[name] for name in DETAIL_FIELDS}
        assert entry["completed_at"] >= entry["created_at"] and entry["endpoint"].startswith("/")


# ---------------------------------------------------------------- sorts, orders, cursors and offsets


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_and_order_by_cursor_equals_by_offset_equals_brute_force(
    world: World, sort: str, order: str
) -> None:
    params = {"sort": sort, "order": order, "limit": 31}
    by_cursor = _walk(world.shared, PATH, params, by="cursor")
    by_offset = _walk(world.shared, PATH, params, by="offset")
    expected = [log_id(m) for m in _expected(world.messages, sort=sort, order=order)]
    assert _ids(by_cursor) == expected
    assert _ids(by_offset) == expected
    # Cursor pages say where they are, like offset pages do.
    assert [page["pagination"]["offset"] for page in by_cursor] == [page["pagination"]["offset"] for page in by_offset]
    assert {page["pagination"]["total"] for page in by_cursor} == {len(expected)}


@pytest.mark.parametrize("order", ORDERS)
def test_list_endpoint_cursor_walk_equals_offset_walk(world: World, order: str) -> None:
    params = {"limit": 23, "status": "success"}
    by_cursor = _walk(world.shared, LIST, params, by="cursor")
    by_offset = _walk(world.shared, LIST, params, by="offset")
    expected = [log_id(m) for m in oracle.expected_logs(world.messages, ACCOUNT_A, NOW_MS, Filters(status="success"))]
    assert _ids(by_cursor) == _ids(by_offset) == expected


def test_sorted_walk_with_filters(world: World) -> None:
    model = "openai/gpt-4o-mini"
    params = {"sort": "latency", "order": "asc", "model": model, "min_latency": 100, "limit": 5}
    expected = _expected(world.messages, Filters(model=model, min_latency=100), sort="latency", order="asc")
    pages = _walk(world.shared, PATH, params, by="cursor")
    assert _ids(pages) == [log_id(m) for m in expected]
    assert _got_summary(pages[0]) == _expected_summary(expected)


# ---------------------------------------------------------------- cost filters


def _priced_costs(world: World) -> list[Decimal]:
    return sorted(
        {c for m in oracle.expected_logs(world.messages, ACCOUNT_A, NOW_MS) if (c := expected_cost(m)) is not None}
    )


def test_min_and_max_cost_are_inclusive_and_exclude_unpriced(world: World) -> None:
    costs = _priced_costs(world)
    low, high = costs[len(costs) // 4], costs[3 * len(costs) // 4]
    for params, bounds in (
        ({"min_cost": str(low)}, {"min_cost": low}),
        ({"max_cost": str(high)}, {"max_cost": high}),
        ({"min_cost": str(low), "max_cost": str(high)}, {"min_cost": low, "max_cost": high}),
        ({"min_cost": str(low), "max_cost": str(low)}, {"min_cost": low, "max_cost": low}),
        ({"min_cost": "0"}, {"min_cost": Decimal(0)}),
    ):
        expected = _expected(world.messages, sort="cost", order="asc", **bounds)
        pages = _walk(world.shared, PATH, {**params, "sort": "cost", "order": "asc", "limit": 50}, by="cursor")
        assert _ids(pages) == [log_id(m) for m in expected], params
        assert _got_summary(pages[0]) == _expected_summary(expected), params
        assert pages[0]["summary"]["unpriced_requests"] == 0
    exact = world.shared.api.get(PATH, {"min_cost": str(low), "max_cost": str(low)})
    assert exact.body["pagination"]["total"] >= 1  # both bounds inclusive: the log costing exactly `low`


def test_cost_filter_without_sort_pages_newest_first(world: World) -> None:
    costs = _priced_costs(world)
    threshold = costs[len(costs) // 2]
    expected = _expected(world.messages, min_cost=threshold)
    assert _ids(_walk(world.shared, PATH, {"min_cost": str(threshold), "limit": 9}, by="cursor")) == [
        log_id(m) for m in expected
    ]
    assert _ids(_walk(world.shared, PATH, {"min_cost": str(threshold), "limit": 9}, by="offset")) == [
        log_id(m) for m in expected
    ]


# ---------------------------------------------------------------- totals and summaries: rollups or logs

SUMMARY_CASES: list[tuple[str, Filters, bool]] = [
    ("everything", Filters(), True),
    ("status=error", Filters(status="error"), True),
    ("status=success", Filters(status="success"), True),
    ("model", Filters(model="openai/gpt-4o"), True),
    ("provider", Filters(provider="anthropic"), True),
    ("api key", Filters(api_key_id="key_alpha2"), True),
    ("dates", Filters(start_ms=NOW_MS - 20 * DAY_MS - 7 * 60_000, end_ms=NOW_MS - 3 * DAY_MS + 5 * 60_000), True),
    ("model in dates", Filters(model="openai/gpt-4o", start_ms=NOW_MS - 10 * DAY_MS), True),
    ("status and model", Filters(status="success", model="openai/gpt-4o"), True),  # the model items' status map
    ("status and api key", Filters(status="error", api_key_id="key_alpha2"), True),
    ("model and provider", Filters(model="openai/gpt-4o", provider="openai"), False),
    ("latency", Filters(min_latency=500), True),  # the rollups' value histograms (decisions §21)
    ("latency in a model", Filters(model="openai/gpt-4o", max_latency=2000), True),
    ("latency and status", Filters(status="error", min_latency=500), False),
]


def _query_of(filters: Filters, account: str = ACCOUNT_A) -> LogQuery:
    return LogQuery(
        account_id=account,
        # As the API resolves a request without start_date: the default window before its end, or now.
        start_ms=filters.start_ms if filters.start_ms is not None else oracle.default_start(filters.end_ms or NOW_MS),
        end_ms=filters.end_ms or END_OF_TIME_MS,
        status=filters.status,
        model=filters.model,
        provider=filters.provider,
        api_key_id=filters.api_key_id,
        min_latency=filters.min_latency,
        max_latency=filters.max_latency,
    )


def _params_of(filters: Filters) -> dict[str, Any]:
    params: dict[str, Any] = {
        name: getattr(filters, name)
        for name in ("status", "model", "provider", "api_key_id", "min_latency", "max_latency")
        if getattr(filters, name) is not None
    }
    if filters.start_ms is not None:
        params["start_date"] = oracle.iso(filters.start_ms)
    if filters.end_ms is not None:
        params["end_date"] = oracle.iso(filters.end_ms - 1)  # end_date is inclusive to the millisecond
    return params


@pytest.mark.parametrize(("name", "filters", "from_rollups"), SUMMARY_CASES, ids=[c[0] for c in SUMMARY_CASES])
def test_total_and_summary_equal_brute_force_whichever_source(
    world: World, name: str, filters: Filters, from_rollups: bool
) -> None:
    expected = _expected(world.messages, filters)
    assert expected, f"the dataset must hold logs for {name}"
    response = world.shared.api.get(PATH, {**_params_of(filters), "limit": 5})
    assert response.status == 200, response.body
    assert response.body["pagination"]["total"] == len(expected)
    assert _got_summary(response.body) == _expected_summary(expected)
    listed = world.shared.api.get(LIST, {**_params_of(filters), "limit": 5})
    assert listed.body["pagination"]["total"] == len(expected)
    # Which source answered, and that both sources agree on this query.
    reads = ReadStats()
    totals = filtered_totals(_query_of(filters), now_ms=NOW_MS, reads=reads, with_sums=True)
    assert totals.source == ("rollups" if from_rollups else "logs")
    assert totals.counters.requests == len(expected)


def test_rollup_totals_read_buckets_not_logs(world: World) -> None:
    """A 40-day total from rollups reads day and hour items plus the unsettled tail, not every log."""
    matching = oracle.expected_logs(world.messages, ACCOUNT_A, NOW_MS)
    reads = ReadStats()
    totals = filtered_totals(_query_of(Filters()), now_ms=NOW_MS, reads=reads, with_sums=True)
    assert totals.source == "rollups"
    logs_read = ReadStats()
    assert (
        filtered_totals(
            _query_of(Filters(status="success", min_latency=0)), now_ms=NOW_MS, reads=logs_read, with_sums=True
        ).source
        == "logs"
    )
    assert logs_read.items_read >= len(matching)
    # ≤ 90 day items + 2 × 23 hour items + the progress item + 8 shard probes + the tail's logs.
    tail = [m for m in matching if created_ms(m) >= NOW_MS - 2 * HOUR_MS]
    assert reads.items_read <= 90 + 46 + 1 + 8 + len(tail) + 8


# ---------------------------------------------------------------- the aggregator behind

BEHIND_CASES = [
    ("everything", Filters()),
    ("status=error", Filters(status="error")),
    ("model", Filters(model="openai/gpt-4o")),
    ("api key", Filters(api_key_id="key_beta1")),
]


@pytest.fixture
def behind(world: World) -> list[dict[str, Any]]:
    """More logs for account C at NOW, not aggregated: fresh ones, and late ones created days ago."""
    template = [m for m in world.messages if m["account_id"] == ACCOUNT_C]
    fresh = fresh_messages(template, NOW_MS, ACCOUNT_C, "req_behind_fresh")
    rng = random.Random(7)
    late = [
        oracle.variant(rng.choice(template), f"req_behind_late_{n}", NOW_MS - rng.randrange(2, 30) * DAY_MS)
        for n in range(6)
    ]
    if not world.behind_ingested:
        assert world.shared.ingest.messages(fresh + late) == []
        world.behind_ingested = True
    return world.messages + fresh + late


@pytest.mark.parametrize(("name", "filters"), BEHIND_CASES, ids=[c[0] for c in BEHIND_CASES])
def test_totals_stay_exact_while_the_aggregator_is_behind_on_late_logs(
    world: World, behind: list[dict[str, Any]], name: str, filters: Filters
) -> None:
    expected = _expected(behind, filters, account=ACCOUNT_C)
    assert expected
    response = world.shared.api.get(
        PATH, {**_params_of(filters), "limit": 3}, account=ACCOUNT_C, api_key_id="key_beta1"
    )
    assert response.status == 200, response.body
    assert response.body["pagination"]["total"] == len(expected)
    assert _got_summary(response.body) == _expected_summary(expected)
    # Late logs the aggregator may not have applied: the account's totals are read from the logs.
    totals = filtered_totals(_query_of(filters, ACCOUNT_C), now_ms=NOW_MS, reads=ReadStats(), with_sums=True)
    assert totals.source == "logs"


# ---------------------------------------------------------------- cursors: stability and tampering


def test_cursor_walk_neither_duplicates_nor_skips_while_logs_arrive(world: World) -> None:
    """Account B walks newest first while new logs (newer than the walk, and older than its position)
    arrive between pages: every log of the snapshot exactly once, in order, none of the newer ones."""
    shared = world.shared
    params = {"limit": 4}
    first = shared.api.get(LIST, params, account=ACCOUNT_B, api_key_id="key_beta1")
    assert first.status == 200
    snapshot = [log_id(m) for m in oracle.expected_logs(world.messages, ACCOUNT_B, NOW_MS)]
    seen = [entry["id"] for entry in first.body["logs"]]
    cursor = first.body["pagination"]["nextCursor"]
    template = [m for m in world.messages if m["account_id"] == ACCOUNT_B]
    rng = random.Random(99)
    arrived: list[str] = []
    n = 0
    while cursor is not None:
        newer = oracle.variant(rng.choice(template), f"req_arriving_{n}", NOW_MS - 10 + n)
        assert shared.ingest.messages([newer]) == []
        arrived.append(log_id(newer))
        n += 1
        page = shared.api.get(LIST, {**params, "cursor": cursor}, account=ACCOUNT_B, api_key_id="key_beta1")
        assert page.status == 200, page.body
        seen.extend(entry["id"] for entry in page.body["logs"])
        assert page.body["pagination"]["total"] == first.body["pagination"]["total"]
        cursor = page.body["pagination"]["nextCursor"]
    assert seen == [i for i in snapshot if i in set(seen)] and set(snapshot) <= set(seen)
    assert not set(arrived) & set(seen)
    assert len(seen) == len(set(seen))


def _cursor(world: World, path: str = PATH, params: dict[str, Any] | None = None, **caller: Any) -> str:
    response = world.shared.api.get(path, params or {"limit": 3}, **caller)
    cursor = response.body["pagination"]["nextCursor"]
    assert isinstance(cursor, str)
    return cursor


def _assert_cursor_rejected(response: Any) -> None:
    assert response.status == 400, response.body
    assert response.body["error"]["type"] == "invalid_request_error"
    assert response.body["error"]["param"] == "cursor"
    assert "logs" not in response.body


def test_tampered_cursors_are_rejected(world: World) -> None:
    cursor = _cursor(world)
    payload, signature = cursor.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for bad in (
        f"{flipped}.{signature}",
        f"{payload}.{signature[:-1]}",
        f"{payload}.",
        payload,
        "garbage",
        "a.b.c",
        cursor + "x",
        "é" * 10 + "." + signature,
    ):
        _assert_cursor_rejected(world.shared.api.get(PATH, {"limit": 3, "cursor": bad}))


def test_another_accounts_cursor_never_reaches_its_data(world: World) -> None:
    foreign = _cursor(world, account=ACCOUNT_B, api_key_id="key_beta1")
    _assert_cursor_rejected(world.shared.api.get(PATH, {"limit": 3, "cursor": foreign}))


def test_cursor_continues_only_its_own_query(world: World) -> None:
    cursor = _cursor(world, params={"limit": 3, "sort": "cost"})
    for other in ({"sort": "latency"}, {"sort": "cost", "order": "asc"}, {"sort": "cost", "status": "error"}):
        _assert_cursor_rejected(world.shared.api.get(PATH, {"limit": 3, **other, "cursor": cursor}))
    # Same query, other page size: fine.
    assert world.shared.api.get(PATH, {"limit": 7, "sort": "cost", "cursor": cursor}).status == 200
    # The list endpoint's cursor does not continue the enhanced endpoint's walk.
    _assert_cursor_rejected(world.shared.api.get(LIST, {"limit": 3, "cursor": _cursor(world)}))


def test_cursor_and_offset_together_are_rejected(world: World) -> None:
    response = world.shared.api.get(PATH, {"limit": 3, "offset": 3, "cursor": _cursor(world)})
    assert response.status == 400
    assert response.body["error"]["param"] == "offset"


def test_cursors_expire_after_a_day(world: World) -> None:
    cursor = _cursor(world)
    with time_machine.travel(NOW + timedelta(hours=25), tick=False):
        _assert_cursor_rejected(world.shared.api.get(PATH, {"limit": 3, "cursor": cursor}))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"sort": "price"}, "sort"),
        ({"sort": ""}, "sort"),
        ({"order": "up"}, "order"),
        ({"order": "DESC"}, "order"),
        ({"min_cost": "2", "max_cost": "1"}, "min_cost"),
        ({"min_cost": "-1"}, "min_cost"),
        ({"max_cost": "NaN"}, "max_cost"),
        ({"min_cost": "Infinity"}, "min_cost"),
        ({"min_cost": "abc"}, "min_cost"),
        ({"max_cost": "1e999"}, "max_cost"),
        ({"sort": "cost", "offset": "9950", "limit": "100"}, "offset"),
        ({"cursor": ""}, "cursor"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_enhanced_input_is_a_400_naming_the_parameter(world: World, params: dict[str, str], param: str) -> None:
    response = world.shared.api.get(PATH, params)
    assert response.status == 400, response.body
    assert response.body["error"]["type"] == "invalid_request_error"
    assert response.body["error"]["param"] == param
    assert response.body["error"]["message"]
