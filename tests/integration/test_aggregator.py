"""Exactly once in effect: whatever Lambda does to the aggregator's batches, every rollup equals the truth.

Each test ingests real logs, reads the batch Lambda would deliver from the table's stream, delivers it
the ways Lambda can (replays, a crash after any write, bisected and overlapping retries, two shards at
once, a poison record, TTL deletions) and compares every rollup item, hour and day × all, model,
provider and api key, with the brute-force fold of the logs table (``rollup_oracle``). Faults enter at
the boto3 boundary only, with botocore event hooks on the client the handler uses.

Also here: the DynamoDB limits moto does not enforce, measured on every write the aggregator makes.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from ddsketch.mapping import LogarithmicMapping

from local.demo.messages import generate_messages
from local.emulator.events import dynamodb_stream_record
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_poller import StreamPoller, stream_event_sources
from local.emulator.stream_reader import StreamReader
from local.stack.dynamodb_limits import ITEM_LIMIT_BYTES, item_size
from local.stack.provision import Stack
from request_logs.domain.ids import make_log_id
from request_logs.domain.log import RequestLog
from request_logs.domain.rollups import MAX_EMBEDDED_GROUPS
from request_logs.logic.aggregate import AggregationResult, StreamLog, aggregate
from request_logs.store import keys
from request_logs.store.dynamo import dynamodb
from request_logs.store.items import log_to_item
from request_logs.store.stream_records import stream_log_from
from tests.conftest import ACCOUNT_A, KEYS_A, NOW_MS, Delivery, Ingestor, Record
from tests.integration.rollup_oracle import (
    DAY_MS,
    assert_stats_are_the_truth,
    clear_stats,
    expected_rollups,
    logs_in_table,
    scan,
)

MIDNIGHT_MS = NOW_MS - NOW_MS % DAY_MS - DAY_MS  # the night before NOW: windows around it span two days
HALF_HOUR_MS = 1_800_000


# ------------------------------------------------------------------ the batch Lambda would deliver
def recorded_batch(stack: Stack) -> list[Record]:
    """Every record of the logs table's stream so far, as Lambda delivers them (moto has one shard)."""
    shards = StreamReader(stack.stream_arns["RequestLogsTable"]).poll(limit=10_000)
    (records,) = shards.values()
    return records


def ingest_window(ingest: Ingestor, count: int, start_ms: int, end_ms: int, seed: int) -> None:
    assert ingest.messages(generate_messages(ACCOUNT_A, KEYS_A, count, start_ms, end_ms, seed=seed)) == []


@pytest.fixture
def batch(stack: Stack, clock: Any, ingest: Ingestor) -> list[Record]:
    """Eight logs around midnight: two hours, two days, every dimension touched more than once."""
    ingest_window(ingest, 8, MIDNIGHT_MS - HALF_HOUR_MS, MIDNIGHT_MS + HALF_HOUR_MS, seed=21)
    records = recorded_batch(stack)
    assert len(records) == 8
    return records


def sequence(record: Record) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def stats_keys_of(record: Record) -> set[tuple[str, str]]:
    """The (pk, sk) of every rollup item a stream record's log belongs to, from its image."""
    image = record["dynamodb"]["NewImage"]
    created = int(image["created_ms"]["N"])
    return {
        (keys.stats_pk(ACCOUNT_A, granularity, dimension), keys.stats_sk(created - created % size, value))
        for granularity, size in (("quarter", 900_000), ("hour", 3_600_000), ("day", DAY_MS))
        for dimension, value in (
            ("all", ""),
            ("model", image["model"]["S"]),
            ("provider", image["provider"]["S"]),
            ("api_key", image["api_key_id"]["S"]),
            ("user", "=" + image["user"]["S"] if "user" in image else ""),  # "": the logs without a user
        )
        if granularity != "quarter" or dimension == "all"
    }


def redeliver_like_lambda(deliver: Delivery, records: list[Record], result: dict[str, Any]) -> dict[str, Any]:
    """Lambda's retry of a partial failure: from the lowest failed sequence number to the end of the batch."""
    failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    start = min(position for position, record in enumerate(records) if sequence(record) in failed)
    return deliver(records[start:])


