"""Bulk exports against brute force, on moto in process: the API, the export queue and the export function.

One stack for the module (``shared_stack``): two accounts' logs over 40 days, ingested once. Every export
runs to its end here, so the account's lock is free for the next test. Part limits are small (through the
environment, as ``config.export_limits`` reads it), so a few hundred logs make many pages, parts and runs.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
import time_machine

from local.emulator.events import sqs_event, sqs_record
from local.emulator.lambda_runtime import LambdaContext
from request_logs.domain.exports import STALL_MS
from request_logs.logic.export_run import LEASE_MS
from request_logs.models.export_rows import LOG_COLUMNS
from request_logs.store.dynamo import dynamodb
from tests.conftest import ACCOUNT_A, ACCOUNT_B, NOW, NOW_MS, sample_messages
from tests.integration import oracle
from tests.integration.shared_stack import SharedStack, shared_stack

EXPORTS = "/api/account/request-logs/exports"
FUNCTION = "ExportLogsFunction"
DAY_MS = 86_400_000
# Everything of the 40 days (logs are kept 90).
SINCE = oracle.iso(NOW_MS - 89 * DAY_MS)
MONEY_COLUMNS = [column.name for column in LOG_COLUMNS if column.kind == "money"]
LIMITS = {"EXPORT_PAGE_ROWS": "20", "EXPORT_PART_MAX_ROWS": "50"}

MESSAGES_A = sample_messages(ACCOUNT_A, count=240, days=40, seed=31)
MESSAGES_B = sample_messages(ACCOUNT_B, count=30, days=40, seed=32)


@pytest.fixture(scope="module")
def world() -> Iterator[SharedStack]:
    with shared_stack() as shared:
        assert shared.ingest.messages(MESSAGES_A + MESSAGES_B) == []
        yield shared


@pytest.fixture(autouse=True)
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)


@dataclass
class ShortContext(LambdaContext):
    """A Lambda context whose remaining time is plenty for ``pages`` pages, then short (the run checks it
    once per page)."""

    pages: int = 1_000_000

    def get_remaining_time_in_millis(self) -> int:
        self.pages -= 1
        return 600_000 if self.pages >= 0 else 1_000


class Exports:
    def __init__(self, shared: SharedStack) -> None:
        self.shared = shared
        self.api = shared.api
        self.stack = shared.stack
        self.queue_url = self.stack.queue_urls["ExportQueue"]
        self.queue_arn = self.stack.arns["ExportQueue.Arn"]

    def start(self, body: dict[str, Any], account: str = ACCOUNT_A) -> str:
        answer = self.api.post(EXPORTS, body, account=account)
        assert answer.status == 202, answer.body
        assert answer.headers["Location"] == f"{EXPORTS}/{answer.body['id']}"
        return str(answer.body["id"])

    def take_messages(self) -> list[str]:
        """The bodies waiting on the export queue (taken off it)."""
        bodies = []
        client = boto3.client("sqs")
        while received := client.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages"):
            for message in received:
                bodies.append(message["Body"])
                client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    def deliver(self, body: str, context: LambdaContext | None = None) -> dict[str, Any]:
        """One SQS delivery of ``body`` to the export function, as its event source makes it."""
        handler = self.api.functions.handler(FUNCTION)
        event = sqs_event([sqs_record(body, queue_arn=self.queue_arn)])
        result: dict[str, Any] = handler(event, context or ShortContext(function_name=FUNCTION, timeout_seconds=900))
        return result

    def run(self, contexts: Callable[[], LambdaContext] | None = None) -> int:
        """Deliver the queue's messages until none is left; the runs made."""
        runs = 0
        while bodies := self.take_messages():
            for body in bodies:
                assert self.deliver(body, contexts() if contexts else None) == {"batchItemFailures": []}
                runs += 1
        return runs

    def detail(self, export_id: str, account: str = ACCOUNT_A) -> dict[str, Any]:
        answer = self.api.get(f"{EXPORTS}/{export_id}", account=account)
        assert answer.status == 200, answer.body
        return dict(answer.body)

    def files(self, detail: dict[str, Any]) -> list[bytes]:
        """Each part's bytes, downloaded through its presigned URL's key, checked against the manifest."""
        bucket = self.stack.name("ExportsBucket")
        client = boto3.client("s3")
        prefix = f"exports/{ACCOUNT_A}/{detail['id']}/"
        manifest = json.loads(client.get_object(Bucket=bucket, Key=prefix + "manifest.json")["Body"].read())
        assert manifest["parts"] == [
            {k: part[k] for k in ("number", "name", "rows", "bytes", "sha256")} for part in detail["parts"]
        ]
        assert manifest["rows"] == detail["rows"] == sum(part["rows"] for part in detail["parts"])
        assert len(detail["urls"]) == len(detail["parts"])
        blobs = []
        for part, url in zip(detail["parts"], detail["urls"], strict=True):
            assert f"/{prefix}{part['name']}?" in url and "X-Amz-Signature=" in url
            data = client.get_object(Bucket=bucket, Key=prefix + part["name"])["Body"].read()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (part["bytes"], part["sha256"])
            blobs.append(data)
        return blobs


