"""GET /api/account/request-logs/{id}: the spec's full shape, equal to the message; 404 that reveals nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from request_logs.domain.ids import make_log_id
from tests.conftest import ACCOUNT_A, ACCOUNT_B, NOW_MS, sample_messages
from tests.integration import oracle
from tests.integration.shared_stack import SharedStack, shared_stack

PATH = "/api/account/request-logs"


def _dataset() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    a = sample_messages(ACCOUNT_A, count=30, days=20, seed=31, error_rate=0.2)
    bare = oracle.variant(
        next(m for m in a if m["status"] == "success"),
        "req_without_optional_fields",
        NOW_MS - 3_600_000,
        time_to_first_token_ms=None,
        user_agent=None,
        ip_address=None,
        resolution=None,
        streaming=False,
    )
    b = sample_messages(ACCOUNT_B, count=3, days=20, seed=32)
    return [*a, bare], b


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[SharedStack, list[dict[str, Any]], list[dict[str, Any]]]]:
    a, b = _dataset()
    with shared_stack() as shared:
        assert shared.ingest.messages(a + b) == []
        yield shared, a, b


def test_every_log_has_the_spec_shape_and_the_message_values(world) -> None:
    shared, a, _ = world
    kinds = set()
    for message in a:
        response = shared.api.get(f"{PATH}/{oracle.log_id(message)}")
        assert response.status == 200, response.body
        body = response.body
        expected_fields = oracle.DETAIL_FIELDS | ({"error"} if message["status"] == "error" else set())
        assert set(body) == expected_fields
        assert oracle.normalise(body) == oracle.detail(message)
        kinds.add(message["status"])
        kinds.add("streaming" if message["streaming"] else "not streaming")
        kinds.add("unpriced" if body["cost"] is None else "priced")
        kinds.add("gateway cost" if message.get("cost") else "catalog cost")
    assert kinds >= {"success", "error", "streaming", "not streaming", "priced", "gateway cost", "catalog cost"}


def test_spec_example_fields_have_the_spec_types(world) -> None:
    shared, a, _ = world
    message = next(m for m in a if m["streaming"] and m["status"] == "success")
    body = shared.api.get(f"{PATH}/{oracle.log_id(message)}").body
    assert re.fullmatch(r"log_[0-9a-f]{27}", body["id"])
    assert isinstance(body["streaming"], bool) and body["streaming"] is True
    assert isinstance(body["time_to_first_token_ms"], int)
    assert isinstance(body["cost"], float)
    assert set(body["resolution"]) == {"gateway_type", "gateway_id", "connection_id"}
    assert body["resolution"] == message["resolution"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", body["completed_at"])
    assert body["total_tokens"] == body["input_tokens"] + body["output_tokens"]


def test_optional_fields_absent_from_the_message_are_null(world) -> None:
    shared, a, _ = world
    message = next(m for m in a if m["request_id"] == "req_without_optional_fields")
    body = shared.api.get(f"{PATH}/{oracle.log_id(message)}").body
    assert body["time_to_first_token_ms"] is None
    assert body["user_agent"] is None
    assert body["ip_address"] is None
    assert body["resolution"] is None
    assert body["streaming"] is False


def test_error_log_carries_the_error_object(world) -> None:
    shared, a, _ = world
    message = next(m for m in a if m["status"] == "error")
    body = shared.api.get(f"{PATH}/{oracle.log_id(message)}").body
    assert body["error"] == message["error"]
    assert body["status_code"] == message["status_code"] >= 400


def _not_found_shape(body: dict[str, Any], log_id: str) -> dict[str, Any]:
    """The body with the echoed id blanked out: every 404 must then be identical."""
    error = dict(body["error"])
    error["message"] = error["message"].replace(log_id, "<id>")
    return {"error": error}


def test_unknown_malformed_and_foreign_ids_are_indistinguishable_404s(world) -> None:
    shared, a, b = world
    real = oracle.log_id(a[0])
    foreign = oracle.log_id(b[0])
    assert shared.api.get(f"{PATH}/{foreign}", account=ACCOUNT_B, api_key_id="key_beta1").status == 200
    candidates = [
        foreign,  # another account's real id
        make_log_id(ACCOUNT_A, "req_never_sent", NOW_MS - 1000),  # well formed, unknown
        make_log_id(ACCOUNT_B, b[0]["request_id"], oracle.created_ms(b[0])),  # B's id, recomputed
        real[:-1],  # truncated
        real + "0",  # too long
        real.upper().replace("LOG_", "log_"),  # upper-case hex
        "log_" + "f" * 27,  # well formed, created far in the future
        "log_abc123",  # the spec's example
        "..",
        "..%2F..%2Fetc%2Fpasswd",
        "log_..%2F" + real[4:],
        "%00",
        "' OR '1'='1",
    ]
    bodies = []
    for candidate in candidates:
        response = shared.api.get(f"{PATH}/{candidate}")
        assert response.status == 404, (candidate, response.body)
        assert response.body["error"]["type"] == "not_found_error"
        assert response.headers.get("Content-Type", "application/json").startswith("application/json")
        bodies.append(_not_found_shape(response.body, candidate))
    assert all(body == bodies[0] for body in bodies), bodies
    assert bodies[0]["error"]["code"] == "request_log_not_found"
    assert bodies[0]["error"].get("param") == "id"


def test_other_account_cannot_read_a_log_it_can_name(world) -> None:
    shared, a, _ = world
    log_id = oracle.log_id(a[0])
    mine = shared.api.get(f"{PATH}/{log_id}")
    theirs = shared.api.get(f"{PATH}/{log_id}", account=ACCOUNT_B, api_key_id="key_beta1")
    assert mine.status == 200
    assert theirs.status == 404
    assert a[0]["request_id"] not in str(theirs.body)


def test_query_parameters_are_not_accepted_on_a_single_log(world) -> None:
    shared, a, _ = world
    response = shared.api.get(f"{PATH}/{oracle.log_id(a[0])}", {"limit": 5})
    assert response.status == 400
    assert response.body["error"]["param"] == "limit"
