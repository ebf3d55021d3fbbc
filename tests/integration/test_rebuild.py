"""The rebuild: corrupted or missing rollups come back equal to the truth, a second run writes nothing, the
aggregator's marks survive it, records the aggregator gave up on are recovered, a concurrent aggregator
write makes it start the day over, and it refuses ranges it cannot make exact. Then the same through
``python -m admin rebuild-stats`` against a moto server, as an operator runs it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import astuple
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from admin.cli import main
from local.demo.messages import generate_messages
from local.emulator.events import dynamodb_stream_event
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_poller import StreamPoller, stream_event_sources
from local.emulator.stream_reader import StreamReader
from local.stack.provision import Stack, provision
from request_logs.config import get_settings
from request_logs.logic import accounts
from request_logs.logic.aggregate import aggregate
from request_logs.logic.rebuild import (
    RebuildRange,
    RebuildRefused,
    plan_rebuild,
    rebuild_stats,
    settle_seconds,
)
from request_logs.store.dynamo import dynamodb, reset_clients, to_attributes
from request_logs.store.stream_records import stream_log_from
from tests.conftest import ACCOUNT_A, DAY_MS, KEYS_A, NOW_MS, Ingestor
from tests.integration.rollup_oracle import (
    assert_stats_are_the_truth,
    expected_rollups,
    key_of,
    logs_in_table,
    mismatches,
    rollup_items,
    scan,
    stored_rollups,
)

HOUR_MS = 3_600_000
TODAY_MS = NOW_MS - NOW_MS % DAY_MS
SETTLE = settle_seconds(21_600, 60)


def ingest_days(ingest: Ingestor, count: int, first_day_ms: int, days: int, seed: int) -> None:
    messages = generate_messages(ACCOUNT_A, KEYS_A, count, first_day_ms, first_day_ms + days * DAY_MS, seed=seed)
    assert ingest.messages(messages) == []


def aggregate_everything(stack: Stack, functions: FunctionRegistry) -> StreamPoller:
    (source,) = stream_event_sources(stack)
    poller = StreamPoller(source, functions)
    poller.drain()
    return poller


def whole_range(first_day_ms: int, days: int) -> RebuildRange:
    return plan_rebuild(ACCOUNT_A, first_day_ms, first_day_ms + days * DAY_MS, now_ms=NOW_MS, settle_seconds=SETTLE)


def put_raw(stack: Stack, item: dict[str, Any]) -> None:
    dynamodb().put_item(TableName=stack.name("StatsTable"), Item=to_attributes(item))


@pytest.fixture
def aggregator(stack: Stack) -> str:
    ((function, _),) = stack.template.event_sources("DynamoDB")
    return function


# ------------------------------------------------------------------ recovery


def _level(item: dict[str, Any]) -> tuple[str, str]:
    key = key_of(item)
    return key.granularity, key.dimension


def test_corrupted_missing_and_spurious_items_are_rebuilt_to_the_truth_and_a_second_run_writes_nothing(
    stack: Stack, clock: Any, ingest: Ingestor, functions: FunctionRegistry
) -> None:
    first_day = TODAY_MS - 6 * DAY_MS
    ingest_days(ingest, 60, first_day, 3, seed=41)
    ingest_days(ingest, 10, first_day - 2 * DAY_MS, 1, seed=42)  # outside the range rebuilt below
    aggregate_everything(stack, functions)
    assert_stats_are_the_truth(stack)

    items = rollup_items(stack)
    in_range = [item for item in items if first_day <= key_of(item).bucket_ms < first_day + 3 * DAY_MS]
    outside = next(item for item in items if key_of(item).bucket_ms < first_day)
    hour = next(item for item in in_range if _level(item) == ("hour", "all"))
    day = next(item for item in in_range if _level(item) == ("day", "model"))
    put_raw(stack, {**hour, "requests": hour["requests"] + 5, "latency_sum": 1})  # corrupted
    dynamodb().delete_item(TableName=stack.name("StatsTable"), Key=to_attributes({"pk": day["pk"], "sk": day["sk"]}))
    ghost = {**day, "sk": day["sk"].rsplit("#", 1)[0] + "#ghost/model"}
    put_raw(stack, ghost)  # no log supports it
    put_raw(stack, {**outside, "requests": outside["requests"] + 7})  # outside the range: left alone
    assert mismatches(expected_rollups(logs_in_table(stack)), stored_rollups(stack))

    progress: list[int] = []
    result = rebuild_stats(whole_range(first_day, 3), now_ms=NOW_MS, progress=progress.append)
    assert progress == [1] * 72
    assert (result.written, result.deleted) == (2, 1)  # the corrupted hour and the missing day; the ghost
    assert result.unchanged == len(in_range) - 2
    assert result.logs_read == 60
    problems = mismatches(expected_rollups(logs_in_table(stack)), stored_rollups(stack))
    outside_key = astuple(key_of(outside))
    assert problems  # the item outside the range is still the corrupted one, and only it
    assert all(problem.startswith(f"{outside_key}:") for problem in problems), problems

    before = scan(stack.name("StatsTable"))
    again = rebuild_stats(whole_range(first_day, 3), now_ms=NOW_MS)
    assert (again.written, again.deleted, again.unchanged) == (0, 0, len(in_range))
    assert scan(stack.name("StatsTable")) == before  # not even a version moved


def test_the_rebuild_keeps_the_aggregators_marks_so_a_replay_still_counts_nothing(
    stack: Stack, clock: Any, ingest: Ingestor, functions: FunctionRegistry, aggregator: str
) -> None:
    first_day = TODAY_MS - 4 * DAY_MS
    ingest_days(ingest, 30, first_day, 2, seed=43)
    aggregate_everything(stack, functions)
    marks = {item["sk"] + item["pk"]: item["applied"] for item in rollup_items(stack)}
    for item in rollup_items(stack):
        put_raw(stack, {**item, "requests": 0, "successful": 0})  # every item wrong
    rebuild_stats(whole_range(first_day, 2), now_ms=NOW_MS)
    assert_stats_are_the_truth(stack)
    assert {item["sk"] + item["pk"]: item["applied"] for item in rollup_items(stack)} == marks

    (records,) = StreamReader(stack.stream_arns["RequestLogsTable"]).poll(10_000).values()
    assert functions.invoke(aggregator, dynamodb_stream_event(records)) == {"batchItemFailures": []}
    assert_stats_are_the_truth(stack)


def test_records_the_aggregator_gave_up_on_are_recovered_by_a_rebuild(
    stack: Stack, clock: Any, ingest: Ingestor, functions: FunctionRegistry
) -> None:
    first_day = TODAY_MS - 5 * DAY_MS
    ingest_days(ingest, 30, first_day, 2, seed=44)

    def provider_outage(params: dict[str, Any], **_: Any) -> None:
        if params["Item"]["sk"]["S"].endswith("#openai"):
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "PutItem")

    events = dynamodb().meta.events
    events.register("before-parameter-build.dynamodb.PutItem", provider_outage, unique_id="outage")
    try:
        poller = aggregate_everything(stack, functions)
    finally:
        events.unregister("before-parameter-build.dynamodb.PutItem", unique_id="outage")
    assert poller.stats.discarded > 0  # described on the failure queue: the alarm says "run the rebuild"
    assert mismatches(expected_rollups(logs_in_table(stack)), stored_rollups(stack))

    rebuild_stats(whole_range(first_day, 2), now_ms=NOW_MS)
    assert_stats_are_the_truth(stack)


def test_an_aggregator_write_during_the_rebuild_makes_it_read_the_day_again(
    stack: Stack, clock: Any, ingest: Ingestor, functions: FunctionRegistry
) -> None:
    day = TODAY_MS - 3 * DAY_MS
    ingest_days(ingest, 20, day, 1, seed=45)
    aggregate_everything(stack, functions)
    reader = StreamReader(stack.stream_arns["RequestLogsTable"])
    reader.poll(10_000)  # past what is already aggregated
    late = generate_messages(ACCOUNT_A, KEYS_A, 1, day + HOUR_MS, day + 2 * HOUR_MS, seed=46)
    late[0]["request_id"] = "req_arrives_mid_rebuild"

    def a_log_arrives_and_is_aggregated(**_: Any) -> None:
        """After the rebuild read the day's logs, before its first write: a new log, aggregated at once."""
        if late:
            assert ingest.messages([late.pop()]) == []
            ((record,),) = reader.poll(10).values()
            assert aggregate([stream_log_from(record)]).writes > 0

    for item in rollup_items(stack):
        put_raw(stack, {**item, "requests": 0})  # every item wrong, so the rebuild has something to write
    events = dynamodb().meta.events
    events.register("before-call.dynamodb.PutItem", a_log_arrives_and_is_aggregated, unique_id="late")
    try:
        result = rebuild_stats(whole_range(day, 1), now_ms=NOW_MS)
    finally:
        events.unregister("before-call.dynamodb.PutItem", unique_id="late")
    assert late == []
    assert result.logs_read == 21  # the second reading of the day saw the new log
    assert_stats_are_the_truth(stack)


