"""The read endpoints over HTTP through the local gateway, checked against the messages that went in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import LIST, LocalApi

pytestmark = pytest.mark.e2e

SUMMARY_FIELDS = {
    "id",
    "request_id",
    "model",
    "provider",
    "status",
    "status_code",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "created_at",
    "api_key_prefix",
}
DETAIL_FIELDS = SUMMARY_FIELDS | {
    "endpoint",
    "method",
    "time_to_first_token_ms",
    "streaming",
    "completed_at",
    "api_key_id",
    "user_agent",
    "ip_address",
    "resolution",
}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def newest_first(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(messages, key=lambda message: instant(message["created_at"]), reverse=True)


def all_pages(api: LocalApi, params: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """Every log of a filtered list, page by page; the total every page reported."""
    logs: list[dict[str, Any]] = []
    totals = set()
    while True:
        response = api.get(LIST, {**params, "limit": 100, "offset": len(logs)})
        assert response.status_code == 200, response.text
        body = response.json()
        logs += body["logs"]
        totals.add(body["pagination"]["total"])
        if not body["pagination"]["hasMore"]:
            break
    (total,) = totals
    return total, logs


def by_request_id(api: LocalApi, request_id: str) -> dict[str, Any]:
    (message,) = [message for message in api.first_messages if message["request_id"] == request_id]
    return message


def test_list_is_newest_first_with_an_exact_total(local_api: LocalApi) -> None:
    response = local_api.get(LIST, {"limit": 100})

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    cursor = body["pagination"].pop("nextCursor")
    assert isinstance(cursor, str) and cursor
    # No dates: the 30 days before now, the default of every endpoint.
    in_window = local_api.in_default_window(local_api.first_messages)
    assert body["pagination"] == {"total": len(in_window), "limit": 100, "offset": 0, "hasMore": True}
    expected = newest_first(in_window)[:100]
    assert [instant(log["created_at"]) for log in body["logs"]] == [instant(m["created_at"]) for m in expected]
    assert {log["request_id"] for log in body["logs"]} == {message["request_id"] for message in expected}
    assert all(log.keys() >= SUMMARY_FIELDS for log in body["logs"])


def ten_days_ago() -> str:
    return (datetime.now(UTC).date() - timedelta(days=10)).isoformat()


@pytest.mark.parametrize(
    "params",
    [
        {"status": "error"},
        {"provider": "anthropic", "min_latency": "1500"},
        {"model": "openai/gpt-4o", "max_latency": "1000", "status": "success"},
        {"start_date": "TEN_DAYS_AGO", "api_key_id": "SECOND_KEY"},
    ],
    ids=["errors", "provider-slow", "model-fast-successes", "recent-second-key"],
)
def test_filters_match_brute_force(local_api: LocalApi, params: dict[str, str]) -> None:
    params = {
        name: {"TEN_DAYS_AGO": ten_days_ago(), "SECOND_KEY": local_api.first.keys[1].api_key_id}.get(value, value)
        for name, value in params.items()
    }

    def matches(message: dict[str, Any]) -> bool:
        created = instant(message["created_at"])
        return (
            all(
                message[name] == params[name]
                for name in ("status", "model", "provider", "api_key_id")
                if name in params
            )
            and ("min_latency" not in params or message["latency_ms"] >= int(params["min_latency"]))
            and ("max_latency" not in params or message["latency_ms"] <= int(params["max_latency"]))
            and ("start_date" not in params or created.date() >= date.fromisoformat(params["start_date"]))
        )

    # Without start_date, the default window: the 30 days before now.
    candidates = (
        local_api.first_messages if "start_date" in params else local_api.in_default_window(local_api.first_messages)
    )
    expected = newest_first([message for message in candidates if matches(message)])
    assert expected, "the demo data should exercise this filter"
    total, logs = all_pages(local_api, params)

    assert total == len(expected) == len(logs)
    assert [log["request_id"] for log in logs] == [message["request_id"] for message in expected]


def test_single_log_has_the_spec_shape_and_the_message_values(local_api: LocalApi) -> None:
    listed = local_api.get(LIST, {"status": "success", "limit": 100}).json()["logs"]
    # A streamed request of a priced model (the demo data shifts with the day it is generated on, and its
    # unpriced model's logs have cost null, which other tests cover).
    streamed = next(
        log for log in listed if by_request_id(local_api, log["request_id"])["streaming"] and log["cost"] is not None
    )

    response = local_api.get(f"{LIST}/{streamed['id']}")

    assert response.status_code == 200
    log = response.json()
    assert log.keys() >= DETAIL_FIELDS
    message = by_request_id(local_api, log["request_id"])
    for name in (
        "model",
        "provider",
        "endpoint",
        "method",
        "status",
        "status_code",
        "latency_ms",
        "time_to_first_token_ms",
        "input_tokens",
        "output_tokens",
        "streaming",
        "api_key_id",
        "api_key_prefix",
        "user_agent",
        "ip_address",
        "resolution",
    ):
        assert log[name] == message[name], name
    assert log["id"] == streamed["id"]
    assert log["total_tokens"] == message["input_tokens"] + message["output_tokens"]
    assert instant(log["created_at"]) == instant(message["created_at"])
    assert instant(log["completed_at"]) == instant(message["completed_at"])
    assert log["created_at"].endswith("Z")
    assert isinstance(log["cost"], float | int)


def test_details_return_the_prompt_and_completion(local_api: LocalApi) -> None:
    newest = local_api.get(LIST, {"limit": 1}).json()["logs"][0]

    response = local_api.get(f"{LIST}/{newest['id']}/details")

    assert response.status_code == 200
    details = response.json()
    message = by_request_id(local_api, newest["request_id"])
    assert details["id"] == newest["id"]
    assert details["request"] == message["request"]
    assert details["response"] == message["response"]
    assert details["metadata"]["latency_ms"] == message["latency_ms"]
    assert details["metadata"]["cost"] == newest["cost"]
    assert instant(details["metadata"]["created_at"]) == instant(message["created_at"])


def test_error_logs_carry_the_error_object(local_api: LocalApi) -> None:
    _, logs = all_pages(local_api, {"status": "error"})

    assert logs
    for log in logs:
        message = by_request_id(local_api, log["request_id"])
        assert log["status"] == "error"
        assert log["status_code"] == message["status_code"]
        assert log["error"] == message["error"]
        assert set(log["error"]) == {"type", "code", "message"}


def test_enhanced_cursor_walk_over_http_returns_what_offsets_return(local_api: LocalApi) -> None:
    """Every page by cursor, sorted by cost, then the same by offset: the same logs in the same order."""
    path = "/api/account/request-logs/enhanced"
    params = {"sort": "cost", "order": "desc", "limit": 100}
    by_cursor: list[str] = []
    cursor = None
    while True:
        local_api.clock.advance(2)  # one list token a second: stay under the usage plan's rate
        response = local_api.get(path, {**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        by_cursor += [log["id"] for log in body["logs"]]
        cursor = body["pagination"]["nextCursor"]
        if cursor is None:
            break
    by_offset: list[str] = []
    while len(by_offset) < len(by_cursor):
        local_api.clock.advance(2)
        response = local_api.get(path, {**params, "offset": len(by_offset)})
        by_offset += [log["id"] for log in response.json()["logs"]]
    assert by_cursor == by_offset
    assert len(by_cursor) == len(set(by_cursor)) == len(local_api.in_default_window(local_api.first_messages))

    local_api.clock.advance(2)
    tampered = local_api.get(path, {**params, "cursor": body["pagination"]["nextCursor"] or "x.y"})
    assert tampered.status_code == 400
    assert tampered.json()["error"]["param"] == "cursor"
