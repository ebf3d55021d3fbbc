"""GET /api/account/request-logs against a brute-force filter of the very messages that were ingested.

One dataset per module: two accounts, errors, gateway-priced and unpriced models, a cluster of logs at
the same millisecond spread over shards (ordering then rests on the id), logs on both sides of day
boundaries and of an offset date-time, and logs past retention that moto keeps (it never runs TTL).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from request_logs.store.keys import log_key
from tests.conftest import ACCOUNT_A, ACCOUNT_B, DAY_MS, NOW_MS, sample_messages
from tests.integration import oracle
from tests.integration.oracle import Filters, ms_of
from tests.integration.shared_stack import SharedStack, shared_stack

PATH = "/api/account/request-logs"
DAY = datetime(2026, 11, 12, tzinfo=UTC)  # a day with edge logs at both of its midnights
TIE_MS = ms_of(datetime(2026, 11, 17, 10, 0, tzinfo=UTC))  # whole second: rendered without millis
OFFSET_INSTANT = datetime(2026, 11, 15, 6, 30, tzinfo=UTC)  # 08:30+02:00
EVERYTHING = "2020-01-01"  # a start before every log: the whole retained list, not the 30-day default


def _dataset() -> list[dict[str, Any]]:
    a = sample_messages(ACCOUNT_A, count=90, days=40, seed=5, error_rate=0.12)
    b = sample_messages(ACCOUNT_B, count=20, days=40, seed=6)
    template = next(m for m in a if m["status"] == "success")
    edges = [
        # Same millisecond: order falls to the id (sort key created_ms#id), across shards.
        *(
            oracle.variant(template, f"req_tie_{n}", TIE_MS, model="openai/gpt-4o-mini", provider="openai")
            for n in range(8)
        ),
        oracle.variant(template, "req_day_before_last_ms", ms_of(DAY) - 1),
        oracle.variant(template, "req_day_first_ms", ms_of(DAY)),
        oracle.variant(template, "req_day_last_ms", ms_of(DAY + timedelta(days=1)) - 1),
        oracle.variant(template, "req_day_after_first_ms", ms_of(DAY + timedelta(days=1))),
        oracle.variant(template, "req_offset_exact", ms_of(OFFSET_INSTANT)),
        oracle.variant(template, "req_offset_after", ms_of(OFFSET_INSTANT) + 1),
        # Past retention (moto keeps them: the API must not serve them), and the last retained second.
        oracle.variant(template, "req_expired_long_ago", NOW_MS - 120 * DAY_MS),
        oracle.variant(template, "req_expired_exactly", NOW_MS - 90 * DAY_MS),
        oracle.variant(template, "req_retained_last_second", NOW_MS - 90 * DAY_MS + 1000),
    ]
    return a + b + edges


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[SharedStack, list[dict[str, Any]]]]:
    messages = _dataset()
    with shared_stack() as shared:
        assert shared.ingest.messages(messages) == []
        yield shared, messages


@pytest.fixture(scope="module")
def every_page(world: tuple[SharedStack, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Account A's whole retained list (from a start before any log), walked with limit/offset once and
    reused by several tests."""
    shared, _ = world
    pages, offset = [], 0
    while True:
        response = shared.api.get(PATH, {"start_date": EVERYTHING, "limit": 40, "offset": offset})
        assert response.status == 200, response.body
        pages.append(response.body)
        if not response.body["pagination"]["hasMore"]:
            return pages
        offset += 40


def _expect(messages: list[dict[str, Any]], filters: Filters, account: str = ACCOUNT_A) -> list[dict[str, Any]]:
    return [oracle.summary(m) for m in oracle.expected_logs(messages, account, NOW_MS, filters)]


def _pagination(body: dict[str, Any]) -> dict[str, Any]:
    """The spec's pagination fields; ``nextCursor`` must be a cursor exactly when there is more."""
    pagination = dict(body["pagination"])
    cursor = pagination.pop("nextCursor")
    assert (cursor is not None) == pagination["hasMore"], body["pagination"]
    return pagination


def _got(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [oracle.normalise(entry) for entry in body["logs"]]


def test_dataset_covers_the_cases_the_assertions_rely_on(world) -> None:
    _, messages = world
    visible = oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, Filters(start_ms=0))
    assert sum(m["status"] == "error" for m in visible) >= 5
    assert any(m.get("cost") for m in visible), "no gateway-priced log"
    assert any(oracle.expected_cost(m) is None for m in visible), "no unpriced log"
    assert any(m.get("cost") is None and oracle.expected_cost(m) is not None for m in visible)
    ties = [m for m in visible if oracle.created_ms(m) == TIE_MS]
    assert len({log_key(oracle.log_id(m)).shard for m in ties}) >= 3, "ties should span shards"
    assert len(visible) > 100