@pytest.fixture
def exports(world: SharedStack) -> Exports:
    return Exports(world)


def read_rows(export_format: str, blobs: list[bytes]) -> list[dict[str, Any]]:
    """Every row of every part, parsed back by a reader of the format (not our writer), money as Decimal."""
    rows: list[dict[str, Any]] = []
    for blob in blobs:
        if export_format == "ndjson":
            for line in gzip.decompress(blob).decode().splitlines():
                row, exact = json.loads(line), json.loads(line, parse_float=Decimal)
                rows.append(row | {name: exact[name] for name in MONEY_COLUMNS})
        elif export_format == "csv":
            for row in csv.DictReader(io.StringIO(gzip.decompress(blob).decode())):
                rows.append({name: (None if value == "" else value) for name, value in row.items()})
        else:
            rows += pq.read_table(io.BytesIO(blob)).to_pylist()
    return rows


def as_json(value: Any) -> Any:
    """A JSON column: an object in NDJSON, JSON text in CSV and Parquet."""
    return json.loads(value) if isinstance(value, str) else value


def assert_rows_are_the_messages(rows: list[dict[str, Any]], expected: list[dict[str, Any]], *, content: bool) -> None:
    assert [row["id"] for row in rows] == [oracle.log_id(m) for m in expected]  # every row once, newest first
    for row, message in zip(rows, expected, strict=True):
        assert row["created_at"] == message["created_at"]
        assert (row["model"], row["status"], row["api_key_id"]) == (
            message["model"],
            message["status"],
            message["api_key_id"],
        )
        assert int(row["input_tokens"]) == message["input_tokens"]
        assert int(row["latency_ms"]) == message["latency_ms"]
        cost = oracle.expected_cost(message)
        assert (Decimal(str(row["cost"])) if row["cost"] is not None else None) == cost, row["id"]
        assert as_json(row["metadata"]) == (message.get("metadata") or {})
        assert ("request" in row) == content


# ------------------------------------------------------------------ every row once, in every format
@pytest.mark.parametrize("export_format", ["ndjson", "csv", "parquet"])
def test_every_row_exactly_once_in_every_format(exports: Exports, export_format: str) -> None:
    export_id = exports.start({"format": export_format, "start_date": SINCE})
    assert exports.detail(export_id)["status"] == "queued"
    assert exports.run() == 1

    detail = exports.detail(export_id)
    expected = oracle.expected_for_params(MESSAGES_A, ACCOUNT_A, NOW_MS, {"start_date": SINCE})
    assert detail["status"] == "succeeded", detail
    assert detail["progress"] == {"rows": len(expected), "total": len(expected), "fraction": 1.0}
    assert [part["rows"] for part in detail["parts"]] == [60, 60, 60, 60]  # parts end at the page that fills them
    rows = read_rows(export_format, exports.files(detail))
    assert_rows_are_the_messages(rows, expected, content=False)
    suffix = {"ndjson": ".ndjson.gz", "csv": ".csv.gz", "parquet": ".parquet"}[export_format]
    assert all(part["name"].endswith(suffix) for part in detail["parts"])


@pytest.mark.parametrize(
    "filters",
    [
        {"status": "error"},
        {"model": "openai/gpt-4o", "min_latency": 1000},
        {"min_cost": "0.001", "max_cost": 0.05},
        {"start_date": oracle.iso(NOW_MS - 10 * DAY_MS), "end_date": oracle.iso(NOW_MS - 3 * DAY_MS)},
        {},  # the default window: the 30 days before the export started
    ],
    ids=["status", "model-latency", "cost-band", "dates", "default-window"],
)
def test_filters_are_the_lists(exports: Exports, filters: dict[str, Any]) -> None:
    export_id = exports.start({"format": "ndjson", **filters})
    exports.run()

    detail = exports.detail(export_id)
    exact = {name: str(value) if isinstance(value, float) else value for name, value in filters.items()}
    expected = oracle.expected_for_params(MESSAGES_A, ACCOUNT_A, NOW_MS, exact)
    assert detail["status"] == "succeeded"
    assert detail["filters"] == exact  # as given; an amount as its decimal digits
    assert detail["progress"]["total"] == len(expected) > 0
    assert_rows_are_the_messages(read_rows("ndjson", exports.files(detail)), expected, content=False)
    # The list answers the same filters with the same total.
    listed = exports.api.get("/api/account/request-logs", {**filters, "limit": 1})
    if listed.status == 200:
        assert listed.body["pagination"]["total"] == len(expected)


