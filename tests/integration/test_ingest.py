"""IngestFunction: one log per request id whatever SQS redelivers, malformed messages reported as batch
item failures while the rest of the batch is written, and crashes between writes healed by redelivery.

Faults are injected at the boto3 boundary (botocore event hooks on the package's client), never by
patching our own modules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from request_logs.config import get_settings
from request_logs.store.dynamo import dynamodb, from_attributes
from request_logs.store.items import log_from_item
from tests.conftest import ACCOUNT_B, ApiCaller, Ingestor, sample_messages
from tests.integration import oracle

PATH = "/api/account/request-logs"


def _logs_with(request_id: str) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(
        TableName=get_settings().logs_table,
        FilterExpression="request_id = :r",
        ExpressionAttributeValues={":r": {"S": request_id}},
    )["Items"]


def _all_logs() -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=get_settings().logs_table)["Items"]


def _content_of(message: dict[str, Any]) -> dict[str, Any] | None:
    return (
        boto3.client("dynamodb")
        .get_item(
            TableName=get_settings().content_table,
            Key={"pk": {"S": f"{message['account_id']}#{oracle.log_id(message)}"}},
        )
        .get("Item")
    )


def test_the_same_message_twice_in_one_batch_makes_one_log(stack, clock, api: ApiCaller, ingest: Ingestor) -> None:
    message = sample_messages(count=1, days=2, seed=61)[0]
    assert ingest.messages([message, message]) == []
    assert len(_logs_with(message["request_id"])) == 1
    body = api.get(PATH).body
    assert body["pagination"]["total"] == 1
    assert body["logs"][0]["id"] == oracle.log_id(message)


def test_redelivery_in_later_batches_makes_no_second_log(stack, clock, api: ApiCaller, ingest: Ingestor) -> None:
    messages = sample_messages(count=15, days=2, seed=62)
    assert ingest.messages(messages) == []
    assert ingest.messages(messages[5:]) == []  # an SQS redelivery: success, no new log
    assert ingest.messages(messages[:3]) == []
    assert len(_all_logs()) == 15
    assert api.get(PATH, {"limit": 100}).body["pagination"]["total"] == 15


def test_the_same_request_id_in_two_accounts_is_two_logs(stack, clock, api: ApiCaller, ingest: Ingestor) -> None:
    mine = sample_messages(count=1, days=2, seed=63)[0]
    theirs = {**mine, "account_id": ACCOUNT_B, "api_key_id": "key_beta1"}
    assert ingest.messages([mine, theirs]) == []
    assert len(_logs_with(mine["request_id"])) == 2
    assert api.get(f"{PATH}/{oracle.log_id(mine)}").status == 200
    assert api.get(f"{PATH}/{oracle.log_id(theirs)}", account=ACCOUNT_B, api_key_id="key_beta1").status == 200
    assert oracle.log_id(mine) != oracle.log_id(theirs)


def _malformed(good: dict[str, Any]) -> dict[str, str]:
    """name → body, each wrong in exactly one way."""
    error_message = next(m for m in sample_messages(count=60, days=2, seed=64, error_rate=0.3) if m["error"])

    def changed(**changes: Any) -> str:
        return json.dumps({**good, "request_id": f"req_bad_{len(changes)}_{next(iter(changes))}", **changes})

    missing_field = {key: value for key, value in good.items() if key != "latency_ms"}
    return {
        "invalid_json": '{"request_id": "req_broken", ',
        "not_an_object": "[1, 2, 3]",
        "missing_field": json.dumps({**missing_field, "request_id": "req_bad_missing"}),
        "error_status_without_error": changed(status="error", status_code=500, error=None),
        "error_without_error_status": json.dumps({**error_message, "status": "success", "request_id": "req_bad_e"}),
        "unknown_field": changed(surprise=1),
        "negative_tokens": changed(input_tokens=-1),
        "naive_datetime": changed(created_at="2026-11-19T10:00:00"),
        "completed_before_created": changed(completed_at="2020-01-01T00:00:00Z"),
        "malformed_account": changed(account_id="alpha"),
        "bad_status": changed(status="partial"),
    }


def test_malformed_messages_fail_alone_and_the_rest_is_written(
    stack, clock, api: ApiCaller, ingest: Ingestor, caplog: pytest.LogCaptureFixture
) -> None:
    good = sample_messages(count=30, days=3, seed=65)
    bad = _malformed(good[0])
    bodies: list[str] = []
    for position, body in enumerate(bad.values()):  # interleaved: every batch of 10 holds good messages
        bodies += [json.dumps(good[2 * position]), body, json.dumps(good[2 * position + 1])]
    bodies += [json.dumps(m) for m in good[2 * len(bad) :]]

    failed = ingest.bodies(bodies)

    assert sorted(failed) == sorted(bad.values())
    listed = api.get(PATH, {"limit": 100}).body
    assert listed["pagination"]["total"] == len(good)
    assert {entry["request_id"] for entry in listed["logs"]} == {m["request_id"] for m in good}
    assert len(_all_logs()) == len(good)
    # The reason is logged (for the DLQ investigation), never the prompt itself.
    records = [record for record in caplog.records if record.getMessage() == "malformed ingest message"]
    assert len(records) == len(bad)
    reasons = [reason for record in records for reason in record.reasons]
    assert "latency_ms: Field required" in reasons
    assert not any(good[0]["request"]["messages"][1]["content"] in reason for reason in reasons)


@contextmanager
def _fail_once(operation: str, table_attr: str, *, after: bool) -> Iterator[list[str]]:
    """Make the next ``operation`` on that table fail once, before it reaches DynamoDB or after it wrote."""
    table = getattr(get_settings(), table_attr)
    events = dynamodb().meta.events
    fired: list[str] = []

    def remember_table(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        # Single-item calls name their table; BatchWriteItem keys its requests by table.
        context["fault_table"] = params.get("TableName") or next(iter(params.get("RequestItems", {})), None)
        if not after and context["fault_table"] == table and not fired:
            fired.append(table)
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, operation)

    def fail_after(context: dict[str, Any], **_: Any) -> None:
        if after and context.get("fault_table") == table and not fired:
            fired.append(table)
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, operation)

    events.register(f"before-parameter-build.dynamodb.{operation}", remember_table, unique_id="fault-before")
    events.register(f"after-call.dynamodb.{operation}", fail_after, unique_id="fault-after")
    try:
        yield fired
    finally:
        events.unregister(f"before-parameter-build.dynamodb.{operation}", unique_id="fault-before")
        events.unregister(f"after-call.dynamodb.{operation}", unique_id="fault-after")


@pytest.mark.parametrize(
    ("operation", "table_attr", "after"),
    [
        ("PutItem", "logs_table", False),  # crash between the content write and the log write
        ("PutItem", "logs_table", True),  # the log was written but the Lambda died before acknowledging
    ],
    ids=["before-log-write", "after-log-write"],
)
def test_a_crash_mid_message_then_redelivery_leaves_one_log_and_its_content(
    stack, clock, api: ApiCaller, ingest: Ingestor, operation: str, table_attr: str, after: bool
) -> None:
    messages = sample_messages(count=4, days=3, seed=66)
    victim = messages[0]  # logs are written in order: the first log write fails
    with _fail_once(operation, table_attr, after=after) as fired:
        failed = ingest.messages(messages)
    assert fired, "the fault was never injected"
    assert failed == [json.dumps(victim)]
    assert len(_all_logs()) == (4 if after else 3)

    assert ingest.messages([victim]) == []  # SQS redelivers the failed message

    assert len(_logs_with(victim["request_id"])) == 1
    assert len(_all_logs()) == 4
    _assert_details_intact(api, victim)


@pytest.mark.parametrize("after", [False, True], ids=["before-content-write", "after-content-write"])
def test_a_failed_content_batch_fails_its_messages_and_redelivery_stores_each_once(
    stack, clock, api: ApiCaller, ingest: Ingestor, after: bool
) -> None:
    """Content items of a batch share BatchWriteItem calls: a failed call fails every message in it."""
    messages = sample_messages(count=4, days=3, seed=67)
    with _fail_once("BatchWriteItem", "content_table", after=after) as fired:
        failed = ingest.messages(messages)
    assert fired, "the fault was never injected"
    assert sorted(failed) == sorted(json.dumps(m) for m in messages)
    assert _all_logs() == []  # no log without its content

    assert ingest.messages(messages) == []

    assert len(_all_logs()) == 4
    for message in messages:
        assert len(_logs_with(message["request_id"])) == 1
        _assert_details_intact(api, message)


def _assert_details_intact(api: ApiCaller, message: dict[str, Any]) -> None:
    assert _content_of(message) is not None
    details = api.get(f"{PATH}/{oracle.log_id(message)}/details")
    assert details.status == 200
    assert details.body["request"] == message["request"]
    assert details.body["response"] == message["response"]


def test_the_prices_used_are_stored_on_the_log(stack, clock, ingest: Ingestor) -> None:
    messages = sample_messages(count=80, days=3, seed=67)
    assert ingest.messages(messages) == []
    stored_logs = {raw["request_id"]["S"]: raw for raw in _all_logs()}
    assert len(stored_logs) == len(messages)
    seen = set()
    for message in messages:
        raw = stored_logs[message["request_id"]]
        source = raw["cost_source"]["S"]
        seen.add(source)
        breakdown = raw.get("breakdown", {"M": {}})["M"]
        if message.get("cost"):
            assert source == "gateway"
            assert Decimal(raw["price_input_per_million"]["N"]) == Decimal(message["cost"]["input_per_million"])
            assert Decimal(breakdown["cost_input"]["N"]) == Decimal(message["cost"]["input"])
            assert Decimal(raw["cost_output"]["N"]) == Decimal(message["cost"]["output"])
        elif message["model"] in oracle.CATALOG:
            prices = oracle.catalog_prices(message["model"], message["input_tokens"])
            assert prices is not None and source == "catalog"
            assert raw["catalog_version"]["S"] == oracle.CATALOG_VERSION
            # By reference: the item names its catalog version, the log read back carries the prices.
            assert not [name for name in raw if name.startswith("price_")]
            log = log_from_item(from_attributes(raw))
            for name in ("input", "output", "cached_input", "cache_creation_input", "reasoning"):
                assert getattr(log, f"price_{name}_per_million") == prices[f"{name}_per_million"], name
            assert log.price_tier_above_input_tokens == prices["above_input_tokens"]
        else:
            assert source == "unpriced"
            assert "cost_input" not in breakdown and "price_input_per_million" not in raw
        parts = oracle.expected_cost_parts(message)
        if parts is None:
            assert "cost_output" not in raw
            continue
        assert Decimal(breakdown["cost_input"]["N"]) + Decimal(raw["cost_output"]["N"]) == oracle.expected_cost(message)
        for part in ("cached_input", "cache_creation_input", "reasoning"):
            stored = Decimal(breakdown[f"cost_{part}"]["N"]) if f"cost_{part}" in breakdown else Decimal(0)
            assert stored == parts[part], part
    assert seen == {"gateway", "catalog", "unpriced"}


def test_malformed_attribution_goes_to_the_dead_letter_path_with_its_reason(
    stack, clock, ingest: Ingestor, caplog: pytest.LogCaptureFixture
) -> None:
    (good,) = sample_messages(count=1, days=1, seed=74)

    def body(suffix: str, **changes: Any) -> str:
        return json.dumps({**good, "version": 2, "request_id": f"req_bad_{suffix}", **changes})

    bad = {
        "too_many_keys": body("keys", metadata={f"k{n}": "v" for n in range(17)}),
        "long_value": body("value", metadata={"feature": "x" * 257}),
        "number_value": body("number", metadata={"feature": 3}),
        "boolean_value": body("bool", metadata={"feature": True}),
        "bad_key": body("key", metadata={"a.b": "v"}),
        "long_user": body("user", user="u" * 257),
        "version_1": json.dumps({**_version_1(good), "request_id": "req_bad_v1", "metadata": {"feature": "chat"}}),
    }
    failed = ingest.bodies([json.dumps(good), *bad.values()])
    # Reported failed: SQS redelivers them until maxReceiveCount, then the dead-letter queue holds them
    # (tests/integration/test_sqs_poller.py follows one there).
    assert sorted(failed) == sorted(bad.values())
    records = [record for record in caplog.records if record.getMessage() == "malformed ingest message"]
    reasons = [" ".join(record.reasons) for record in records]
    assert len(reasons) == len(bad)
    assert all("metadata" in reason or "user" in reason for reason in reasons), reasons


def _version_1(message: dict[str, Any]) -> dict[str, Any]:
    """The message as a version-1 gateway sends it: without the fields only version 2 carries."""
    version_2 = ("user", "metadata", "cached_input_tokens", "cache_creation_input_tokens", "reasoning_tokens", "cost")
    return {**{key: value for key, value in message.items() if key not in version_2}, "version": 1}