def test_default_page_is_the_newest_50(world) -> None:
    shared, messages = world
    expected = _expect(messages, Filters())
    response = shared.api.get(PATH)
    assert response.status == 200
    assert _pagination(response.body) == {"total": len(expected), "limit": 50, "offset": 0, "hasMore": True}
    assert _got(response.body) == expected[:50]


def test_walking_every_page_returns_each_log_once_in_order(world, every_page) -> None:
    _, messages = world
    expected = _expect(messages, Filters(start_ms=0))
    walked = [entry for page in every_page for entry in _got(page)]
    assert walked == expected
    assert len({entry["id"] for entry in walked}) == len(expected)
    for position, page in enumerate(every_page):
        offset = 40 * position
        assert _pagination(page) == {
            "total": len(expected),
            "limit": 40,
            "offset": offset,
            "hasMore": offset + 40 < len(expected),
        }


def test_retention_hides_logs_moto_has_not_deleted(world, every_page) -> None:
    _, messages = world
    listed = {entry["request_id"] for page in every_page for entry in page["logs"]}
    assert "req_retained_last_second" in listed
    assert not {"req_expired_long_ago", "req_expired_exactly"} & listed
    assert every_page[0]["pagination"]["total"] == len(
        oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, Filters(start_ms=0))
    )


def test_error_logs_carry_error_and_success_logs_have_no_error_key(world, every_page) -> None:
    _, messages = world
    by_request = {m["request_id"]: m for m in messages}
    entries = [entry for page in every_page for entry in page["logs"]]
    errors = [entry for entry in entries if entry["status"] == "error"]
    assert errors
    for entry in entries:
        if entry["status"] == "error":
            assert entry["error"] == by_request[entry["request_id"]]["error"]
            assert set(entry["error"]) == {"type", "code", "message"}
        else:
            assert "error" not in entry
        assert set(entry) - {"error"} == oracle.SUMMARY_FIELDS


def test_costs_are_exact_catalog_gateway_or_null(world, every_page) -> None:
    _, messages = world
    by_request = {m["request_id"]: m for m in messages}
    kinds = set()
    for entry in (entry for page in every_page for entry in page["logs"]):
        message = by_request[entry["request_id"]]
        expected = oracle.expected_cost(message)
        if expected is None:
            kinds.add("unpriced")
            assert entry["cost"] is None
            continue
        kinds.add("gateway" if message.get("cost") else "catalog")
        assert Decimal(repr(entry["cost"])) == expected
    assert kinds == {"unpriced", "gateway", "catalog"}


def _instant(text: str) -> int:
    return ms_of(datetime.fromisoformat(text))


NEXT_DAY_MS = ms_of(DAY + timedelta(days=1))
FILTER_CASES: list[tuple[dict[str, Any], Filters]] = [
    ({"model": "openai/gpt-4o"}, Filters(model="openai/gpt-4o")),
    ({"model": "deepseek/deepseek-r1"}, Filters(model="deepseek/deepseek-r1")),
    ({"provider": "anthropic"}, Filters(provider="anthropic")),
    ({"status": "error"}, Filters(status="error")),
    ({"status": "success"}, Filters(status="success")),
    ({"api_key_id": "key_alpha2"}, Filters(api_key_id="key_alpha2")),
    ({"start_date": "2026-11-12"}, Filters(start_ms=ms_of(DAY))),
    ({"end_date": "2026-11-12"}, Filters(end_ms=NEXT_DAY_MS)),
    ({"start_date": "2026-11-12", "end_date": "2026-11-12"}, Filters(start_ms=ms_of(DAY), end_ms=NEXT_DAY_MS)),
    (
        {"start_date": "2026-11-12T00:00:00Z", "end_date": "2026-11-12T23:59:59.999Z"},
        Filters(start_ms=ms_of(DAY), end_ms=NEXT_DAY_MS),
    ),
    (
        {"end_date": "2026-11-15T08:30:00+02:00"},
        Filters(end_ms=ms_of(OFFSET_INSTANT) + 1),
    ),
    ({"start_date": "2026-11-15T08:30:00+02:00"}, Filters(start_ms=ms_of(OFFSET_INSTANT))),
    ({"start_date": "2026-11-15T06:30:00.001"}, Filters(start_ms=ms_of(OFFSET_INSTANT) + 1)),
    ({"min_latency": 2000}, Filters(min_latency=2000)),
    ({"max_latency": 300}, Filters(max_latency=300)),
    ({"min_latency": 500, "max_latency": 900}, Filters(min_latency=500, max_latency=900)),
    ({"status": "error", "provider": "openai"}, Filters(status="error", provider="openai")),
    (
        {"provider": "openai", "model": "openai/gpt-4o-mini"},
        Filters(provider="openai", model="openai/gpt-4o-mini"),
    ),
    (
        {"model": "openai/gpt-4o", "status": "success", "start_date": "2026-11-01", "end_date": "2026-11-16"},
        Filters(
            model="openai/gpt-4o",
            status="success",
            start_ms=_instant("2026-11-01T00:00:00+00:00"),
            end_ms=_instant("2026-11-17T00:00:00+00:00"),
        ),
    ),
    (
        {"api_key_id": "key_alpha2", "min_latency": 600, "end_date": "2026-11-15"},
        Filters(api_key_id="key_alpha2", min_latency=600, end_ms=_instant("2026-11-16T00:00:00+00:00")),
    ),
    (
        {"status": "success", "api_key_id": "key_alpha1", "max_latency": 1000, "provider": "openai"},
        Filters(status="success", api_key_id="key_alpha1", max_latency=1000, provider="openai"),
    ),
]


