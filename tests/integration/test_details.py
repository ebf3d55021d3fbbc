"""GET /api/account/request-logs/{id}/details: bodies exactly as sent, 404s, 410 past the 30-day content
retention while the log itself lives 90 days, and bodies too big for an item spilled to S3 intact."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
import time_machine

from request_logs.config import get_settings
from tests.conftest import ACCOUNT_A, ACCOUNT_B, DAY_MS, NOW, NOW_MS, sample_messages
from tests.integration import oracle
from tests.integration.shared_stack import SharedStack, shared_stack

PATH = "/api/account/request-logs"
DYNAMODB_ITEM_LIMIT = 400 * 1024

UNUSUAL_REQUEST = {
    "model": "openai/gpt-4o",
    "messages": [
        {"role": "system", "content": "Réponds en français, s'il te plaît. 日本語も OK 🎉"},
        {"role": "user", "content": 'Quotes " and \\ backslashes, tab\t, newline\n, NUL-ish \u0001 and \u2028.'},
    ],
    "temperature": 0.1,
    "top_p": 1.0,
    "max_tokens": 100,
    "seed": 2**70,
    "logit_bias": {"50256": -100, "ü": 0.333333333333333314829616256247},
    "tiny": 1e-7,
    "huge": 1.5e300,
    "flags": [True, False, None, [], {}],
    "empty": "",
}
UNUSUAL_RESPONSE = {
    "id": "chatcmpl-ünïcødé",
    "choices": [{"message": {"role": "assistant", "content": "La capitale est Paris. 🗼"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 25, "completion_tokens": 8, "total_tokens": 33},
}


def _incompressible(chars: int, seed: int) -> str:
    return base64.b64encode(random.Random(seed).randbytes(chars * 3 // 4)).decode()[:chars] + " é"


def _dataset() -> dict[str, dict[str, Any]]:
    base = sample_messages(ACCOUNT_A, count=12, days=5, seed=41, error_rate=0.3)
    success = next(m for m in base if m["status"] == "success")
    failure = next(m for m in base if m["status"] == "error")
    big_request = {"messages": [{"role": "user", "content": _incompressible(600_000, 1)}]}
    medium = 330_000  # two of these compress to more than the inline budget, one alone does not
    return {
        "plain": success,
        "error": failure,
        "unusual": oracle.variant(
            success, "req_unusual", NOW_MS - 2 * DAY_MS, request=UNUSUAL_REQUEST, response=UNUSUAL_RESPONSE
        ),
        "no_response": oracle.variant(success, "req_no_response", NOW_MS - 2 * DAY_MS + 1, response=None),
        "content_expired": oracle.variant(success, "req_forty_days_old", NOW_MS - 40 * DAY_MS),
        "ages": oracle.variant(success, "req_ages", NOW_MS - DAY_MS),
        "big_request": oracle.variant(success, "req_big_request", NOW_MS - 3 * DAY_MS, request=big_request),
        "two_medium": oracle.variant(
            success,
            "req_two_medium",
            NOW_MS - 3 * DAY_MS + 1,
            request={"prompt": _incompressible(medium, 2)},
            response={"completion": _incompressible(medium, 3)},
        ),
        "two_big": oracle.variant(
            success,
            "req_two_big",
            NOW_MS - 3 * DAY_MS + 2,
            request={"prompt": _incompressible(500_000, 4)},
            response={"completion": _incompressible(500_000, 5)},
        ),
        "other_account": sample_messages(ACCOUNT_B, count=1, days=5, seed=42)[0],
    }


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[SharedStack, dict[str, dict[str, Any]]]]:
    messages = _dataset()
    with shared_stack() as shared:
        assert shared.ingest.messages(list(messages.values())) == []
        yield shared, messages


def _details(shared: SharedStack, message: dict[str, Any], **kwargs: Any):
    return shared.api.get(f"{PATH}/{oracle.log_id(message)}/details", **kwargs)


def _metadata(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "latency_ms": message["latency_ms"],
        "cost": oracle.expected_cost(message),
        "created_at": oracle.created_ms(message),
    }


@pytest.mark.parametrize("name", ["plain", "error", "unusual"])
def test_bodies_come_back_exactly_as_sent(world, name: str) -> None:
    shared, messages = world
    message = messages[name]
    response = _details(shared, message)
    assert response.status == 200, response.body
    body = response.body
    assert body["id"] == oracle.log_id(message)
    # Same JSON text: values, types (1 vs 1.0), key order and non-ASCII characters all survive.
    assert json.dumps(body["request"]) == json.dumps(message["request"])
    assert json.dumps(body["response"]) == json.dumps(message["response"])
    metadata = body["metadata"]
    got = {
        "latency_ms": metadata["latency_ms"],
        "cost": None if metadata["cost"] is None else Decimal(repr(metadata["cost"])),
        "created_at": oracle.instant_ms(metadata["created_at"]),
    }
    assert got == _metadata(message)
    assert metadata["created_at"].endswith("Z")


def test_a_request_without_a_response_body_has_response_null(world) -> None:
    shared, messages = world
    body = _details(shared, messages["no_response"]).body
    assert body["response"] is None
    assert body["request"] == messages["no_response"]["request"]


def test_unknown_and_foreign_ids_are_404(world) -> None:
    shared, messages = world
    foreign = messages["other_account"]
    assert _details(shared, foreign, account=ACCOUNT_B, api_key_id="key_beta1").status == 200
    bodies = []
    for log_id in (oracle.log_id(foreign), "log_" + "0" * 27, "nope", "..%2Fdetails"):
        response = shared.api.get(f"{PATH}/{log_id}/details")
        assert response.status == 404, (log_id, response.body)
        assert response.body["error"]["type"] == "not_found_error"
        assert foreign["request_id"] not in json.dumps(response.body)
        bodies.append(json.loads(json.dumps(response.body).replace(log_id, "<id>")))
    # Another account's real id reads exactly like an id that never existed.
    assert all(body == bodies[0] for body in bodies), bodies
    assert bodies[0]["error"]["code"] == "request_log_not_found"


def test_content_past_30_days_is_410_while_the_log_is_still_served(world) -> None:
    shared, messages = world
    message = messages["content_expired"]
    response = _details(shared, message)
    assert response.status == 410
    assert response.body["error"]["type"] == "content_expired"
    assert response.body["error"]["code"] == "content_expired"
    assert set(response.body) == {"error"}
    assert shared.api.get(f"{PATH}/{oracle.log_id(message)}").status == 200


def test_content_and_log_expire_as_the_clock_moves(world) -> None:
    """Created a day before NOW: content until +30 d, log until +90 d (moto never deletes either)."""
    shared, messages = world
    message = messages["ages"]
    created = NOW - timedelta(days=1)
    log_path = f"{PATH}/{oracle.log_id(message)}"
    timeline = [
        (created + timedelta(days=30, seconds=-1), 200, 200),
        (created + timedelta(days=30), 410, 200),
        (created + timedelta(days=60), 410, 200),
        (created + timedelta(days=90, seconds=-1), 410, 200),
        (created + timedelta(days=90), 404, 404),
    ]
    for moment, details_status, log_status in timeline:
        with time_machine.travel(moment, tick=False):
            assert _details(shared, message).status == details_status, moment
            assert shared.api.get(log_path).status == log_status, moment
            listed = shared.api.get(PATH, {"start_date": "2026-11-19", "end_date": "2026-11-19", "limit": 100})
            assert (message["request_id"] in {e["request_id"] for e in listed.body["logs"]}) == (log_status == 200)


def _item_size(item: dict[str, Any]) -> int:
    """An upper bound of DynamoDB's item size: attribute names plus value bytes."""
    size = 0
    for name, value in item.items():
        ((kind, raw),) = value.items()
        size += len(name.encode())
        size += len(raw) if kind == "B" else len(str(raw).encode())
    return size