@pytest.mark.parametrize("export_format", ["ndjson", "parquet"])
def test_content_only_when_asked_and_only_inside_its_30_days(exports: Exports, export_format: str) -> None:
    export_id = exports.start({"format": export_format, "start_date": SINCE, "include_content": True})
    exports.run()

    detail = exports.detail(export_id)
    rows = read_rows(export_format, exports.files(detail))
    expected = oracle.expected_for_params(MESSAGES_A, ACCOUNT_A, NOW_MS, {"start_date": SINCE})
    assert_rows_are_the_messages(rows, expected, content=True)
    kept = Counter()
    for row, message in zip(rows, expected, strict=True):
        inside = oracle.created_ms(message) + oracle.CONTENT_RETENTION_MS > NOW_MS
        kept[inside] += 1
        assert as_json(row["request"]) == (message["request"] if inside else None)
        assert as_json(row["response"]) == (message["response"] if inside else None)
    assert kept[True] and kept[False]  # both sides of the 30 days are in the data


# ------------------------------------------------------------------ runs cut short, crashes, redeliveries
def test_a_run_cut_off_midway_continues_from_its_own_message_exactly_once(exports: Exports) -> None:
    export_id = exports.start({"format": "csv", "start_date": SINCE})
    (first,) = exports.take_messages()

    # Time runs short at the third page: the part in hand is uploaded and checkpointed, the next step queued.
    assert exports.deliver(first, ShortContext(function_name=FUNCTION, pages=2)) == {"batchItemFailures": []}
    midway = exports.detail(export_id)
    assert midway["status"] == "running"
    assert midway["progress"] == {"rows": 60, "total": 240, "fraction": 0.25}
    assert midway["urls"] is None and midway["parts"] == []  # nothing to download before the end
    (continuation,) = exports.take_messages()
    assert json.loads(continuation) == {"account_id": ACCOUNT_A, "export_id": export_id, "step": 1}
    # The next run is cut short too, after two pages.
    assert exports.deliver(continuation, ShortContext(function_name=FUNCTION, pages=1)) == {"batchItemFailures": []}
    assert exports.detail(export_id)["progress"]["rows"] == 100
    # SQS delivers at least once: the first message again, and the first continuation, are no-ops now.
    assert exports.deliver(first) == exports.deliver(continuation) == {"batchItemFailures": []}
    assert exports.detail(export_id)["progress"]["rows"] == 100
    runs = 2 + exports.run(lambda: ShortContext(function_name=FUNCTION, pages=2))

    detail = exports.detail(export_id)
    assert detail["status"] == "succeeded"
    assert runs >= 4
    expected = oracle.expected_for_params(MESSAGES_A, ACCOUNT_A, NOW_MS, {"start_date": SINCE})
    assert_rows_are_the_messages(read_rows("csv", exports.files(detail)), expected, content=False)