# ------------------------------------------------------------------ what it refuses
def test_the_range_widens_to_whole_utc_days() -> None:
    plan = plan_rebuild(
        ACCOUNT_A, TODAY_MS - 5 * DAY_MS + 7 * HOUR_MS, TODAY_MS - 3 * DAY_MS + 1, now_ms=NOW_MS, settle_seconds=SETTLE
    )
    assert (plan.start_ms, plan.end_ms, plan.hours) == (TODAY_MS - 5 * DAY_MS, TODAY_MS - 2 * DAY_MS, 72)


def test_days_whose_records_may_still_reach_the_aggregator_are_refused_unless_forced() -> None:
    settled = NOW_MS - SETTLE * 1000
    with pytest.raises(RebuildRefused, match="count them twice"):
        plan_rebuild(ACCOUNT_A, TODAY_MS - DAY_MS, settled + 1, now_ms=NOW_MS, settle_seconds=SETTLE)
    forced = plan_rebuild(ACCOUNT_A, TODAY_MS - DAY_MS, NOW_MS, now_ms=NOW_MS, settle_seconds=SETTLE, force=True)
    assert forced.end_ms == TODAY_MS + DAY_MS
    assert settle_seconds(None, 60) == 86_400 + 60  # no age limit: records wait up to the stream's 24 h