# ------------------------------------------------------------------ fault injection at the boto3 boundary
@contextmanager
def hooked(event: str, handler: Callable[..., Any]) -> Iterator[None]:
    """A botocore event handler on the DynamoDB client the handler and the aggregator use."""
    events = dynamodb().meta.events
    unique_id = f"test-{id(handler)}"
    events.register(event, handler, unique_id=unique_id)
    try:
        yield
    finally:
        events.unregister(event, unique_id=unique_id)


@contextmanager
def counting_puts() -> Iterator[list[dict[str, Any]]]:
    """Every PutItem request made inside the block, with its API parameters."""
    puts: list[dict[str, Any]] = []
    with hooked("before-parameter-build.dynamodb.PutItem", lambda params, **_: puts.append(params)):
        yield puts


def crash_on_put(k: int) -> Callable[..., None]:
    """Fail the k-th PutItem. On ``before-call`` it never reaches DynamoDB; on ``after-call`` DynamoDB
    applied it and the reply is lost, as when the function dies right after a write."""
    calls = itertools.count(1)

    def handler(**_: Any) -> None:
        if next(calls) == k:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected crash"}}, "PutItem")

    return handler


# ------------------------------------------------------------------ (a) replays
@pytest.mark.parametrize("times", [1, 2, 3])
def test_replaying_a_batch_any_number_of_times_counts_it_once(
    stack: Stack, batch: list[Record], deliver: Delivery, times: int
) -> None:
    writes = []
    for _ in range(times):
        with counting_puts() as puts:
            assert deliver(batch) == {"batchItemFailures": []}
        writes.append(len(puts))
    assert_stats_are_the_truth(stack)
    assert writes[0] == len(expected_rollups(logs_in_table(stack)))
    assert writes[1:] == [0] * (times - 1)  # a replay is recognised without writing


def test_earlier_batches_replayed_after_later_ones_change_nothing(
    stack: Stack, clock: Any, ingest: Ingestor, deliver: Delivery
) -> None:
    ingest_window(ingest, 10, MIDNIGHT_MS - HALF_HOUR_MS, MIDNIGHT_MS + HALF_HOUR_MS, seed=22)
    records = recorded_batch(stack)
    first, second = records[:5], records[5:]
    for part in (first, second, first, second, records, first):
        assert deliver(part) == {"batchItemFailures": []}
    assert_stats_are_the_truth(stack)


# ------------------------------------------------------------------ (b) a crash between any two writes
def test_a_crash_after_any_write_then_lambdas_redelivery_leaves_the_truth(
    stack: Stack, batch: list[Record], deliver: Delivery
) -> None:
    with counting_puts() as puts:
        deliver(batch)
    total = len(puts)
    assert total == len(expected_rollups(logs_in_table(stack)))
    for k, after_write in itertools.product(range(1, total + 1), (False, True)):
        clear_stats(stack)
        when = "after" if after_write else "before"
        with (
            hooked(f"{when}-call.dynamodb.PutItem", crash_on_put(k)),
            pytest.raises(ClientError, match="injected crash"),
        ):
            deliver(batch)
        # The handler raised: Lambda redelivers the whole batch (bisecting it would, too: see below).
        with counting_puts() as puts:
            assert deliver(batch) == {"batchItemFailures": []}
        already_written = k if after_write else k - 1
        assert len(puts) == total - already_written, (k, when)
        assert_stats_are_the_truth(stack)


def test_an_item_that_keeps_losing_its_version_race_is_reported_and_redelivered_from_the_lowest_failure(
    stack: Stack, batch: list[Record], deliver: Delivery
) -> None:
    with counting_puts() as puts:
        deliver(batch)
    targets = [(params["Item"]["pk"]["S"], params["Item"]["sk"]["S"]) for params in puts]
    client = dynamodb()
    for target in targets:
        clear_stats(stack)

        def lose_the_race(params: dict[str, Any], target: tuple[str, str] = target, **_: Any) -> None:
            if (params["Item"]["pk"]["S"], params["Item"]["sk"]["S"]) == target:
                error = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "injected conflict"}}
                raise client.exceptions.ConditionalCheckFailedException(error, "PutItem")

        with hooked("before-parameter-build.dynamodb.PutItem", lose_the_race):
            result = deliver(batch)
        # Every record folded into that item is reported, so Lambda's retry from the lowest covers them all.
        contributing = [sequence(record) for record in batch if target in stats_keys_of(record)]
        assert sorted(item["itemIdentifier"] for item in result["batchItemFailures"]) == sorted(contributing)
        assert redeliver_like_lambda(deliver, batch, result) == {"batchItemFailures": []}
        assert_stats_are_the_truth(stack)