@pytest.mark.parametrize(("params", "filters"), FILTER_CASES, ids=lambda value: str(value)[:60])
def test_filter_matches_brute_force(world, params: dict[str, Any], filters: Filters) -> None:
    shared, messages = world
    expected = _expect(messages, filters)
    assert expected, "a filter case that matches nothing proves little"
    response = shared.api.get(PATH, {**params, "limit": 100})
    assert response.status == 200, response.body
    assert _pagination(response.body) == {
        "total": len(expected),
        "limit": 100,
        "offset": 0,
        "hasMore": len(expected) > 100,
    }
    assert _got(response.body) == expected[:100]


def test_latency_bounds_are_inclusive(world) -> None:
    shared, messages = world
    target = oracle.expected_logs(messages, ACCOUNT_A, NOW_MS)[3]
    latency = target["latency_ms"]
    expected = _expect(messages, Filters(min_latency=latency, max_latency=latency))
    response = shared.api.get(PATH, {"min_latency": latency, "max_latency": latency})
    assert target["request_id"] in {entry["request_id"] for entry in response.body["logs"]}
    assert _got(response.body) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"model": "nobody/unknown-model"},
        {"api_key_id": "key_beta1"},  # account B's key: account A has no logs with it
        {"start_date": "2026-11-21"},  # after NOW
        {"end_date": "2026-08-01"},  # before retention
        {"status": "error", "min_latency": 10_000_000},
    ],
)
def test_filters_matching_nothing_give_an_empty_exact_page(world, params: dict[str, Any]) -> None:
    shared, _ = world
    response = shared.api.get(PATH, params)
    assert response.status == 200
    assert response.body == {
        "logs": [],
        "pagination": {"total": 0, "limit": 50, "offset": 0, "hasMore": False, "nextCursor": None},
    }


def test_far_future_dates_do_not_wrap_the_sort_key_range(world) -> None:
    """Sort keys hold 13-digit epoch milliseconds (up to the year 2286); later dates must not wrap."""
    shared, messages = world
    everything = _expect(messages, Filters(start_ms=0))
    response = shared.api.get(PATH, {"start_date": EVERYTHING, "end_date": "2300-01-01", "limit": 1})
    assert response.body["pagination"]["total"] == len(everything)
    assert _got(response.body) == everything[:1]
    response = shared.api.get(PATH, {"start_date": "2300-01-01", "end_date": "9000-01-01"})
    assert response.body["pagination"]["total"] == 0
    assert response.body["logs"] == []


def test_walking_a_filtered_list_with_a_small_limit(world) -> None:
    """Pages cut through the same-millisecond cluster: no gap, no duplicate, hasMore exact."""
    shared, messages = world
    expected = _expect(messages, Filters(model="openai/gpt-4o-mini"))
    assert (
        sum(
            oracle.created_ms(m) == TIE_MS
            for m in oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, Filters(start_ms=0))
        )
        == 8
    )
    walked, offset = [], 0
    while True:
        response = shared.api.get(PATH, {"model": "openai/gpt-4o-mini", "limit": 7, "offset": offset})
        body = response.body
        assert _pagination(body) == {
            "total": len(expected),
            "limit": 7,
            "offset": offset,
            "hasMore": offset + 7 < len(expected),
        }
        walked.extend(_got(body))
        if not body["pagination"]["hasMore"]:
            break
        offset += 7
    assert walked == expected


