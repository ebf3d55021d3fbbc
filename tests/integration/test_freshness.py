"""The write side of the settled horizon (``domain/freshness``): ingest stamps logs and announces late ones
before writing them, the aggregator records per log shard the stamp of an applied log, and whatever
Lambda does (a failed item, a poison record, replays, a failed progress write), the horizon never claims
a log the rollups lack.

Faults enter at the boto3 boundary only (botocore event hooks on the client the package uses). The last
test is the property the readers rely on, checked by brute force at every step: each rollup item that
lies wholly before the settled instant equals the fold of the logs in the table.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.demo.messages import generate_messages
from local.emulator.stream_reader import StreamReader
from local.stack.provision import Stack
from request_logs.config import get_settings
from request_logs.domain.freshness import LATE_AFTER_MS, SETTLE_MS, Progress, rollups_settled_before
from request_logs.domain.timeutil import END_OF_TIME_MS
from request_logs.store import keys
from request_logs.store import stats as stats_store
from request_logs.store.dynamo import dynamodb
from tests.conftest import ACCOUNT_A, ACCOUNT_B, DAY_MS, KEYS_A, KEYS_B, NOW_MS, Delivery, Ingestor, Record
from tests.integration import oracle
from tests.integration.rollup_oracle import (
    assert_stats_are_the_truth,
    expected_rollups,
    logs_in_table,
    mismatches,
    stored_rollups,
)

MINUTE_MS = 60_000
HOUR_MS = 3_600_000


# ------------------------------------------------------------------ helpers
@contextmanager
def hooked(event: str, handler: Callable[..., Any]) -> Iterator[None]:
    """A botocore event handler on the DynamoDB client the package uses."""
    events = dynamodb().meta.events
    unique_id = f"freshness-{id(handler)}"
    events.register(event, handler, unique_id=unique_id)
    try:
        yield
    finally:
        events.unregister(event, unique_id=unique_id)


def injected(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, operation)


def on_time(account: str, count: int, stamp_ms: int, seed: int) -> list[dict[str, Any]]:
    """Messages created shortly before they are ingested at ``stamp_ms``: none of them is late."""
    keys_ = KEYS_A if account == ACCOUNT_A else KEYS_B
    return generate_messages(account, keys_, count, stamp_ms - 4 * MINUTE_MS, stamp_ms - MINUTE_MS, seed=seed)


def created_at(account: str, created_ms: int, seed: int) -> dict[str, Any]:
    keys_ = KEYS_A if account == ACCOUNT_A else KEYS_B
    (message,) = generate_messages(account, keys_, 1, created_ms, created_ms + 1, seed=seed)
    return message


def stored(stack: Stack) -> dict[str, dict[str, Any]]:
    """request id → log item."""
    return {log["request_id"]: log for log in logs_in_table(stack)}


def progress_item(account: str) -> dict[str, Any] | None:
    """The raw progress item, read with a client of its own (no hook of the test sees this read)."""
    response = boto3.client("dynamodb").get_item(
        TableName=get_settings().stats_table,
        Key={"pk": {"S": keys.progress_pk(account)}, "sk": {"S": keys.PROGRESS_SK}},
        ConsistentRead=True,
    )
    item: dict[str, Any] | None = response.get("Item")
    return item


def late_marks(account: str) -> tuple[int | None, int | None]:
    progress = stats_store.load_progress(account)
    return progress.late_ingested_max, progress.late_created_min


@pytest.fixture
def reader(stack: Stack) -> StreamReader:
    return StreamReader(stack.stream_arns["RequestLogsTable"])


def new_records(reader: StreamReader) -> list[Record]:
    """The records written since the last poll (moto has one stream shard)."""
    shards = reader.poll(limit=10_000)
    return [record for records in shards.values() for record in records]


def sequence(record: Record) -> int:
    return int(record["dynamodb"]["SequenceNumber"])


def image(record: Record) -> dict[str, Any]:
    new_image: dict[str, Any] = record["dynamodb"]["NewImage"]
    return new_image


def lose_the_race_on(target: tuple[str, str]) -> Callable[..., None]:
    """Every put of one rollup item fails its version condition, so its records are reported failed."""
    client = dynamodb()

    def handler(params: dict[str, Any], **_: Any) -> None:
        if (params["Item"]["pk"]["S"], params["Item"]["sk"]["S"]) == target:
            error = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "injected conflict"}}
            raise client.exceptions.ConditionalCheckFailedException(error, "PutItem")

    return handler


def hour_model_item(record: Record) -> tuple[str, str]:
    created = int(image(record)["created_ms"]["N"])
    return (
        keys.stats_pk(ACCOUNT_A, "hour", "model"),
        keys.stats_sk(created - created % HOUR_MS, image(record)["model"]["S"]),
    )


def brute_applied_stamps(records: list[Record], failed: set[int]) -> dict[int, int]:
    """Per shard, the latest stamp among the records before the first failed one of its partition."""
    by_partition: dict[str, list[Record]] = {}
    for record in sorted(records, key=sequence):
        by_partition.setdefault(image(record)["pk"]["S"], []).append(record)
    stamps: dict[int, int] = {}
    for partition, in_order in by_partition.items():
        prefix = list(itertools.takewhile(lambda r: sequence(r) not in failed, in_order))
        if prefix:
            stamps[int(partition.rsplit("#", 1)[1])] = max(int(image(r)["ingested_ms"]["N"]) for r in prefix)
    return stamps


# ------------------------------------------------------------------ ingest: the stamp
def test_every_log_of_a_batch_carries_one_stamp_taken_before_anything_was_written(
    stack: Stack, clock: Any, ingest: Ingestor
) -> None:
    messages = on_time(ACCOUNT_A, 15, NOW_MS, seed=81)  # two SQS batches: 10, then 5
    logs_table = stack.name("RequestLogsTable")

    def a_second_passes_per_log_written(params: dict[str, Any], **_: Any) -> None:
        if params["TableName"] == logs_table:
            clock.shift(1)

    with hooked("before-parameter-build.dynamodb.PutItem", a_second_passes_per_log_written):
        assert ingest.messages(messages) == []
    logs = stored(stack)
    stamps = [int(logs[m["request_id"]]["ingested_ms"]) for m in messages]
    # Ten seconds passed while the first batch wrote its logs: the second batch was stamped after them.
    assert stamps == [NOW_MS] * 10 + [NOW_MS + 10_000] * 5


def test_a_redelivered_duplicate_keeps_the_stamp_of_its_first_write(stack: Stack, clock: Any, ingest: Ingestor) -> None:
    messages = on_time(ACCOUNT_A, 6, NOW_MS, seed=82)
    assert ingest.messages(messages) == []
    clock.shift(3600)
    assert ingest.messages([*messages[3:], *on_time(ACCOUNT_A, 2, NOW_MS + HOUR_MS, seed=83)]) == []
    logs = stored(stack)
    assert len(logs) == 8
    assert [int(logs[m["request_id"]]["ingested_ms"]) for m in messages] == [NOW_MS] * 6


# ------------------------------------------------------------------ ingest: late arrivals
def test_a_batch_without_late_logs_leaves_the_marks_alone(stack: Stack, clock: Any, ingest: Ingestor) -> None:
    updates: list[dict[str, Any]] = []
    with hooked("before-parameter-build.dynamodb.UpdateItem", lambda params, **_: updates.append(params)):
        assert ingest.messages(on_time(ACCOUNT_A, 10, NOW_MS, seed=84)) == []
    assert updates == []
    assert stats_store.load_progress(ACCOUNT_A) == Progress()


def test_a_late_message_raises_both_marks_before_its_log_is_written(stack: Stack, clock: Any, ingest: Ingestor) -> None:
    earliest = NOW_MS - 3 * HOUR_MS
    late = [created_at(ACCOUNT_A, earliest, seed=85), created_at(ACCOUNT_A, NOW_MS - HOUR_MS, seed=86)]
    messages = [*on_time(ACCOUNT_A, 3, NOW_MS, seed=87), *late]
    logs_table = stack.name("RequestLogsTable")
    seen_at_first_log_write: list[dict[str, Any] | None] = []

    def no_log_reaches_the_table(params: dict[str, Any], **_: Any) -> None:
        if params["TableName"] == logs_table:
            if not seen_at_first_log_write:
                seen_at_first_log_write.append(progress_item(ACCOUNT_A))
            raise injected("PutItem")

    with hooked("before-parameter-build.dynamodb.PutItem", no_log_reaches_the_table):
        failed = ingest.messages(messages)
    assert sorted(failed) == sorted(json.dumps(m) for m in messages)
    assert stored(stack) == {}
    # The marks were in place when the first log was about to be written, and stay without any log.
    (at_first_write,) = seen_at_first_log_write
    assert at_first_write is not None
    assert (int(at_first_write["late_ingested_max"]["N"]), int(at_first_write["late_created_min"]["N"])) == (
        NOW_MS,
        earliest,
    )
    assert late_marks(ACCOUNT_A) == (NOW_MS, earliest)

    # SQS redelivers a minute later: stamped again, announced again, written.
    clock.shift(60)
    assert ingest.messages(messages) == []
    assert {int(log["ingested_ms"]) for log in stored(stack).values()} == {NOW_MS + MINUTE_MS}
    assert late_marks(ACCOUNT_A) == (NOW_MS + MINUTE_MS, earliest)


@pytest.mark.parametrize("failing_mark", ["late_ingested_max", "late_created_min"])
def test_when_an_accounts_marks_cannot_be_raised_its_late_logs_wait_for_redelivery(
    stack: Stack, clock: Any, ingest: Ingestor, failing_mark: str
) -> None:
    mine_late = created_at(ACCOUNT_A, NOW_MS - 2 * HOUR_MS, seed=88)
    mine_on_time = on_time(ACCOUNT_A, 2, NOW_MS, seed=89)
    theirs_late = created_at(ACCOUNT_B, NOW_MS - 5 * HOUR_MS, seed=90)
    progress_of_a = keys.progress_pk(ACCOUNT_A)

    def fail_one_mark_of_a(params: dict[str, Any], **_: Any) -> None:
        if params["Key"]["pk"]["S"] == progress_of_a and params["ExpressionAttributeNames"]["#mark"] == failing_mark:
            raise injected("UpdateItem")

    with hooked("before-parameter-build.dynamodb.UpdateItem", fail_one_mark_of_a):
        failed = ingest.messages([mine_late, *mine_on_time, theirs_late])
    assert failed == [json.dumps(mine_late)]
    assert set(stored(stack)) == {m["request_id"] for m in [*mine_on_time, theirs_late]}
    assert late_marks(ACCOUNT_B) == (NOW_MS, NOW_MS - 5 * HOUR_MS)
    # A mark raised before the failure stays raised: it only makes readers more careful.
    assert late_marks(ACCOUNT_A) == ((NOW_MS, None) if failing_mark == "late_created_min" else (None, None))

    clock.shift(60)
    assert ingest.messages([mine_late]) == []
    assert int(stored(stack)[mine_late["request_id"]]["ingested_ms"]) == NOW_MS + MINUTE_MS
    assert late_marks(ACCOUNT_A) == (NOW_MS + MINUTE_MS, NOW_MS - 2 * HOUR_MS)


def test_the_marks_only_move_outward_whatever_order_and_concurrency_the_updates_come_in(stack: Stack) -> None:
    rng = random.Random(91)
    announcements = [
        (NOW_MS - rng.randrange(1, 10_000) * MINUTE_MS, NOW_MS + rng.randrange(0, 10_000)) for _ in range(40)
    ]
    # One after another, in an order unrelated to the values: each mark is the running extreme.
    for count, (created, stamp) in enumerate(announcements[:20], start=1):
        stats_store.raise_late_marks(ACCOUNT_A, created, stamp)
        seen = announcements[:count]
        assert late_marks(ACCOUNT_A) == (max(s for _, s in seen), min(c for c, _ in seen))

    # Concurrently: DynamoDB applies a conditional update atomically; moto in process checks and writes in
    # Python, so the updates themselves are serialised here while the threads race for them.
    one_update_at_a_time = threading.Lock()
    start_together = threading.Barrier(len(announcements) - 20, timeout=10)
    errors: list[BaseException] = []

    def announce(created: int, stamp: int) -> None:
        try:
            start_together.wait()
            stats_store.raise_late_marks(ACCOUNT_B, created, stamp)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def acquire(**_: Any) -> None:  # a handler's non-None return would stand in for DynamoDB's reply
        one_update_at_a_time.acquire()

    def release(**_: Any) -> None:
        one_update_at_a_time.release()

    with (
        hooked("before-call.dynamodb.UpdateItem", acquire),
        hooked("after-call.dynamodb.UpdateItem", release),
        hooked("after-call-error.dynamodb.UpdateItem", release),
    ):
        threads = [threading.Thread(target=announce, args=pair) for pair in announcements[20:]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    rest = announcements[20:]
    assert late_marks(ACCOUNT_B) == (max(s for _, s in rest), min(c for c, _ in rest))


# ------------------------------------------------------------------ the aggregator's applied stamps
def test_the_aggregator_records_stamps_only_for_the_records_before_a_failed_one(
    stack: Stack, clock: Any, ingest: Ingestor, reader: StreamReader, deliver: Delivery
) -> None:
    for batch in range(4):  # four stamps, one second apart, in stream order
        assert ingest.messages(on_time(ACCOUNT_A, 10, NOW_MS + batch * 1000, seed=92 + batch)) == []
        clock.shift(1)
    records = new_records(reader)
    everything = brute_applied_stamps(records, set())

    # An item whose loss cuts some partition before a record stamped later than the cut.
    def cuts_before_a_later_stamp(target: tuple[str, str]) -> bool:
        failed = {sequence(r) for r in records if hour_model_item(r) == target}
        return brute_applied_stamps(records, failed) != everything

    target = next(t for t in sorted({hour_model_item(r) for r in records}) if cuts_before_a_later_stamp(t))
    with hooked("before-parameter-build.dynamodb.PutItem", lose_the_race_on(target)):
        result = deliver(records)
    failed = {int(item["itemIdentifier"]) for item in result["batchItemFailures"]}
    assert failed == {sequence(r) for r in records if hour_model_item(r) == target}
    expected = brute_applied_stamps(records, failed)
    assert stats_store.load_progress(ACCOUNT_A).applied_stamps == expected != everything

    # Lambda retries from the lowest failure: now every record is applied, and every partition says so.
    lowest = min(position for position, record in enumerate(records) if sequence(record) in failed)
    assert deliver(records[lowest:]) == {"batchItemFailures": []}
    assert stats_store.load_progress(ACCOUNT_A).applied_stamps == everything
    assert_stats_are_the_truth(stack)


def test_no_stamp_is_taken_from_records_after_a_poison_record(
    stack: Stack, clock: Any, ingest: Ingestor, reader: StreamReader, deliver: Delivery
) -> None:
    assert ingest.messages(on_time(ACCOUNT_A, 6, NOW_MS, seed=96)) == []
    # An item in the logs table that is no log: its partition cannot be known from what it holds.
    dynamodb().put_item(
        TableName=stack.name("RequestLogsTable"),
        Item={"pk": {"S": f"{ACCOUNT_A}#3"}, "sk": {"S": f"{NOW_MS:013d}#junk"}, "note": {"S": "not a log"}},
    )
    clock.shift(60)
    assert ingest.messages(on_time(ACCOUNT_A, 6, NOW_MS + MINUTE_MS, seed=97)) == []
    records = new_records(reader)
    poison = records[6]
    assert "id" not in image(poison)

    assert deliver(records) == {"batchItemFailures": [{"itemIdentifier": str(sequence(poison))}]}
    before_poison = brute_applied_stamps(records[:6], set())
    assert set(before_poison.values()) == {NOW_MS}
    assert stats_store.load_progress(ACCOUNT_A).applied_stamps == before_poison


def test_a_failed_progress_write_is_a_warning_and_the_next_batch_records_it(
    stack: Stack,
    clock: Any,
    ingest: Ingestor,
    reader: StreamReader,
    deliver: Delivery,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert ingest.messages([*on_time(ACCOUNT_A, 8, NOW_MS, seed=98), *on_time(ACCOUNT_B, 4, NOW_MS, seed=99)]) == []
    records = new_records(reader)
    progress_pks = {keys.progress_pk(ACCOUNT_A), keys.progress_pk(ACCOUNT_B)}

    def fail_progress(params: dict[str, Any], **_: Any) -> None:
        if params["Key"]["pk"]["S"] in progress_pks:
            raise injected("UpdateItem")

    with hooked("before-parameter-build.dynamodb.UpdateItem", fail_progress):
        assert deliver(records) == {"batchItemFailures": []}
    assert_stats_are_the_truth(stack)  # the rollups are written all the same
    assert stats_store.load_progress(ACCOUNT_A) == stats_store.load_progress(ACCOUNT_B) == Progress()
    (warning,) = [r for r in caplog.records if r.getMessage() == "applied stamps not recorded"]
    assert sorted(vars(warning)["accounts"]) == [ACCOUNT_A, ACCOUNT_B]

    # A replay of the same batch writes no rollup, yet records the stamps: its records are applied.
    assert deliver(records) == {"batchItemFailures": []}
    lines = [vars(r) for r in caplog.records if r.getMessage() == "aggregated"]
    assert [(line["writes"] > 0, line["progress_writes"]) for line in lines] == [(True, 0), (False, 2)]
    assert stats_store.load_progress(ACCOUNT_B).applied_stamps == brute_applied_stamps(
        [r for r in records if image(r)["account_id"]["S"] == ACCOUNT_B], set()
    )


# ------------------------------------------------------------------ the property readers rely on
def mismatches_below(stack: Stack, end: int) -> list[str]:
    """ACCOUNT_A's rollup items that lie wholly before ``end`` (an hour) and differ from the brute-force
    fold of its logs: what a reader trusting the rollups up to ``end`` would get wrong."""
    assert end % HOUR_MS == 0

    def below(key: tuple[str, str, int, str, str]) -> bool:
        account, granularity, bucket, _, _ = key
        size = {"quarter": HOUR_MS // 4, "hour": HOUR_MS, "day": DAY_MS}[granularity]
        return account == ACCOUNT_A and bucket + size <= end

    logs = [log for log in logs_in_table(stack) if log["account_id"] == ACCOUNT_A and int(log["created_ms"]) < end]
    expected = {key: value for key, value in expected_rollups(logs).items() if below(key)}
    stored = {key: value for key, value in stored_rollups(stack).items() if below(key)}
    return mismatches(expected, stored)


def shards_with_logs(stack: Stack) -> frozenset[int]:
    return frozenset(
        int(str(log["pk"]).rsplit("#", 1)[1]) for log in logs_in_table(stack) if log["account_id"] == ACCOUNT_A
    )


def settled_and_checked(stack: Stack, range_end: int = END_OF_TIME_MS) -> int | None:
    """ACCOUNT_A's settled instant, checked by brute force first: every rollup item before it (and before
    the range end) equals the truth."""
    progress = stats_store.load_progress(ACCOUNT_A)
    settled = rollups_settled_before(progress, shards_with_logs(stack), range_end)
    if settled is not None:
        problems = mismatches_below(stack, min(settled, range_end - range_end % HOUR_MS))
        assert problems == [], (settled, progress, problems[:5])
    return settled


def test_whatever_lambda_does_the_horizon_never_claims_a_log_the_rollups_lack(
    stack: Stack, clock: Any, ingest: Ingestor, reader: StreamReader, deliver: Delivery
) -> None:
    """Batches stamped half an hour apart, each of 40 logs created a few minutes before its stamp and
    covering every log shard; NOW is on an hour, so every settled instant is an hour the test can name."""
    assert NOW_MS % HOUR_MS == 0

    def ingest_at(stamp_ms: int, seed: int, *extra: dict[str, Any]) -> list[Record]:
        clock.move_to(stamp_ms / 1000)
        messages = on_time(ACCOUNT_A, 40, stamp_ms, seed=seed)
        assert {int(oracle.log_id(m)[-16:], 16) % keys.LOG_SHARDS for m in messages} == set(range(keys.LOG_SHARDS))
        assert ingest.messages([*messages, *extra]) == []
        return new_records(reader)

    t1, t2, t3 = NOW_MS, NOW_MS + 30 * MINUTE_MS, NOW_MS + 60 * MINUTE_MS  # 12:00, 12:30, 13:00
    r1, r2 = ingest_at(t1, 100), ingest_at(t2, 101)
    assert settled_and_checked(stack) is None  # nothing applied yet

    # R1 and R2 in one batch; every put of one model's 11:00 item fails its version race, so records of R1
    # fail while later records of their partitions, stamped t2, are applied.
    target = hour_model_item(r1[len(r1) // 2])
    with hooked("before-parameter-build.dynamodb.PutItem", lose_the_race_on(target)):
        result = deliver(r1 + r2)
    failed = {int(item["itemIdentifier"]) for item in result["batchItemFailures"]}
    assert failed
    assert mismatches_below(stack, t1)  # the rollups lack logs created before 12:00 ...
    settled = settled_and_checked(stack)  # ... and the horizon does not claim them
    assert settled is None or settled < t1

    lowest = min(position for position, record in enumerate(r1 + r2) if sequence(record) in failed)
    assert deliver((r1 + r2)[lowest:]) == {"batchItemFailures": []}
    # Every shard applied a log stamped 12:30: logs created before 12:30 - SETTLE - LATE_AFTER (12:23), hour 12:00.
    assert SETTLE_MS + LATE_AFTER_MS < 30 * MINUTE_MS
    assert settled_and_checked(stack) == t1

    # A replay of R1 alone writes lower stamps: the horizon steps back, and stays true.
    assert deliver(r1) == {"batchItemFailures": []}
    assert settled_and_checked(stack) == t1 - HOUR_MS

    assert deliver(ingest_at(t3, 102)) == {"batchItemFailures": []}
    assert settled_and_checked(stack) == t1  # 13:00 - 7 min, floored

    # A late log, created at 10:30 and ingested at 13:30, announces itself before it is written.
    t4, created = NOW_MS + 90 * MINUTE_MS, NOW_MS - 90 * MINUTE_MS
    r4 = ingest_at(t4, 104, created_at(ACCOUNT_A, created, seed=103))
    assert late_marks(ACCOUNT_A) == (t4, created)
    assert settled_and_checked(stack) is None  # ranges reaching 10:30 wait for it
    assert settled_and_checked(stack, range_end=created - created % HOUR_MS) == t1  # ranges ending by 10:00 do not
    # Without the marks the horizon would claim the hour the rollups lack: the marks are what keeps it true.
    unmarked = replace(stats_store.load_progress(ACCOUNT_A), late_ingested_max=None, late_created_min=None)
    blind = rollups_settled_before(unmarked, shards_with_logs(stack), END_OF_TIME_MS)
    assert blind == t1 and mismatches_below(stack, blind)

    # Applied, but stamped 13:30, past the horizon (13:28): still unsettled.
    assert deliver(r4) == {"batchItemFailures": []}
    assert settled_and_checked(stack) is None
    # Once every shard applied a log stamped 13:40, the horizon (13:38) has passed it.
    assert deliver(ingest_at(t4 + 10 * MINUTE_MS, 105)) == {"batchItemFailures": []}
    assert settled_and_checked(stack) == NOW_MS + HOUR_MS
    assert_stats_are_the_truth(stack)
