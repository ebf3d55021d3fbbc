"""Retention: logs 90 days, content 30 days. DynamoDB deletes expired items lazily and moto never runs
TTL at all, so expired items are still in the tables here and every read must hide them itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from request_logs.config import get_settings
from tests.conftest import ACCOUNT_A, DAY_MS, NOW_MS, sample_messages
from tests.integration import oracle
from tests.integration.oracle import Filters
from tests.integration.shared_stack import SharedStack, shared_stack

PATH = "/api/account/request-logs"
AGES_DAYS = {"d100": 100, "d91": 91, "d90": 90, "d89": 89, "d31": 31, "d29": 29, "d1": 1}


def _dataset() -> dict[str, dict[str, Any]]:
    success, error = (
        next(m for m in sample_messages(ACCOUNT_A, count=40, days=5, seed=51, error_rate=0.3) if m["status"] == status)
        for status in ("success", "error")
    )
    messages = {}
    for name, days in AGES_DAYS.items():
        created = NOW_MS - days * DAY_MS - 877  # with milliseconds, to check TTL rounding
        messages[name] = oracle.variant(success, f"req_{name}", created, api_key_id="key_alpha2")
        messages[f"{name}_error"] = oracle.variant(error, f"req_{name}_error", created + 1)
    return messages


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[SharedStack, dict[str, dict[str, Any]]]]:
    messages = _dataset()
    with shared_stack() as shared:
        assert shared.ingest.messages(list(messages.values())) == []
        yield shared, messages


def _raw_log(message: dict[str, Any]) -> dict[str, Any]:
    scanned = boto3.client("dynamodb").scan(
        TableName=get_settings().logs_table,
        FilterExpression="request_id = :r",
        ExpressionAttributeValues={":r": {"S": message["request_id"]}},
    )["Items"]
    assert len(scanned) == 1, message["request_id"]
    return scanned[0]


def _raw_content(message: dict[str, Any]) -> dict[str, Any]:
    return boto3.client("dynamodb").get_item(
        TableName=get_settings().content_table, Key={"pk": {"S": f"{ACCOUNT_A}#{oracle.log_id(message)}"}}
    )["Item"]


def test_ttl_attributes_are_created_plus_90_days_for_logs_and_30_for_content(world) -> None:
    _, messages = world
    for message in messages.values():
        created = oracle.created_ms(message)
        log_expiry_ms = int(_raw_log(message)["expires_at"]["N"]) * 1000
        content_expiry_ms = int(_raw_content(message)["expires_at"]["N"]) * 1000
        # Epoch seconds (the unit DynamoDB TTL reads): the exact instant, to the second.
        assert 0 <= created + 90 * DAY_MS - log_expiry_ms < 1000
        assert 0 <= created + 30 * DAY_MS - content_expiry_ms < 1000


def test_tables_expire_on_that_attribute_and_the_bucket_after_30_days(world) -> None:
    settings = get_settings()
    dynamodb = boto3.client("dynamodb")
    for table in (settings.logs_table, settings.content_table):
        ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == "expires_at"
    rules = boto3.client("s3").get_bucket_lifecycle_configuration(Bucket=settings.content_bucket)["Rules"]
    assert [rule["Expiration"]["Days"] for rule in rules if rule["Status"] == "Enabled"] == [30]


def test_expired_logs_stay_in_moto_but_are_never_listed(world) -> None:
    shared, messages = world
    for name in ("d100", "d91", "d90"):
        assert _raw_log(messages[name])  # still stored: moto does not run TTL
    visible = {m["request_id"] for m in messages.values() if oracle.retained(m, NOW_MS)}
    assert visible == {f"req_{name}{suffix}" for name in ("d89", "d31", "d29", "d1") for suffix in ("", "_error")}
    august = Filters(
        start_ms=oracle.instant_ms("2026-08-01T00:00:00Z"), end_ms=oracle.instant_ms("2026-08-23T00:00:00Z")
    )
    cases = [
        ({}, Filters()),
        ({"start_date": "2026-01-01"}, Filters(start_ms=oracle.instant_ms("2026-01-01T00:00:00Z"))),
        ({"start_date": "2026-08-01", "end_date": "2026-08-22"}, august),
        ({"status": "error"}, Filters(status="error")),
        ({"api_key_id": "key_alpha2"}, Filters(api_key_id="key_alpha2")),
        ({"model": messages["d100"]["model"]}, Filters(model=messages["d100"]["model"])),
        ({"max_latency": 10_000_000}, Filters(max_latency=10_000_000)),
    ]
    for params, filters in cases:
        expected = [m["request_id"] for m in oracle.expected_logs(list(messages.values()), ACCOUNT_A, NOW_MS, filters)]
        response = shared.api.get(PATH, {**params, "limit": 100})
        assert [entry["request_id"] for entry in response.body["logs"]] == expected, params
        assert response.body["pagination"]["total"] == len(expected), params
    # August 1-22 holds only expired logs (d100, d91, d90): an empty answer, not a leak.
    assert not oracle.expected_logs(list(messages.values()), ACCOUNT_A, NOW_MS, august)
    assert any(august.matches(m) for m in messages.values())


def test_expired_logs_are_404_and_retained_ones_are_served(world) -> None:
    shared, messages = world
    for name, days in AGES_DAYS.items():
        for key in (name, f"{name}_error"):
            message = messages[key]
            log_path = f"{PATH}/{oracle.log_id(message)}"
            got = shared.api.get(log_path)
            details = shared.api.get(f"{log_path}/details")
            if days >= 90:
                assert got.status == details.status == 404, key
                assert got.body["error"]["code"] == "request_log_not_found"
            elif days >= 30:
                assert (got.status, details.status) == (200, 410), key
            else:
                assert (got.status, details.status) == (200, 200), key
                assert details.body["request"] == message["request"]