def test_limit_one_and_last_item(world) -> None:
    shared, messages = world
    expected = _expect(messages, Filters(status="error"))
    first = shared.api.get(PATH, {"status": "error", "limit": 1})
    assert _got(first.body) == expected[:1]
    assert _pagination(first.body) == {"total": len(expected), "limit": 1, "offset": 0, "hasMore": True}
    last = shared.api.get(PATH, {"status": "error", "limit": 1, "offset": len(expected) - 1})
    assert _got(last.body) == expected[-1:]
    assert last.body["pagination"]["hasMore"] is False


@pytest.mark.parametrize("extra", [0, 1, 1000])
def test_offset_at_or_past_the_end_gives_an_empty_page_with_exact_total(world, extra: int) -> None:
    shared, messages = world
    total = len(_expect(messages, Filters(status="error")))
    response = shared.api.get(PATH, {"status": "error", "offset": total + extra, "limit": 100})
    assert response.status == 200
    assert response.body == {
        "logs": [],
        "pagination": {"total": total, "limit": 100, "offset": total + extra, "hasMore": False, "nextCursor": None},
    }


def test_another_account_sees_only_its_own_logs(world) -> None:
    shared, messages = world
    expected = _expect(messages, Filters(start_ms=0), account=ACCOUNT_B)
    response = shared.api.get(PATH, {"start_date": EVERYTHING, "limit": 100}, account=ACCOUNT_B, api_key_id="key_beta1")
    assert response.body["pagination"]["total"] == len(expected) == 20
    assert _got(response.body) == expected


def test_without_dates_a_list_covers_the_30_days_before_now_and_a_walk_keeps_its_window(world) -> None:
    """The one default range (stats' too). A walk's window is the first page's: a cursor used after the
    clock moved continues the same logs, and the cursor stays valid."""
    shared, messages = world
    expected = [entry["id"] for entry in _expect(messages, Filters(start_ms=NOW_MS - 30 * DAY_MS))]
    older = _expect(messages, Filters(start_ms=0, end_ms=NOW_MS - 30 * DAY_MS))
    assert older, "the data must hold logs older than the default window"
    first = shared.api.get(PATH, {"limit": 30})
    assert first.body["pagination"]["total"] == len(expected)
    walked = [entry["id"] for entry in first.body["logs"]]
    cursor = first.body["pagination"]["nextCursor"]
    with time_machine.travel(NOW_MS / 1000 + 3 * 3600, tick=False):  # three hours later
        while cursor:
            page = shared.api.get(PATH, {"limit": 30, "cursor": cursor})
            assert page.status == 200, page.body
            walked += [entry["id"] for entry in page.body["logs"]]
            cursor = page.body["pagination"]["nextCursor"]
    assert walked == expected


def test_same_millisecond_logs_are_ordered_by_id_descending(world, every_page) -> None:
    ties = [entry for page in every_page for entry in page["logs"] if entry["request_id"].startswith("req_tie_")]
    assert len(ties) == 8
    assert [entry["id"] for entry in ties] == sorted((entry["id"] for entry in ties), reverse=True)
    assert {entry["created_at"] for entry in ties} == {"2026-11-17T10:00:00Z"}


@pytest.mark.parametrize("minutes_past_the_hour", [1, 37, 59])
def test_the_default_window_starts_on_the_hour_30_days_before_now(world, minutes_past_the_hour: int) -> None:
    """Mid-hour, the window reaches back to the start of the hour 30 days earlier (the hour a rollup
    covers whole): brute force with that start gives the same total and the same logs."""
    shared, messages = world
    now = NOW_MS + minutes_past_the_hour * 60_000
    since = oracle.default_start(now)
    assert since == NOW_MS - 30 * DAY_MS
    with time_machine.travel(now / 1000, tick=False):
        first = shared.api.get(PATH, {"limit": 100})
        ids = [entry["id"] for entry in first.body["logs"]]
        cursor = first.body["pagination"]["nextCursor"]
        while cursor:
            page = shared.api.get(PATH, {"limit": 100, "cursor": cursor})
            ids += [entry["id"] for entry in page.body["logs"]]
            cursor = page.body["pagination"]["nextCursor"]
    expected = oracle.expected_logs(messages, ACCOUNT_A, now)
    assert all(oracle.created_ms(m) >= since for m in expected)
    assert ids == [oracle.log_id(m) for m in expected]
    assert first.body["pagination"]["total"] == len(expected)
