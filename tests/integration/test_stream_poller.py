"""The local stream poller against moto in process: what Lambda's DynamoDB event-source mapping guarantees.

Settings come from the template; batches hold at most BatchSize records; a partial failure is retried
from the lowest failed record; a function error bisects the batch until the bad record is alone, which
after MaximumRetryAttempts is described on the on-failure queue while the shard moves on; records older
than MaximumRecordAgeInSeconds are discarded without an invocation; and with the thread running a new
log reaches the stats within seconds. Exactly-once under these deliveries is in test_aggregator.py.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.demo.messages import generate_messages
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_poller import StreamEventSource, StreamPoller, stream_event_sources
from local.stack.provision import Stack
from request_logs.store.dynamo import dynamodb
from tests.conftest import ACCOUNT_A, DAY_MS, KEYS_A, NOW_MS, Ingestor
from tests.integration.rollup_oracle import (
    assert_stats_are_the_truth,
    expected_rollups,
    logs_in_table,
    mismatches,
    rollup_items,
    scan,
    stored_rollups,
)

HOUR_MS = 3_600_000


def messages(count: int, seed: int, start_ms: int = NOW_MS - DAY_MS, end_ms: int = NOW_MS) -> list[dict[str, Any]]:
    return generate_messages(ACCOUNT_A, KEYS_A, count, start_ms, end_ms, seed=seed)


def failure_documents(source: StreamEventSource) -> list[dict[str, Any]]:
    assert source.on_failure_queue_url is not None
    response = boto3.client("sqs").receive_message(QueueUrl=source.on_failure_queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


@pytest.fixture
def source(stack: Stack) -> StreamEventSource:
    (aggregator,) = stream_event_sources(stack)
    return aggregator


@pytest.fixture
def poller(source: StreamEventSource, functions: FunctionRegistry) -> StreamPoller:
    return StreamPoller(source, functions)


@pytest.fixture
def failing_puts() -> Iterator[dict[str, Any]]:
    """PutItem fails with an internal error while ``state["fail"](params)`` says so."""
    state: dict[str, Any] = {"fail": lambda params: False, "failed": 0}

    def handler(params: dict[str, Any], **_: Any) -> None:
        if state["fail"](params):
            state["failed"] += 1
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "PutItem")

    events = dynamodb().meta.events
    events.register("before-parameter-build.dynamodb.PutItem", handler, unique_id="failing-puts")
    yield state
    events.unregister("before-parameter-build.dynamodb.PutItem", unique_id="failing-puts")


def test_event_source_settings_come_from_the_template(stack: Stack, source: StreamEventSource) -> None:
    ((function, properties),) = stack.template.event_sources("DynamoDB")
    destination = properties["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert source.function == function
    assert source.stream_arn == stack.stream_arns[properties["Stream"]["Fn::GetAtt"][0]]
    assert source.batch_size == properties["BatchSize"]
    assert source.batching_window_seconds == properties["MaximumBatchingWindowInSeconds"]
    assert source.bisect_on_function_error is properties["BisectBatchOnFunctionError"]
    assert source.maximum_retry_attempts == properties["MaximumRetryAttempts"]
    assert source.maximum_record_age_seconds == properties["MaximumRecordAgeInSeconds"]
    assert source.report_batch_item_failures is ("ReportBatchItemFailures" in properties["FunctionResponseTypes"])
    assert source.filter_patterns == tuple(json.loads(f["Pattern"]) for f in properties["FilterCriteria"]["Filters"])
    assert source.on_failure_queue_url == stack.queue_urls[destination]
    assert source.accepts({"eventName": "INSERT"})
    assert not source.accepts({"eventName": "REMOVE"})
    assert not source.accepts({"eventName": "MODIFY"})


def test_a_filter_operator_the_emulation_does_not_know_fails_loudly(stack: Stack) -> None:
    """Lambda's content-filter operators (prefix, anything-but, numeric...) are not emulated: refuse them."""
    for resource in stack.template.of_type("AWS::Serverless::Function").values():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "DynamoDB":
                event["Properties"]["FilterCriteria"] = {"Filters": [{"Pattern": '{"eventName": [{"prefix": "IN"}]}'}]}
    with pytest.raises(NotImplementedError, match="prefix"):
        stream_event_sources(stack)


def test_batches_hold_at_most_batch_size_records(
    stack: Stack, clock: Any, ingest: Ingestor, source: StreamEventSource, functions: FunctionRegistry
) -> None:
    assert ingest.messages(messages(10, seed=31)) == []
    poller = StreamPoller(dataclasses.replace(source, batch_size=4), functions)
    poller.drain()
    assert (poller.stats.invocations, poller.stats.delivered) == (3, 10)
    assert_stats_are_the_truth(stack)