class CrashOnCheckpoint:
    """A fault at the boundary: the export function's DynamoDB client fails every write to the exports
    table from the ``after``-th part checkpoint on (the lease release included), as if the Lambda died
    right after uploading a part."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.checkpoints = 0
        self.crashed = False

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        if not params.get("TableName", "").endswith("ExportsTable"):
            return
        if "list_append" in params.get("UpdateExpression", ""):
            self.checkpoints += 1
        if self.checkpoints >= self.after:
            self.crashed = True
            raise ConnectionError("the execution environment died")


def test_a_crash_after_a_part_is_uploaded_but_before_its_checkpoint_duplicates_nothing(exports: Exports) -> None:
    export_id = exports.start({"format": "ndjson", "start_date": SINCE})
    (message,) = exports.take_messages()
    crash = CrashOnCheckpoint(after=3)
    events = dynamodb().meta.events
    events.register("provide-client-params.dynamodb.UpdateItem", crash)
    try:
        failed = exports.deliver(message)
    finally:
        events.unregister("provide-client-params.dynamodb.UpdateItem", crash)
    assert crash.crashed
    assert failed["batchItemFailures"]  # SQS will deliver it again
    uploaded = boto3.client("s3").list_objects_v2(
        Bucket=exports.stack.name("ExportsBucket"), Prefix=f"exports/{ACCOUNT_A}/{export_id}/"
    )["Contents"]
    assert len(uploaded) == 3  # part 3 is in the bucket, but not in the record
    assert exports.detail(export_id)["progress"]["rows"] == 120

    # The dead run still holds its lease: a redelivery meanwhile is retried later, not run twice.
    assert exports.deliver(message)["batchItemFailures"]
    # SQS hands the message out again after its visibility timeout, once the lease is over.
    with time_machine.travel(NOW + timedelta(milliseconds=LEASE_MS + 1000), tick=False):
        assert exports.deliver(message) == {"batchItemFailures": []}
        exports.run()
        detail = exports.detail(export_id)
        blobs = exports.files(detail)
    assert detail["status"] == "succeeded"
    assert [part["number"] for part in detail["parts"]] == [1, 2, 3, 4]
    expected = oracle.expected_for_params(MESSAGES_A, ACCOUNT_A, NOW_MS, {"start_date": SINCE})
    assert_rows_are_the_messages(read_rows("ndjson", blobs), expected, content=False)


def test_a_redelivered_message_of_a_finished_export_is_a_no_op(exports: Exports) -> None:
    export_id = exports.start({"format": "ndjson", "status": "error"})
    (message,) = exports.take_messages()
    assert exports.deliver(message) == {"batchItemFailures": []}
    finished = exports.detail(export_id)

    assert exports.deliver(message) == {"batchItemFailures": []}
    assert exports.take_messages() == []
    again = exports.detail(export_id)
    assert {k: v for k, v in again.items() if "url" not in k} == {k: v for k, v in finished.items() if "url" not in k}


# ------------------------------------------------------------------ the API's rules
def test_one_running_export_per_account_and_a_409_naming_it(exports: Exports) -> None:
    running = exports.start({"format": "ndjson", "status": "error"})
    refused = exports.api.post(EXPORTS, {"format": "csv"})
    assert refused.status == 409
    assert refused.body["error"]["type"] == "conflict_error"
    assert refused.body["error"]["code"] == "export_in_progress"
    assert running in refused.body["error"]["message"]
    assert refused.body["error"]["export_id"] == running  # for a client to follow it without parsing the message
    # Another account is not held up by it.
    other = exports.start({"format": "ndjson"}, account=ACCOUNT_B)
    exports.run()

    assert exports.detail(running)["status"] == exports.detail(other, account=ACCOUNT_B)["status"] == "succeeded"
    exports.start({"format": "csv", "status": "error"})  # free again
    exports.run()


def test_another_accounts_export_is_a_404_like_an_id_that_does_not_exist(exports: Exports) -> None:
    export_id = exports.start({"format": "ndjson", "status": "error"})
    exports.run()

    as_other = exports.api.get(f"{EXPORTS}/{export_id}", account=ACCOUNT_B)
    nowhere = export_id[:-4] + "0000"
    missing = exports.api.get(f"{EXPORTS}/{nowhere}", account=ACCOUNT_B)
    assert as_other.status == missing.status == 404
    assert as_other.body["error"]["message"].replace(export_id, "<id>") == missing.body["error"]["message"].replace(
        nowhere, "<id>"
    )
    assert as_other.body["error"]["param"] == "id"
    listed = exports.api.get(EXPORTS, {"limit": 100}, account=ACCOUNT_B).body
    assert export_id not in {e["id"] for e in listed["exports"]}
    assert exports.api.get(f"{EXPORTS}/not-an-export").status == 404


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"format": "xml"}, "format"),
        ({"limit": 5}, "limit"),  # a list parameter, not an export's: unknown here
        ({"min_latency": "5"}, "min_latency"),  # strict JSON: a number is a number
        ({"include_content": "true"}, "include_content"),
        ({"status": "failed"}, "status"),
        ({"start_date": "last tuesday"}, "start_date"),
        ({"start_date": "2026-11-10", "end_date": "2026-11-01"}, "start_date"),
        ({"min_cost": "0.5", "max_cost": "0.1"}, "min_cost"),
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"api_key_id": "not a key"}, "api_key_id"),
        ({"metadata": {"feature": "search"}}, "metadata.feature"),  # the account indexes no key
        ({"metadata": {"bad key!": "x"}}, "metadata.bad key!"),
        ({"model": ""}, "model"),
        ([], "body"),
        ("csv", "body"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(exports: Exports, body: Any, param: str) -> None:
    answer = exports.api.post(EXPORTS, body)

    assert answer.status == 400, answer.body
    assert answer.body["error"]["type"] == "invalid_request_error"
    assert answer.body["error"]["param"] == param
    assert exports.take_messages() == []


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (None, "application/json", 400),
        ("{nope", "application/json", 400),
        ("format=csv", "text/csv", 415),
        ("format=csv", "application/x-www-form-urlencoded", 415),
        ('{"format": "csv"}', "multipart/form-data", 415),  # without a boundary, before anything parses it
    ],
    ids=["no-body", "not-json", "csv", "form", "multipart"],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    exports: Exports, raw: str | None, content_type: str, status: int
) -> None:
    answer = exports.api.post(EXPORTS, raw_body=raw, content_type=content_type)

    assert answer.status == status, answer.body
    assert answer.body["error"]["param"] == "body"


@pytest.mark.parametrize(
    ("raw", "param"),
    [('{"format": "csv", "format": "ndjson"}', "format"), ("[" * 100_000, "body"), ('{"status": "error",}', "body")],
    ids=["repeated-member", "nested-too-deep", "trailing-comma"],
)
def test_a_json_body_no_parser_should_guess_at_is_a_400(exports: Exports, raw: str, param: str) -> None:
    answer = exports.api.post(EXPORTS, raw_body=raw)

    assert answer.status == 400, answer.body
    assert answer.body["error"]["param"] == param
    assert exports.take_messages() == []


def test_the_list_pages_newest_first_by_offset_and_by_cursor(exports: Exports) -> None:
    started = []
    for second in (1, 2, 3):
        with time_machine.travel(NOW + timedelta(seconds=second), tick=False):
            started.append(exports.start({"format": "ndjson", "status": "error"}))
            exports.run()
    with time_machine.travel(NOW + timedelta(seconds=4), tick=False):
        everything = exports.api.get(EXPORTS, {"limit": 100}).body
        ids = [export["id"] for export in everything["exports"]]
        assert ids[:3] == started[::-1]
        assert everything["pagination"]["total"] == len(ids) >= 4
        assert all(e["status"] == "succeeded" and "urls" not in e for e in everything["exports"])

        walked, cursor = [], None
        while True:
            page = exports.api.get(EXPORTS, {"limit": 2, **({"cursor": cursor} if cursor else {})}).body
            assert page["pagination"]["total"] == len(ids)
            walked += [export["id"] for export in page["exports"]]
            cursor = page["pagination"]["nextCursor"]
            if cursor is None:
                break
        assert walked == ids
        by_offset = exports.api.get(EXPORTS, {"limit": 2, "offset": 2}).body
        assert [e["id"] for e in by_offset["exports"]] == ids[2:4]
        assert exports.api.get(EXPORTS, {"cursor": "forged.cursor"}).body["error"]["param"] == "cursor"


def test_a_stalled_export_shows_failed_and_frees_the_account(exports: Exports) -> None:
    stalled = exports.start({"format": "ndjson", "status": "error"})
    (message,) = exports.take_messages()  # lost: nothing runs it
    later = NOW + timedelta(milliseconds=STALL_MS + 60_000)
    with time_machine.travel(later, tick=False):
        shown = exports.detail(stalled)
        assert shown["status"] == "failed"
        assert "stopped making progress" in shown["error"]["message"]
        newer = exports.start({"format": "ndjson", "status": "error"})
        # Redriven now, the stalled one finds the account's lock taken: it fails rather than run beside it.
        assert exports.deliver(message) == {"batchItemFailures": []}
        exports.run()
        assert exports.detail(newer)["status"] == "succeeded"
        assert exports.detail(stalled)["status"] == "failed"


def test_an_export_is_gone_after_7_days(exports: Exports) -> None:
    export_id = exports.start({"format": "ndjson", "status": "error"})
    exports.run()
    assert exports.detail(export_id)["expires_at"] == "2026-11-27T12:00:00Z"  # 7 days after NOW

    with time_machine.travel(NOW + timedelta(days=7, seconds=1), tick=False):
        assert exports.api.get(f"{EXPORTS}/{export_id}").status == 404
        assert export_id not in {e["id"] for e in exports.api.get(EXPORTS, {"limit": 100}).body["exports"]}