@pytest.mark.parametrize(
    ("name", "spilled"),
    [("big_request", {"request"}), ("two_medium", {"response"}), ("two_big", {"request", "response"})],
)
def test_bodies_too_big_for_an_item_go_to_s3_and_come_back_intact(world, name: str, spilled: set[str]) -> None:
    shared, messages = world
    message = messages[name]
    log_id = oracle.log_id(message)
    settings = get_settings()
    dynamodb, s3 = boto3.client("dynamodb"), boto3.client("s3")

    response = _details(shared, message)
    assert response.status == 200
    assert response.body["request"] == message["request"]
    assert response.body["response"] == message["response"]

    item = dynamodb.get_item(TableName=settings.content_table, Key={"pk": {"S": f"{ACCOUNT_A}#{log_id}"}})["Item"]
    assert _item_size(item) < DYNAMODB_ITEM_LIMIT
    assert {part for part in ("request", "response") if f"{part}_s3_key" in item} == spilled
    listed = s3.list_objects_v2(Bucket=settings.content_bucket, Prefix=f"content/{ACCOUNT_A}/{log_id}/")
    keys = {obj["Key"] for obj in listed.get("Contents", [])}
    assert keys == {item[f"{part}_s3_key"]["S"] for part in spilled}
    for part in spilled:
        assert f"{part}_gz" not in item
        stored = s3.get_object(Bucket=settings.content_bucket, Key=item[f"{part}_s3_key"]["S"])
        assert stored["ContentLength"] > 200_000  # the big body itself, gzip-compressed