def test_a_partial_failure_is_retried_from_the_lowest_failed_record(
    stack: Stack, clock: Any, ingest: Ingestor, poller: StreamPoller
) -> None:
    assert ingest.messages(messages(12, seed=32)) == []
    client = dynamodb()
    lost: list[str] = []

    def lose_every_race_for_one_item(params: dict[str, Any], **_: Any) -> None:
        # The first day item of the batch loses every version race of the first invocation (8 attempts).
        key = params["Item"]["sk"]["S"]
        if params["Item"]["pk"]["S"].endswith("#day#all") and len(lost) < 8 and (not lost or key == lost[0]):
            lost.append(key)
            error = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "injected"}}
            raise client.exceptions.ConditionalCheckFailedException(error, "PutItem")

    client.meta.events.register("before-parameter-build.dynamodb.PutItem", lose_every_race_for_one_item)
    try:
        poller.drain()
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.PutItem", lose_every_race_for_one_item)
    stats = poller.stats
    assert (stats.invocations, stats.retries, stats.delivered, stats.discarded) == (2, 1, 12, 0)
    assert_stats_are_the_truth(stack)


def test_a_function_error_bisects_until_the_bad_record_is_alone_then_it_is_discarded_and_the_shard_moves_on(
    stack: Stack,
    clock: Any,
    ingest: Ingestor,
    source: StreamEventSource,
    poller: StreamPoller,
    failing_puts: dict[str, Any],
) -> None:
    batch = messages(8, seed=33)
    # One log with a model nobody else uses: writing its model items fails, so any batch holding it raises.
    batch[5] = {**batch[5], "model": "broken/model"}
    assert ingest.messages(batch) == []
    failing_puts["fail"] = lambda params: params["Item"]["sk"]["S"].endswith("#broken/model")
    poller.drain()

    stats = poller.stats
    assert stats.bisections == 3  # 8 → 4 + [4] → 2 + [2] → [1] + 1
    assert (stats.delivered, stats.discarded) == (7, 1)
    (document,) = failure_documents(source)
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    # The invocations that held the record: 8, 4 and 2 records, then alone once plus every retry.
    assert document["requestContext"]["approximateInvokeCount"] == 3 + 1 + source.maximum_retry_attempts
    assert document["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    info = document["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["streamArn"] == source.stream_arn
    assert info["shardId"].startswith("shardId-")

    # The shard moved on: the next logs are aggregated as usual.
    failing_puts["fail"] = lambda params: False
    later = messages(3, seed=34, start_ms=NOW_MS - 3 * DAY_MS, end_ms=NOW_MS - 2 * DAY_MS)
    assert ingest.messages(later) == []
    poller.drain()
    assert poller.stats.delivered == 10
    recent = [item for item in scan(stack.name("RequestLogsTable")) if item["created_ms"] < NOW_MS - 2 * DAY_MS]
    assert_stats_are_the_truth_for(stack, recent, NOW_MS - 3 * DAY_MS, NOW_MS - 2 * DAY_MS)


def assert_stats_are_the_truth_for(stack: Stack, logs: list[dict[str, Any]], start_ms: int, end_ms: int) -> None:
    """The truth for the hour items of ``[start_ms, end_ms)`` only (other buckets are left out)."""

    def hours_in_range(key: tuple[str, str, int, str, str]) -> bool:
        return key[1] == "hour" and start_ms <= key[2] < end_ms

    expected = {key: value for key, value in expected_rollups(logs).items() if hours_in_range(key)}
    stored = {key: value for key, value in stored_rollups(stack).items() if hours_in_range(key)}
    assert expected
    assert mismatches(expected, stored) == []


def test_records_past_the_maximum_age_are_discarded_without_an_invocation(
    stack: Stack, clock: Any, ingest: Ingestor, source: StreamEventSource, poller: StreamPoller
) -> None:
    assert ingest.messages(messages(3, seed=35)) == []
    assert source.maximum_record_age_seconds is not None
    clock.shift(source.maximum_record_age_seconds + 1)
    poller.drain()
    assert (poller.stats.invocations, poller.stats.discarded) == (0, 3)
    (document,) = failure_documents(source)
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"
    assert document["requestContext"]["approximateInvokeCount"] == 0
    assert document["DDBStreamBatchInfo"]["batchSize"] == 3
    assert rollup_items(stack) == []


def test_with_the_thread_running_a_new_log_reaches_the_stats_within_seconds(
    stack: Stack, ingest: Ingestor, poller: StreamPoller
) -> None:
    """By the real clock: the batching window and the poll interval are real time."""
    now_ms = time.time_ns() // 1_000_000
    poller.start()
    try:
        # moto's in-process tables are not safe to scan while the thread writes: take turns with it.
        with poller.paused():
            assert ingest.messages(messages(1, seed=36, start_ms=now_ms - HOUR_MS, end_ms=now_ms)) == []
            expected = expected_rollups(logs_in_table(stack))

        def still_missing() -> bool:
            with poller.paused():
                return bool(mismatches(expected, stored_rollups(stack)))

        deadline = time.monotonic() + 30  # generous for a loaded machine; typically ~1.5 s (see the module)
        while still_missing() and time.monotonic() < deadline:
            time.sleep(0.05)
        with poller.paused():
            assert_stats_are_the_truth(stack)
            # drain() while the thread runs: the two take turns, and nothing is delivered twice.
            assert ingest.messages(messages(20, seed=37, start_ms=now_ms - HOUR_MS, end_ms=now_ms)) == []
        poller.drain()
        with poller.paused():
            assert_stats_are_the_truth(stack)
        assert poller.stats.delivered == 21
    finally:
        poller.stop()