def test_days_past_log_retention_are_refused_even_when_forced() -> None:
    oldest_whole_day = NOW_MS - 90 * DAY_MS - (NOW_MS - 90 * DAY_MS) % DAY_MS + DAY_MS
    plan_rebuild(ACCOUNT_A, oldest_whole_day, oldest_whole_day + DAY_MS, now_ms=NOW_MS, settle_seconds=SETTLE)
    with pytest.raises(RebuildRefused, match="retention"):
        plan_rebuild(
            ACCOUNT_A, oldest_whole_day - DAY_MS, oldest_whole_day, now_ms=NOW_MS, settle_seconds=SETTLE, force=True
        )
    with pytest.raises(RebuildRefused, match="empty"):
        plan_rebuild(ACCOUNT_A, TODAY_MS - DAY_MS, TODAY_MS - DAY_MS, now_ms=NOW_MS, settle_seconds=SETTLE)


# ------------------------------------------------------------------ the command
@pytest.fixture
def local_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """What `make run` serves: a moto server behind AWS_ENDPOINT_URL with the template's resources."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    for name in ("API_KEYS_TABLE", "LOGS_TABLE", "STATS_TABLE"):
        monkeypatch.delenv(name, raising=False)
    reset_clients()
    try:
        stack = provision()
        for name, value in stack.function_environment().items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield stack
    finally:
        reset_clients()
        get_settings.cache_clear()
        server.stop()


def test_admin_rebuild_stats_repairs_the_local_stack_with_a_progress_bar(
    local_stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time_ns() // 1_000_000
    today = now - now % DAY_MS
    accounts.create_account("Rebuild test", ACCOUNT_A)
    functions = FunctionRegistry(local_stack.template)
    messages = generate_messages(ACCOUNT_A, KEYS_A, 25, today - 5 * DAY_MS, today - 3 * DAY_MS, seed=46)
    assert Ingestor(functions, local_stack).messages(messages) == []
    aggregate_everything(local_stack, functions)
    item = next(item for item in rollup_items(local_stack) if key_of(item).granularity == "day")
    put_raw(local_stack, {**item, "requests": 999})

    start, end = (time.strftime("%Y-%m-%d", time.gmtime(ms / 1000)) for ms in (today - 5 * DAY_MS, today - 3 * DAY_MS))
    code = main(["rebuild-stats", "--account-id", ACCOUNT_A, "--start", start, "--end", end])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "72/72" in captured.err  # tqdm's bar: three days of hours
    assert "1 items written" in captured.out
    assert_stats_are_the_truth(local_stack)

    code = main(["rebuild-stats", "--account-id", ACCOUNT_A, "--start", start, "--end", end, "--json"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out)["items_written"] == 0
    assert captured.err == ""

    today_iso = time.strftime("%Y-%m-%d", time.gmtime(today / 1000))
    code = main(["rebuild-stats", "--account-id", ACCOUNT_A, "--start", start, "--end", today_iso])
    captured = capsys.readouterr()
    assert code == 1
    assert "refusing to rebuild" in captured.err
    assert "force it once the aggregator is idle" in captured.err
    assert main(["rebuild-stats", "--account-id", "acct_nobody", "--start", start, "--end", end]) == 1
    assert "no account acct_nobody" in capsys.readouterr().err


def test_admin_index_metadata_key_backfills_the_stored_logs_and_rebuilds_their_days(
    local_stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    from request_logs.logic.stats import get_request_log_stats

    now = time.time_ns() // 1_000_000
    today = now - now % DAY_MS
    accounts.create_account("Index test", ACCOUNT_A)
    functions = FunctionRegistry(local_stack.template)
    messages = generate_messages(ACCOUNT_A, KEYS_A, 30, today - 5 * DAY_MS, today - 2 * DAY_MS, seed=47)
    for position, message in enumerate(messages):  # a third without the key, one with an empty value
        message["version"] = 2
        if position % 3:
            message["metadata"] = {"feature": ["chat", "search", ""][position % 4 % 3]}
    assert Ingestor(functions, local_stack).messages(messages) == []
    aggregate_everything(local_stack, functions)
    capsys.readouterr()  # the functions' own log lines

    code = main(["index-metadata-key", "--account-id", ACCOUNT_A, "--key", "feature", "--force", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    carrying = [m for m in messages if "metadata" in m]
    days = {int(m["created_at"][8:10]) for m in messages}
    assert (result["logs_with_key"], result["logs_indexed"], result["days_rebuilt"]) == (
        len(carrying),
        len(carrying),
        len(days),
    )
    # Logs stored before the declaration are now grouped (and those without the key under null).
    stats = get_request_log_stats(ACCOUNT_A, today - 6 * DAY_MS, today, ("metadata.feature",), now_ms=now)
    found = {(entry.value, entry.other): entry.requests for entry in stats.by_metadata or []}
    expected: dict[tuple[str | None, bool], int] = {}
    for message in messages:
        value = (message.get("metadata") or {}).get("feature")
        expected[(value, False)] = expected.get((value, False), 0) + 1
    assert found == expected
    again = main(["index-metadata-key", "--account-id", ACCOUNT_A, "--key", "feature", "--force", "--json"])
    assert again == 0 and json.loads(capsys.readouterr().out)["logs_indexed"] == 0


def test_admin_backfill_value_partitions_puts_older_logs_into_the_latency_index(
    local_stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time_ns() // 1_000_000
    today = now - now % DAY_MS
    accounts.create_account("Backfill test", ACCOUNT_A)
    functions = FunctionRegistry(local_stack.template)
    messages = generate_messages(ACCOUNT_A, KEYS_A, 24, today - 5 * DAY_MS, today - 2 * DAY_MS, seed=48)
    assert Ingestor(functions, local_stack).messages(messages) == []
    client, table = dynamodb(), get_settings().logs_table
    for item in client.scan(TableName=table)["Items"]:  # as logs written before latency_bucket_pk existed
        client.update_item(
            TableName=table, Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="REMOVE latency_bucket_pk"
        )

    def in_latency_index() -> int:
        return len(client.scan(TableName=table, IndexName="by_latency")["Items"])

    assert in_latency_index() == 0
    capsys.readouterr()  # the functions' own log lines
    code = main(["backfill-value-partitions", "--account-id", ACCOUNT_A, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert (result["account_id"], result["logs"], result["written"]) == (ACCOUNT_A, len(messages), len(messages))
    assert in_latency_index() == len(messages)
    assert main(["backfill-value-partitions", "--account-id", ACCOUNT_A]) == 0
    assert f"0 of the {len(messages)} retained logs" in capsys.readouterr().out
    assert main(["backfill-value-partitions", "--account-id", "acct_nobody"]) == 1
    assert "no account acct_nobody" in capsys.readouterr().err


def test_days_a_key_declaration_could_not_rebuild_are_pending_until_rebuild_stats_covers_them(
    local_stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from admin import cli
    from request_logs.domain.filters import LogQuery, MetadataFilter
    from request_logs.logic.read_logs import list_request_logs
    from request_logs.logic.stats import get_request_log_stats

    monkeypatch.setattr(cli, "_ingest_settle_seconds", lambda: 0)  # no ingest runs beside this test
    now = time.time_ns() // 1_000_000
    today = now - now % DAY_MS
    accounts.create_account("Pending test", ACCOUNT_A)
    functions = FunctionRegistry(local_stack.template)
    # Within the aggregator's settle window (6 h): the declaration cannot rebuild their day.
    messages = generate_messages(ACCOUNT_A, KEYS_A, 12, now - 3 * 3_600_000, now - 60_000, seed=48)
    for position, message in enumerate(messages):
        message.update(version=2, metadata={"feature": "chat" if position % 2 else "search"})
    assert Ingestor(functions, local_stack).messages(messages) == []
    aggregate_everything(local_stack, functions)
    capsys.readouterr()

    assert main(["index-metadata-key", "--account-id", ACCOUNT_A, "--key", "feature", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["days_rebuilt"] == 0 and result["pending_from"] is not None
    # The filter's total comes from the logs meanwhile: exact.
    chat = sum(1 for m in messages if m["metadata"]["feature"] == "chat")
    query = LogQuery(ACCOUNT_A, today - DAY_MS, now + 1, metadata=(MetadataFilter("feature", "chat"),))
    assert list_request_logs(query, limit=5, offset=0, cursor=None, now_ms=now).pagination.total == chat
    stats = get_request_log_stats(ACCOUNT_A, today - DAY_MS, now + 1, ("metadata.feature",), now_ms=now)
    assert stats.range.note is not None and "rebuild-stats" in stats.range.note

    first, last = (time.strftime("%Y-%m-%d", time.gmtime(ms / 1000)) for ms in (now - 3 * 3_600_000, now))
    code = main(["rebuild-stats", "--account-id", ACCOUNT_A, "--start", first, "--end", last, "--force", "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["completed_metadata_keys"] == ["feature"]
    stats = get_request_log_stats(ACCOUNT_A, today - DAY_MS, now + 1, ("metadata.feature",), now_ms=now)
    assert stats.range.note is None
    assert {entry.value: entry.requests for entry in stats.by_metadata or []} == {
        "chat": chat,
        "search": len(messages) - chat,
    }