# ------------------------------------------------------------------ (c) bisected and overlapping retries
@pytest.mark.parametrize(
    "plan",
    [
        [(0, 4), (4, 8)],  # Lambda's bisection after the crash: first half, then second half
        [(0, 2), (2, 4), (4, 8)],  # the first half failed again and was bisected in turn
        [(0, 5), (3, 8), (0, 8)],  # overlapping re-deliveries, then the whole batch again
        [(0, 1), (0, 8), (1, 8)],
    ],
)
def test_bisected_and_overlapping_redeliveries_after_a_crash_count_every_record_once(
    stack: Stack, batch: list[Record], deliver: Delivery, plan: list[tuple[int, int]]
) -> None:
    with hooked("after-call.dynamodb.PutItem", crash_on_put(5)), pytest.raises(ClientError):
        deliver(batch)
    for start, end in plan:
        assert deliver(batch[start:end]) == {"batchItemFailures": []}
    assert_stats_are_the_truth(stack)


# ------------------------------------------------------------------ (d) two shards at once
def test_two_shards_aggregating_into_the_same_items_at_once_retry_their_conflicts_and_stay_exact(
    stack: Stack, clock: Any, ingest: Ingestor
) -> None:
    ingest_window(ingest, 40, MIDNIGHT_MS - HALF_HOUR_MS, MIDNIGHT_MS + HALF_HOUR_MS, seed=23)
    entries = [stream_log_from(record) for record in recorded_batch(stack)]
    # A stream shard holds whole log partitions: split the records by partition, keeping their order.
    shards = [
        [entry for entry in entries if keys.log_shard(entry.log.id) < keys.LOG_SHARDS // 2],
        [entry for entry in entries if keys.log_shard(entry.log.id) >= keys.LOG_SHARDS // 2],
    ]
    assert all(shards)

    both_read = threading.Barrier(2, timeout=10)
    first_read_done: set[str] = set()
    # DynamoDB applies a conditional put atomically; moto in process checks and writes in Python, so
    # concurrent puts are serialised here to give it DynamoDB's atomicity.
    one_put_at_a_time = threading.Lock()

    def wait_for_the_other_shard(**_: Any) -> None:
        name = threading.current_thread().name
        if name not in first_read_done:
            first_read_done.add(name)
            both_read.wait()  # both read every item before either writes: their first writes collide

    def acquire(**_: Any) -> None:
        one_put_at_a_time.acquire()

    def release(**_: Any) -> None:
        one_put_at_a_time.release()

    results: dict[int, AggregationResult] = {}

    def run(position: int, shard: list[StreamLog]) -> None:
        results[position] = aggregate(shard)

    with (
        hooked("after-call.dynamodb.BatchGetItem", wait_for_the_other_shard),
        hooked("before-call.dynamodb.PutItem", acquire),
        hooked("after-call.dynamodb.PutItem", release),
        hooked("after-call-error.dynamodb.PutItem", release),
    ):
        threads = [threading.Thread(target=run, args=(n, shard), name=f"shard-{n}") for n, shard in enumerate(shards)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(results) == [0, 1]
    assert sum(result.conflicts for result in results.values()) > 0
    # Conflicts were retried, not reported (eight attempts are plenty for two writers).
    assert [result.failed_sequence_numbers for result in results.values()] == [[], []]
    assert_stats_are_the_truth(stack)


# ------------------------------------------------------------------ (e) a poison record in the middle
def test_a_poison_record_is_reported_the_rest_counted_once_and_after_retries_it_reaches_the_failure_queue(
    stack: Stack, clock: Any, ingest: Ingestor, deliver: Delivery, functions: FunctionRegistry
) -> None:
    ingest_window(ingest, 5, MIDNIGHT_MS - HALF_HOUR_MS, MIDNIGHT_MS, seed=24)
    # An item in the logs table that is no log: its INSERT record reaches the aggregator like any other.
    dynamodb().put_item(
        TableName=stack.name("RequestLogsTable"),
        Item={"pk": {"S": f"{ACCOUNT_A}#3"}, "sk": {"S": f"{MIDNIGHT_MS:013d}#junk"}, "note": {"S": "not a log"}},
    )
    ingest_window(ingest, 5, MIDNIGHT_MS, MIDNIGHT_MS + HALF_HOUR_MS, seed=25)
    records = recorded_batch(stack)
    poison = records[5]
    assert "id" not in poison["dynamodb"]["NewImage"]

    result = deliver(records)
    assert result == {"batchItemFailures": [{"itemIdentifier": sequence(poison)}]}
    assert_stats_are_the_truth(stack)
    # Lambda retries from the poison record: the records after it are recognised, nothing is written.
    with counting_puts() as puts:
        assert redeliver_like_lambda(deliver, records, result) == result
    assert puts == []

    # The same stream through the event-source mapping emulation: retries, then the on-failure queue.
    (source,) = stream_event_sources(stack)
    poller = StreamPoller(source, functions)
    poller.drain()
    assert_stats_are_the_truth(stack)
    (message,) = boto3.client("sqs").receive_message(QueueUrl=source.on_failure_queue_url).get("Messages", [])
    document = json.loads(message["Body"])
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == source.maximum_retry_attempts + 1
    assert document["requestContext"]["functionArn"] == source.function_arn
    info = document["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == sequence(poison)
    assert info["endSequenceNumber"] == sequence(records[-1])
    assert info["batchSize"] == len(records) - 5
    assert info["streamArn"] == stack.stream_arns["RequestLogsTable"]
    assert poller.stats.discarded == len(records) - 5
    assert poller.stats.delivered == 5


# ------------------------------------------------------------------ (f) TTL deletions
def test_ttl_deletions_never_reach_the_aggregator_and_would_not_change_stats_if_they_did(
    stack: Stack, clock: Any, ingest: Ingestor, deliver: Delivery, functions: FunctionRegistry
) -> None:
    ingest_window(ingest, 6, MIDNIGHT_MS - HALF_HOUR_MS, MIDNIGHT_MS + HALF_HOUR_MS, seed=26)
    (source,) = stream_event_sources(stack)
    poller = StreamPoller(source, functions)
    poller.drain()
    assert_stats_are_the_truth(stack)
    before = scan(stack.name("StatsTable"))
    invocations = poller.stats.invocations

    # moto never runs TTL: delete the items as the TTL process would, which puts REMOVE records on the stream.
    table = stack.name("RequestLogsTable")
    logs = logs_in_table(stack)
    for log in logs[:3]:
        dynamodb().delete_item(TableName=table, Key={"pk": {"S": log["pk"]}, "sk": {"S": log["sk"]}})
    poller.drain()
    assert poller.stats.filtered == 3
    assert poller.stats.invocations == invocations
    assert scan(stack.name("StatsTable")) == before  # stats are kept forever

    # Were the filter missing, the aggregator would refuse the record rather than count anything.
    removal = dynamodb_stream_record(
        event_name="REMOVE",
        keys={"pk": {"S": logs[3]["pk"]}, "sk": {"S": logs[3]["sk"]}},
        sequence_number="999999999999999999999999",
        stream_arn=source.stream_arn,
        ttl_deletion=True,
    )
    assert not source.accepts(removal)
    assert deliver([removal]) == {"batchItemFailures": [{"itemIdentifier": "999999999999999999999999"}]}
    assert scan(stack.name("StatsTable")) == before


# ------------------------------------------------------------------ DynamoDB's real limits
EXPRESSION_LIMIT_BYTES = 4096
OPERATOR_BUDGET = 100  # DynamoDB allows 300 operators in an expression; keep far below
_OPERATORS = re.compile(
    r"<>|<=|>=|=|<|>|\b(?:AND|OR|NOT|BETWEEN|IN|SET|REMOVE|ADD|DELETE)\b|\b[a-z_]+\(", re.IGNORECASE
)


def check_limits(params: dict[str, Any]) -> None:
    for name in ("ConditionExpression", "UpdateExpression", "ProjectionExpression", "KeyConditionExpression"):
        if name in params:
            assert len(params[name].encode()) < EXPRESSION_LIMIT_BYTES, params[name]
            assert len(_OPERATORS.findall(params[name])) <= OPERATOR_BUDGET, params[name]


def worst_case_logs(name_length: int) -> list[RequestLog]:
    """One hour of one account made as large as ingest allows: latencies and TTFTs in every sketch bin from
    1 ms to 2^53 ms (the largest latency ingest accepts), counters near 2^53, more model and provider names
    than the embedded bounds take, each ``name_length`` random four-byte characters (incompressible, and
    at 256, the longest ingest accepts, past a sort key's 1,024 bytes)."""
    mapping = LogarithmicMapping(relative_accuracy=0.01)
    latencies = sorted({int(mapping.value(key)) for key in range(mapping.key(1), mapping.key(2**53) + 1)})
    latencies = [value for value in latencies if 1 <= value <= 2**53]
    rng = random.Random(name_length)
    names = ["".join(chr(rng.randrange(0x10000, 0x110000)) for _ in range(name_length)) for _ in range(300)]
    hour_ms = MIDNIGHT_MS
    logs = []
    for position, latency in enumerate(latencies):
        created = hour_ms + position
        model = names[position % len(names)]
        logs.append(
            RequestLog(
                id=make_log_id(ACCOUNT_A, f"req_worst_{position}", created),
                account_id=ACCOUNT_A,
                request_id=f"req_worst_{position}",
                api_key_id=f"key_{'W' * 60}{position % 4}",
                api_key_prefix="sk-WWWW...",
                model=model,
                provider=names[-1 - position % len(names)],
                endpoint="/v1/chat/completions",
                method="POST",
                status="success" if position % 3 else "error",
                status_code=200 if position % 3 else 500,
                created_ms=created,
                completed_ms=created + latency,
                latency_ms=latency,
                input_tokens=2**53 - position,
                output_tokens=2**53 - 2 * position,
                streaming=True,
                ttft_ms=latency,
                cost_input=Decimal("123456.123456789012345678") + position,
                cost_output=Decimal("654321.987654321098765432") + position,
            )
        )
    return logs


# 16 four-byte characters: 256 names fill both embedded bounds at once (count and bytes). 256: the longest.
@pytest.mark.parametrize("name_length", [16, 256])
def test_every_write_stays_within_dynamodb_limits_in_the_worst_case_and_touches_each_item_once(
    stack: Stack, clock: Any, name_length: int
) -> None:
    logs = worst_case_logs(name_length)
    entries = [StreamLog.of_log(log, str(position)) for position, log in enumerate(logs, start=10**20)]
    batch_gets: list[dict[str, Any]] = []
    with (
        counting_puts() as puts,
        hooked("before-parameter-build.dynamodb.BatchGetItem", lambda params, **_: batch_gets.append(params)),
    ):
        result = aggregate(entries)
    assert result.failed_sequence_numbers == []
    assert result.conflicts == 0

    sizes = [item_size(params["Item"]) for params in puts]
    assert max(sizes) < ITEM_LIMIT_BYTES, max(sizes)
    for params in puts:
        check_limits(params)
        assert len(params["Item"]["sk"]["S"].encode()) <= 1024
        assert len(params["Item"]["pk"]["S"].encode()) <= 2048
    for params in batch_gets:
        assert all(len(request["Keys"]) <= 100 for request in params["RequestItems"].values())
    # One write per rollup item, and exactly the items the brute force expects.
    written = Counter((params["Item"]["pk"]["S"], params["Item"]["sk"]["S"]) for params in puts)
    assert max(written.values()) == 1
    assert len(written) == len(expected_rollups([log_to_item(log) for log in logs]))
    # The "all" items are the largest: their embedded groups overflowed, and they say so.
    assert len({log.model for log in logs}) > MAX_EMBEDDED_GROUPS
    all_items = [params["Item"] for params in puts if params["Item"]["pk"]["S"].endswith("#all")]
    # (the quarter hour's, the hour's and the day's: the worst case lies within one quarter hour)
    assert [item["groups_overflow"] for item in all_items] == [{"BOOL": True}] * 3


def test_a_batch_of_demo_traffic_writes_each_touched_item_once(
    stack: Stack, clock: Any, ingest: Ingestor, deliver: Delivery
) -> None:
    ingest_window(ingest, 60, NOW_MS - 3 * DAY_MS, NOW_MS, seed=27)
    records = recorded_batch(stack)
    with counting_puts() as puts:
        assert deliver(records) == {"batchItemFailures": []}
    written = Counter((params["Item"]["pk"]["S"], params["Item"]["sk"]["S"]) for params in puts)
    assert max(written.values()) == 1
    assert len(written) == len(expected_rollups(logs_in_table(stack)))
    for params in puts:
        check_limits(params)
        assert item_size(params["Item"]) < ITEM_LIMIT_BYTES
    assert_stats_are_the_truth(stack)
