"""Settling (``logic/settle``): an account that goes quiet after a backfill of late logs gets its totals
from the rollups again, exactly, without a single newer log.

The chain runs through the real functions on moto: ingest stamps the late logs, the aggregator applies
them and asks for settling (an SQS message with a delay), the settle function writes one marker per log
partition, the aggregator applies the markers, and the list's totals move from reading every log to a
few rollup items, with the same numbers as brute force over the table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from local.demo.messages import generate_messages
from local.emulator.events import sqs_event, sqs_record
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_reader import StreamReader
from local.stack.provision import Stack
from request_logs.domain.filters import LogQuery
from request_logs.domain.freshness import SETTLE_MS, shards_holding_back
from request_logs.domain.reads import ReadStats
from request_logs.logic.totals import filtered_totals
from request_logs.store import keys
from request_logs.store import stats as stats_store
from request_logs.store.dynamo import dynamodb, sqs
from tests.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    DAY_MS,
    KEYS_A,
    KEYS_B,
    NOW_MS,
    ApiCaller,
    Delivery,
    Ingestor,
    sample_messages,
)
from tests.integration.rollup_oracle import logs_in_table, scan

SETTLE = "SettleFunction"
# What the aggregator asks for after late logs stamped now: SETTLE_MS, rounded up, plus the margin.
EXPECTED_DELAY_S = SETTLE_MS // 1000 + 2


@contextmanager
def sent_settle_requests() -> Iterator[list[dict[str, Any]]]:
    """The SendMessage requests the package makes (the aggregator's and the settle function's)."""
    sent: list[dict[str, Any]] = []
    events = sqs().meta.events

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(params)

    events.register("before-parameter-build.sqs.SendMessage", record, unique_id="settle-test")
    try:
        yield sent
    finally:
        events.unregister("before-parameter-build.sqs.SendMessage", unique_id="settle-test")


def markers(stack: Stack) -> list[dict[str, Any]]:
    return [item for item in scan(stack.name("RequestLogsTable")) if keys.is_settle_marker_sk(str(item["sk"]))]


def holding_back(account: str) -> list[int]:
    return shards_holding_back(stats_store.load_progress(account), range(keys.LOG_SHARDS))


def totals(account: str) -> tuple[str, int, int]:
    """(where the totals came from, requests, DynamoDB items read) over the whole retention window."""
    reads = ReadStats()
    query = LogQuery(account, NOW_MS - 89 * DAY_MS, NOW_MS + 1)
    found = filtered_totals(query, now_ms=NOW_MS, reads=reads, with_sums=True)
    return found.source, found.counters.requests, reads.items_read


def settle_requests(stack: Stack, bodies: list[str]) -> dict[str, Any]:
    queue_arn = stack.arns["SettleQueue.Arn"]
    return sqs_event([sqs_record(body, queue_arn=queue_arn, message_id=f"s{n}") for n, body in enumerate(bodies)])


@pytest.fixture
def reader(stack: Stack) -> StreamReader:
    return StreamReader(stack.stream_arns["RequestLogsTable"])


@pytest.fixture
def aggregate_new(reader: StreamReader, deliver: Delivery) -> Callable[[], None]:
    def run() -> None:
        for records in reader.poll(limit=10_000).values():
            assert deliver(records) == {"batchItemFailures": []}

    return run


def test_a_quiet_account_after_a_backfill_gets_its_totals_from_rollups_again_exactly(
    stack: Stack,
    clock: Any,
    ingest: Ingestor,
    functions: FunctionRegistry,
    api: ApiCaller,
    aggregate_new: Callable[[], None],
) -> None:
    # A backfill: 200 logs created over the last 20 days, all ingested now (late), then silence.
    backfill = sample_messages(ACCOUNT_A, count=200, days=20, seed=5)
    assert ingest.messages(backfill) == []
    with sent_settle_requests() as sent:
        aggregate_new()
    # One request for the account, delayed until a marker stamped then clears its latest late log.
    due = NOW_MS + SETTLE_MS  # the latest late log's stamp (now) + SETTLE_MS
    assert [(json.loads(r["MessageBody"]), r["DelaySeconds"]) for r in sent] == [
        ({"account_id": ACCOUNT_A, "due_ms": due}, EXPECTED_DELAY_S)
    ]
    request = sent[0]["MessageBody"]
    logs = [log for log in logs_in_table(stack) if log["account_id"] == ACCOUNT_A]
    assert holding_back(ACCOUNT_A) == list(range(keys.LOG_SHARDS))
    source, requests, read_before = totals(ACCOUNT_A)
    assert (source, requests) == ("logs", len(logs))
    assert read_before >= len(logs)  # every log, one by one

    # Too early (delivered at once): asked again for the same instant, nothing written.
    with sent_settle_requests() as sent:
        result = functions.invoke(SETTLE, settle_requests(stack, [request]))
    assert result == {"batchItemFailures": []}
    assert [(r["MessageBody"], r["DelaySeconds"]) for r in sent] == [(request, EXPECTED_DELAY_S)]
    assert markers(stack) == []

    # On time: one marker per partition holding back, stamped now; the aggregator applies them.
    clock.shift(EXPECTED_DELAY_S)
    with sent_settle_requests() as sent:
        assert functions.invoke(SETTLE, settle_requests(stack, [request])) == {"batchItemFailures": []}
    assert sent == []
    written = markers(stack)
    assert sorted(int(str(m["pk"]).rsplit("#", 1)[1]) for m in written) == list(range(keys.LOG_SHARDS))
    assert {int(m["ingested_ms"]) for m in written} == {NOW_MS + EXPECTED_DELAY_S * 1000}
    with sent_settle_requests() as sent:
        aggregate_new()
    assert sent == []  # markers are no late logs: nothing more to ask
    assert holding_back(ACCOUNT_A) == []

    # The same numbers, from a few rollup items instead of every log.
    source, requests, read_after = totals(ACCOUNT_A)
    assert (source, requests) == ("rollups", len(logs))
    assert read_after < read_before
    # Markers are no logs: the list and its total see exactly the logs of the table.
    listed = api.get("/api/account/request-logs", {"limit": 100, "start_date": "2026-10-01"}, account=ACCOUNT_A)
    assert listed.status == 200
    assert listed.body["pagination"]["total"] == len(logs)
    ids = {log["id"] for log in listed.body["logs"]}
    cursor = listed.body["pagination"]["nextCursor"]
    while cursor:
        page = api.get("/api/account/request-logs", {"cursor": cursor, "start_date": "2026-10-01"}, account=ACCOUNT_A)
        ids |= {log["id"] for log in page.body["logs"]}
        cursor = page.body["pagination"]["nextCursor"]
    assert ids == {log["id"] for log in logs}

    # A second request for a settled account reads its progress and does nothing.
    with sent_settle_requests() as sent:
        assert functions.invoke(SETTLE, settle_requests(stack, [request])) == {"batchItemFailures": []}
    assert sent == []
    assert len(markers(stack)) == keys.LOG_SHARDS


def sent_body(account: str, due_ms: int = NOW_MS) -> str:
    return json.dumps({"account_id": account, "due_ms": due_ms})


def test_an_account_without_late_logs_is_never_asked_for_and_never_marked(
    stack: Stack, clock: Any, ingest: Ingestor, functions: FunctionRegistry, aggregate_new: Callable[[], None]
) -> None:
    # Created in the minutes before they are ingested: none is late.
    on_time = generate_messages(ACCOUNT_B, KEYS_B, 30, NOW_MS - 4 * 60_000, NOW_MS - 60_000, seed=6)
    assert ingest.messages(on_time) == []
    with sent_settle_requests() as sent:
        aggregate_new()
        assert functions.invoke(SETTLE, settle_requests(stack, [sent_body(ACCOUNT_B)])) == {"batchItemFailures": []}
    assert sent == []
    assert markers(stack) == []


def test_a_malformed_settle_request_fails_alone(stack: Stack, clock: Any, functions: FunctionRegistry) -> None:
    bodies = [
        "not json",
        json.dumps({"account": ACCOUNT_A, "due_ms": NOW_MS}),
        json.dumps({"account_id": ACCOUNT_A}),
        sent_body(ACCOUNT_B),
    ]
    result = functions.invoke(SETTLE, settle_requests(stack, bodies))
    assert result == {"batchItemFailures": [{"itemIdentifier": f"s{n}"} for n in range(3)]}


def test_with_late_logs_arriving_steadily_only_the_latest_request_acts(
    stack: Stack,
    clock: Any,
    ingest: Ingestor,
    functions: FunctionRegistry,
    aggregate_new: Callable[[], None],
) -> None:
    """A gateway whose logs all arrive late (a backlog): every aggregator batch asks for a later instant;
    an older request, once due, reads the progress and ends (no chain of re-requests), and the latest one
    writes the markers when the late logs stop."""
    requests: list[str] = []
    for batch in range(6):  # a batch every 10 s, each of logs created an hour before
        created = NOW_MS + batch * 10_000 - 3_600_000
        messages = generate_messages(ACCOUNT_A, KEYS_A, 20, created, created + 5_000, seed=40 + batch)
        assert ingest.messages(messages) == []
        with sent_settle_requests() as sent:
            aggregate_new()
        requests += [r["MessageBody"] for r in sent]
        clock.shift(10)
    dues = [json.loads(body)["due_ms"] for body in requests]
    assert dues == [NOW_MS + n * 10_000 + SETTLE_MS for n in range(6)]  # one per batch, each later

    # Every request delivered when it is due: the five older ones are superseded, without a new request.
    for body, due in zip(requests, dues, strict=True):
        clock.move_to(due / 1000)
        with sent_settle_requests() as sent:
            assert functions.invoke(SETTLE, settle_requests(stack, [body])) == {"batchItemFailures": []}
        assert sent == []
        if due != dues[-1]:
            assert markers(stack) == []
    assert len(markers(stack)) == keys.LOG_SHARDS
    aggregate_new()
    assert holding_back(ACCOUNT_A) == []


def test_a_request_answered_early_moves_to_the_later_instant_once(
    stack: Stack, clock: Any, ingest: Ingestor, functions: FunctionRegistry, aggregate_new: Callable[[], None]
) -> None:
    """The late mark can be later than the request's instant (a duplicate late message raises it without a
    log): the request moves there, once; a copy of the same request (SQS delivers at least once) does not
    move it again."""
    backfill = sample_messages(ACCOUNT_A, count=20, days=3, seed=9)
    assert ingest.messages(backfill) == []
    with sent_settle_requests() as sent:
        aggregate_new()
    (request,) = [r["MessageBody"] for r in sent]
    clock.shift(60)
    assert ingest.messages(backfill[:1]) == []  # a redelivery: announced as late, then found a duplicate
    assert len([log for log in logs_in_table(stack) if log["account_id"] == ACCOUNT_A]) == len(backfill)
    ready = NOW_MS + 60_000 + SETTLE_MS
    clock.move_to(json.loads(request)["due_ms"] / 1000)
    with sent_settle_requests() as sent:
        assert functions.invoke(SETTLE, settle_requests(stack, [request, request])) == {"batchItemFailures": []}
    assert [json.loads(r["MessageBody"])["due_ms"] for r in sent] == [ready]
    assert markers(stack) == []
    clock.move_to(ready / 1000)
    assert functions.invoke(SETTLE, settle_requests(stack, [sent[0]["MessageBody"]])) == {"batchItemFailures": []}
    assert len(markers(stack)) == keys.LOG_SHARDS


def test_markers_left_unprocessed_are_retried_then_the_request_fails_for_redelivery(
    stack: Stack, clock: Any, ingest: Ingestor, functions: FunctionRegistry, aggregate_new: Callable[[], None]
) -> None:
    """BatchWriteItem may leave items unprocessed (throttling): they are written again; if they stay
    unprocessed, the request is a batch item failure and SQS delivers it again."""
    assert ingest.messages(sample_messages(ACCOUNT_A, count=20, days=3, seed=12)) == []
    with sent_settle_requests() as sent:
        aggregate_new()
    (request,) = [r["MessageBody"] for r in sent]
    clock.move_to(json.loads(request)["due_ms"] / 1000)
    throttled: list[int] = []
    table = stack.name("RequestLogsTable")

    def throttle(times: int) -> Callable[..., Any]:
        """Answer the first ``times`` BatchWriteItem calls as DynamoDB does when throttled: nothing
        written, every request unprocessed."""

        def handler(params: dict[str, Any], **_: Any) -> Any:
            if len(throttled) >= times:
                return None  # make the call
            throttled.append(1)
            unprocessed = json.loads(params["body"])["RequestItems"][table]
            return AWSResponse(params["url"], 200, {}, None), {"UnprocessedItems": {table: unprocessed}}

        return handler

    events = dynamodb().meta.events
    # With a request that succeeds beside it: a batch whose every record fails is retried whole instead.
    batch = settle_requests(stack, [request, sent_body(ACCOUNT_B)])
    events.register("before-call.dynamodb.BatchWriteItem", throttle(times=10), unique_id="throttle")
    try:
        assert functions.invoke(SETTLE, batch) == {"batchItemFailures": [{"itemIdentifier": "s0"}]}
    finally:
        events.unregister("before-call.dynamodb.BatchWriteItem", unique_id="throttle")
    assert len(throttled) > 1  # retried before giving up
    assert markers(stack) == []

    throttled.clear()
    events.register("before-call.dynamodb.BatchWriteItem", throttle(times=1), unique_id="throttle")
    try:
        assert functions.invoke(SETTLE, batch) == {"batchItemFailures": []}
    finally:
        events.unregister("before-call.dynamodb.BatchWriteItem", unique_id="throttle")
    assert throttled == [1]
    assert len(markers(stack)) == keys.LOG_SHARDS
