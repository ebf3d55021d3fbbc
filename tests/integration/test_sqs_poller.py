"""The local SQS poller against moto in process: what Lambda's SQS event-source mapping guarantees.

Good messages become logs, a redelivered message makes no second log, a malformed one reaches the
dead-letter queue after the template's maxReceiveCount receives while the rest of its batch is ingested,
and a batch whose invocation fails stays on the queue as a whole.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from local.demo.messages import generate_messages
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.sqs_poller import SqsEventSource, SqsPoller, sqs_event_sources
from local.stack.provision import Stack
from request_logs.store.dynamo import dynamodb
from tests.conftest import ACCOUNT_A, DAY_MS, KEYS_A, ApiCaller

DRAIN_TIMEOUT = 60


def recent_messages(count: int, seed: int = 5) -> list[dict[str, Any]]:
    """Messages of the last days by the real clock: moto's visibility timeouts need time to pass."""
    now_ms = time.time_ns() // 1_000_000
    return generate_messages(ACCOUNT_A, KEYS_A, count, now_ms - 3 * DAY_MS, now_ms, seed=seed)


def send(source: SqsEventSource, bodies: list[str]) -> None:
    sqs = boto3.client("sqs")
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=source.queue_url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
        )


def dead_letters(stack: Stack, source: SqsEventSource) -> list[dict[str, Any]]:
    (dlq,) = [logical for logical in stack.queue_urls if stack.arns[f"{logical}.Arn"] == source.dead_letter_queue_arn]
    response = boto3.client("sqs").receive_message(
        QueueUrl=stack.queue_urls[dlq], MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    return response.get("Messages", [])


def listed_request_ids(api: ApiCaller) -> list[str]:
    response = api.get("/api/account/request-logs", {"limit": 100})
    assert response.status == 200
    assert response.body["pagination"]["total"] == len(response.body["logs"])
    return [log["request_id"] for log in response.body["logs"]]


@pytest.fixture
def source(stack: Stack) -> SqsEventSource:
    (ingest,) = [source for source in sqs_event_sources(stack) if source.function == "IngestFunction"]
    return ingest


@pytest.fixture
def poller(source: SqsEventSource, functions: FunctionRegistry) -> Iterator[SqsPoller]:
    running = SqsPoller(source, functions)
    running.start()
    yield running
    running.stop()


def test_event_source_settings_come_from_the_template(stack: Stack, source: SqsEventSource) -> None:
    function = "IngestFunction"
    properties = stack.template.event_source(function, "SQS")
    queue = properties["Queue"]["Fn::GetAtt"][0]
    redrive = stack.template.resources[queue]["Properties"]["RedrivePolicy"]
    assert source.function == function
    assert source.queue_url == stack.queue_urls[queue]
    assert source.batch_size == properties["BatchSize"]
    assert source.batching_window_seconds == properties["MaximumBatchingWindowInSeconds"]
    assert source.report_batch_item_failures is ("ReportBatchItemFailures" in properties["FunctionResponseTypes"])
    assert source.max_receive_count == redrive["maxReceiveCount"]
    assert source.dead_letter_queue_arn == stack.arns[f"{redrive['deadLetterTargetArn']['Fn::GetAtt'][0]}.Arn"]


def test_good_messages_become_logs_and_a_duplicate_makes_none(
    stack: Stack, source: SqsEventSource, poller: SqsPoller, api: ApiCaller
) -> None:
    messages = recent_messages(25)
    bodies = [json.dumps(message) for message in messages]
    send(source, bodies)
    poller.wait_until_drained(DRAIN_TIMEOUT)
    # SQS is at-least-once: the same message again, as a redelivery after a lost delete would be.
    send(source, bodies[:3])
    poller.wait_until_drained(DRAIN_TIMEOUT)

    assert sorted(listed_request_ids(api)) == sorted(message["request_id"] for message in messages)
    assert poller.stats.succeeded == 28
    assert poller.stats.failed == 0
    assert dead_letters(stack, source) == []


def test_malformed_message_reaches_the_dlq_after_max_receives_while_its_batch_is_ingested(
    stack: Stack, source: SqsEventSource, poller: SqsPoller, api: ApiCaller, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="local.emulator.sqs_poller")
    messages = recent_messages(source.batch_size - 1, seed=6)
    malformed = json.dumps({**messages[0], "request_id": "req_misspelled", "tokens_in": 1})
    # One SendMessageBatch, so the malformed message shares its first batch with the good ones.
    send(source, [*map(json.dumps, messages[:4]), malformed, *map(json.dumps, messages[4:])])
    poller.wait_until_drained(DRAIN_TIMEOUT)

    assert sorted(listed_request_ids(api)) == sorted(message["request_id"] for message in messages)
    (dead,) = dead_letters(stack, source)
    assert dead["Body"] == malformed
    assert poller.stats.failed == source.max_receive_count
    failures = [record.getMessage() for record in caplog.records if dead["MessageId"] in record.getMessage()]
    assert len(failures) == source.max_receive_count
    assert "SQS moves it to" in failures[-1]


def test_a_batch_whose_invocation_raises_stays_on_the_queue_and_is_retried(
    source: SqsEventSource, poller: SqsPoller, api: ApiCaller
) -> None:
    """DynamoDB fails every write of the first batch: Powertools raises when all records fail."""
    messages = recent_messages(source.batch_size, seed=7)
    writes = {"failed": 0}

    def unavailable(**_: Any) -> None:
        if writes["failed"] < source.batch_size:
            writes["failed"] += 1
            raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    dynamodb().meta.events.register("before-call.dynamodb.PutItem", unavailable)
    try:
        send(source, [json.dumps(message) for message in messages])
        poller.wait_until_drained(DRAIN_TIMEOUT)
    finally:
        dynamodb().meta.events.unregister("before-call.dynamodb.PutItem", unavailable)

    assert sorted(listed_request_ids(api)) == sorted(message["request_id"] for message in messages)
    assert poller.stats.failed >= source.batch_size
    assert poller.stats.succeeded == source.batch_size


class AnswersWith:
    """A function that answers every invocation with a fixed response (the poller's other side)."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response
        self.batches: list[list[str]] = []

    def invoke(self, logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        self.batches.append([record["messageId"] for record in event["Records"]])
        return self.response


def test_unknown_item_identifier_fails_the_whole_batch(stack: Stack, source: SqsEventSource) -> None:
    """Lambda treats batchItemFailures naming a message outside the batch as a failed batch."""
    function = AnswersWith({"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]})
    send(source, [json.dumps(message) for message in recent_messages(3, seed=8)])
    poller = SqsPoller(source, function)  # type: ignore[arg-type]
    poller.start()
    try:
        with pytest.raises(TimeoutError):
            poller.wait_until_drained(2.5)
    finally:
        poller.stop()
    assert poller.stats.succeeded == 0
    assert poller.stats.failed >= 3
    assert len(function.batches) >= 2  # released and received again
