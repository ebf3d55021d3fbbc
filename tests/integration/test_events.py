"""Every file in events/ is exercised: invoked through the function the template routes it to, on a
stack seeded by local.demo.event_fixtures, with the clock pinned where the fixtures are meaningful.

A new file under events/ fails here until it has an entry in EXPECTATIONS.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine
from boto3.dynamodb.types import TypeDeserializer

from local.demo.event_fixtures import (
    ACCOUNT,
    EVENTS_DIR,
    EVENTS_NOW,
    FIXTURE_EXPORT_ID,
    OTHER_ACCOUNT,
    REVOKED_KEY,
    SEED_INGEST_EVENT,
    VALID_KEY,
    load_event,
    seed_event_fixtures,
    sqs_consumer,
)
from local.emulator.events import rest_proxy_event, sqs_record
from local.emulator.gateway.routing import match_route
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_poller import stream_event_sources
from local.stack.provision import Stack
from local.stack.template import ROOT
from request_logs.domain.ids import make_log_id
from request_logs.domain.retention import CONTENT_RETENTION, LOG_RETENTION
from request_logs.domain.timeutil import parse_instant, to_ms
from request_logs.store.dynamo import dynamodb
from tests.integration import oracle
from tests.integration.rollup_oracle import expected_rollups, mismatches, stored_rollups
from tests.integration.stats_oracle import assert_measures

EVENT_FILES = sorted(path.relative_to(EVENTS_DIR).as_posix() for path in EVENTS_DIR.glob("**/*.json"))


def bodies(event: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(record["body"]) for record in event["Records"]]


def log_id(message: dict[str, Any]) -> str:
    return make_log_id(message["account_id"], message["request_id"], parse_instant(message["created_at"]))


SEEDED = {message["request_id"]: message for message in bodies(load_event(SEED_INGEST_EVENT))}
SEEDED_IDS = {log_id(message): message for message in SEEDED.values()}


def seeded_of(account_id: str) -> list[dict[str, Any]]:
    return [message for message in SEEDED.values() if message["account_id"] == account_id]


# ------------------------------------------------------------------ the function a file goes to
def function_for(stack: Stack, functions: FunctionRegistry, event: dict[str, Any]) -> str:
    """What API Gateway or the event-source mapping would invoke with this event, per the template."""
    if "Records" in event:
        if event["Records"][0]["eventSource"] == "aws:dynamodb":
            return stream_consumer(stack)
        # The queue the record came from, by its name in the event's ARN (the local stack's names).
        queue_name = event["Records"][0]["eventSourceARN"].rsplit(":", 1)[-1]
        (queue,) = [logical for logical in stack.queue_urls if stack.name(logical) == queue_name]
        return sqs_consumer(functions, queue)
    if event.get("type") == "REQUEST":
        return stack.template.authorizer().function
    matched = match_route(stack.template.routes(), event["httpMethod"], event["path"])
    assert matched is not None, f"no route serves {event['httpMethod']} {event['path']}"
    route, params = matched
    assert route.path == event["resource"] == event["requestContext"]["resourcePath"]
    assert (event["pathParameters"] or {}) == params
    return route.function


def stream_consumer(stack: Stack) -> str:
    """The function the template subscribes to the logs table's stream."""
    ((function, _),) = stack.template.event_sources("DynamoDB")
    return function


# ------------------------------------------------------------------ how each file is judged
@dataclass
class Invocation:
    event: dict[str, Any]
    result: Any
    error: Exception | None
    functions: FunctionRegistry
    stack: Stack

    @property
    def status(self) -> int:
        status: int = self.result["statusCode"]
        return status

    @property
    def body(self) -> Any:
        return json.loads(self.result["body"])

    def invoke(self, event: dict[str, Any]) -> Any:
        """Another event, through the function the template routes it to."""
        return self.functions.invoke(function_for(self.stack, self.functions, event), event)

    def get(self, path: str, authorizer: dict[str, Any]) -> Any:
        """A GET of another path with the given authorizer context, through the function of its route."""
        matched = match_route(self.stack.template.routes(), "GET", path)
        assert matched is not None
        route, params = matched
        event = rest_proxy_event(
            method="GET",
            resource=route.path,
            path=path,
            stage=self.stack.template.stage_name(),
            path_parameters=params,
            authorizer=authorizer,
        )
        return self.functions.invoke(route.function, event)

    def get_query(self, path: str, query: list[tuple[str, str]], authorizer: dict[str, Any]) -> Any:
        """A GET of a path without path parameters, with a query string."""
        matched = match_route(self.stack.template.routes(), "GET", path)
        assert matched is not None
        route, _ = matched
        event = rest_proxy_event(
            method="GET",
            resource=route.path,
            path=path,
            stage=self.stack.template.stage_name(),
            query=query,
            authorizer=authorizer,
        )
        return self.functions.invoke(route.function, event)

    def logs_in_table(self) -> set[str]:
        items = dynamodb().scan(TableName=self.stack.name("RequestLogsTable"))["Items"]
        return {item["id"]["S"] for item in items}


@dataclass(frozen=True)
class Expectation:
    check: Callable[[Invocation], None]
    # SQS events are what seeding does: judge them on an empty stack, where their effect is visible.
    seeded: bool = True
    # The export function's events run the fixture world's queued export (``seed_fixture_export``).
    with_export: bool = False


EXPECTATIONS: dict[str, Expectation] = {}


def expect(
    name: str, *, seeded: bool = True, with_export: bool = False
) -> Callable[[Callable[[Invocation], None]], Callable[[Invocation], None]]:
    def register(check: Callable[[Invocation], None]) -> Callable[[Invocation], None]:
        EXPECTATIONS[name] = Expectation(check, seeded, with_export)
        return check

    return register


def assert_error(call: Invocation, status: int, error_type: str, param: str | None = None) -> dict[str, Any]:
    """The one JSON error shape (docs/architecture.md, "Errors")."""
    assert call.status == status, call.result
    assert call.result["multiValueHeaders"]["Content-Type"] == ["application/json"]
    error: dict[str, Any] = call.body["error"]
    assert set(error) == ({"type", "code", "message", "param"} if param else {"type", "code", "message"})
    assert error["type"] == error_type
    assert error["code"]
    assert error["message"].endswith(".")
    if param:
        assert error["param"] == param
    return error


def cursor_payload(cursor: str) -> dict[str, Any]:
    """The JSON a cursor signs (``logic/cursors.py``: base64url payload, a dot, base64url signature)."""
    payload = cursor.split(".", maxsplit=1)[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def encode_payload(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()


def assert_unauthorized(call: Invocation) -> None:
    # API Gateway turns exactly this message into its 401 gateway response.
    assert call.error is not None, call.result
    assert str(call.error) == "Unauthorized"
    assert type(call.error).__name__ == "Unauthorized"


@expect("api/list_ok.json")
def _list_ok(call: Invocation) -> None:
    assert call.status == 200
    own = sorted(seeded_of(ACCOUNT.account_id), key=lambda message: message["created_at"], reverse=True)
    assert [log["id"] for log in call.body["logs"]] == [log_id(message) for message in own]
    assert call.body["pagination"] == {
        "total": len(own),
        "limit": 10,
        "offset": 0,
        "hasMore": False,
        "nextCursor": None,
    }
    for log in call.body["logs"]:
        message = SEEDED[log["request_id"]]
        assert log["created_at"] == message["created_at"]
        assert ("error" in log) == (message["status"] == "error")


@expect("api/list_filtered.json")
def _list_filtered(call: Invocation) -> None:
    assert call.status == 200
    errors = [message for message in seeded_of(ACCOUNT.account_id) if message["status"] == "error"]
    assert len(errors) == 1
    (log,) = call.body["logs"]
    assert log["id"] == log_id(errors[0])
    assert log["status"] == "error"
    assert log["status_code"] == 429
    assert log["error"] == errors[0]["error"]
    assert call.body["pagination"]["total"] == 1


@expect("api/list_metadata_not_indexed.json")
def _list_metadata_not_indexed(call: Invocation) -> None:
    # The fixture account indexes no metadata key: a metadata filter is a 400 that says which keys are.
    assert call.status == 400, call.body
    error = call.body["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "metadata.feature")
    assert error["message"].endswith("Indexed keys: none.")


@expect("api/list_local_dates.json")
def _list_local_dates(call: Invocation) -> None:
    # 2026-11-20 in Auckland (+13:00, daylight saving) is 2026-11-19T11:00Z up to 2026-11-20T11:00Z.
    query = call.event["queryStringParameters"]
    assert query == {"tz": "Pacific/Auckland", "start_date": "2026-11-20", "end_date": "2026-11-20"}
    assert call.status == 200, call.body
    start, end = parse_instant("2026-11-19T11:00:00Z"), parse_instant("2026-11-20T11:00:00Z")
    own = seeded_of(ACCOUNT.account_id)
    local_day = [m for m in own if start <= parse_instant(m["created_at"]) < end]
    newest_first = sorted(local_day, key=lambda m: parse_instant(m["created_at"]), reverse=True)
    assert [log["id"] for log in call.body["logs"]] == [log_id(m) for m in newest_first]
    assert call.body["pagination"]["total"] == len(local_day) == 2
    # Neither UTC day holds the same logs: the zone decides.
    for utc_day in ("2026-11-19", "2026-11-20"):
        utc_start = parse_instant(utc_day)
        in_utc_day = {
            m["request_id"] for m in own if utc_start <= parse_instant(m["created_at"]) < utc_start + 86_400_000
        }
        assert in_utc_day != {m["request_id"] for m in local_day}


@expect("api/stats_local_days.json")
def _stats_local_days(call: Invocation) -> None:
    # Kathmandu is UTC+05:45: its days start at 18:15Z and its hours at :15 past the UTC hour, so every local
    # bucket is cut inside a UTC hour (quarter-hour rollups, decisions §27).
    query = call.event["queryStringParameters"]
    assert query == {
        "tz": "Asia/Kathmandu",
        "group_by": "day,hour",
        "start_date": "2026-11-19",
        "end_date": "2026-11-20",
    }
    assert call.status == 200, call.body
    zone = ZoneInfo("Asia/Kathmandu")
    start, end = parse_instant("2026-11-18T18:15:00Z"), parse_instant("2026-11-20T18:15:00Z")
    own = [m for m in seeded_of(ACCOUNT.account_id) if start <= parse_instant(m["created_at"]) < end]
    assert len(own) >= 4
    body = call.body
    assert body["range"] == {
        "start": "2026-11-19T00:00:00+05:45",
        "end": "2026-11-21T00:00:00+05:45",
        "tz": "Asia/Kathmandu",
        "rounded": False,
    }
    assert body["stats"]["total_requests"] == len(own)

    def local(message: dict[str, Any]) -> datetime:
        return datetime.fromtimestamp(parse_instant(message["created_at"]) / 1000, UTC).astimezone(zone)

    for group, field, key_of in (
        ("day", "date", lambda m: local(m).date().isoformat()),
        ("hour", "hour", lambda m: local(m).replace(minute=0, second=0, microsecond=0).isoformat()),
    ):
        expected: dict[str, list[dict[str, Any]]] = {}
        for message in own:
            expected.setdefault(key_of(message), []).append(message)
        entries = body[f"by_{group}"]
        assert [entry[field] for entry in entries] == sorted(expected), group
        for entry in entries:
            assert_measures(entry, expected[entry[field]], what=f"by_{group} {entry[field]}")


@expect("api/list_bad_limit.json")
def _list_bad_limit(call: Invocation) -> None:
    assert_error(call, 400, "invalid_request_error", "limit")


@expect("api/list_unknown_param.json")
def _list_unknown_param(call: Invocation) -> None:
    assert_error(call, 400, "invalid_request_error", "page")


@expect("api/list_tampered_cursor.json")
def _list_tampered_cursor(call: Invocation) -> None:
    error = assert_error(call, 400, "invalid_request_error", "cursor")
    assert error["code"] == "invalid_cursor"
    # What the file tries: a cursor edited to continue in the other tenant's logs.
    assert cursor_payload(call.event["queryStringParameters"]["cursor"])["a"] == OTHER_ACCOUNT.account_id
    # This stack's own cursor continues the walk; the same cursor edited (payload or signature) does not.
    authorizer = call.event["requestContext"]["authorizer"]
    first = call.get_query(call.event["path"], [("limit", "2")], authorizer)
    cursor = json.loads(first["body"])["pagination"]["nextCursor"]
    assert cursor is not None
    following = call.get_query(call.event["path"], [("limit", "2"), ("cursor", cursor)], authorizer)
    assert following["statusCode"] == 200
    payload, signature = cursor.split(".")
    foreign = {**cursor_payload(cursor), "a": OTHER_ACCOUNT.account_id}
    tampered = [
        f"{encode_payload(foreign)}.{signature}",
        # The first character: all six of its bits are signature bits (the last one's low bits are padding).
        f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}",
    ]
    for token in tampered:
        refused = call.get_query(call.event["path"], [("limit", "2"), ("cursor", token)], authorizer)
        assert refused["statusCode"] == 400, token
        assert json.loads(refused["body"])["error"]["param"] == "cursor"


@expect("api/enhanced_cost_desc.json")
def _enhanced_cost_desc(call: Invocation) -> None:
    assert call.status == 200
    # Decimals: costs are exact, and a float comparison would hide a wrong last digit.
    body = json.loads(call.result["body"], parse_float=Decimal)
    own = seeded_of(ACCOUNT.account_id)
    logs = body["logs"]
    assert sorted(log["id"] for log in logs) == sorted(log_id(message) for message in own)
    priced = [log for log in logs if log["cost"] is not None]
    assert logs[: len(priced)] == priced  # unpriced last
    costs = [log["cost"]["total"] for log in priced]
    assert costs == sorted(costs, reverse=True)
    for log in logs:
        message = SEEDED[log["request_id"]]
        assert log["tokens"] == oracle.expected_tokens(message)
        if log["cost"] is None:
            continue
        cost, pricing = log["cost"], log["pricing"]
        assert cost["total"] == cost["input"] + cost["output"]
        if message.get("cost") is not None:  # the gateway's own figures, stored as sent
            assert log["cost_source"] == "gateway"
            sent = {name: Decimal(value) for name, value in message["cost"].items()}
            assert (cost["input"], cost["output"]) == (sent["input"], sent["output"])
            assert (pricing["input_per_million"], pricing["output_per_million"]) == (
                sent["input_per_million"],
                sent["output_per_million"],
            )
        else:
            assert log["cost_source"] == "catalog"
            assert log["catalog_version"]
            assert cost["input"] == message["input_tokens"] * pricing["input_per_million"] / 1_000_000
            assert cost["output"] == message["output_tokens"] * pricing["output_per_million"] / 1_000_000
    total_cost = sum((log["cost"]["total"] for log in priced), Decimal(0))
    summary = body["summary"]
    assert summary["total_cost"] == total_cost
    assert summary["total_tokens"] == sum(message["input_tokens"] + message["output_tokens"] for message in own)
    assert summary["requests"] == len(own)
    assert summary["priced_requests"] == len(priced)
    assert summary["unpriced_requests"] == len(own) - len(priced)
    assert summary["avg_cost_per_request"] == (total_cost / len(priced)).quantize(Decimal("1e-12"), ROUND_HALF_EVEN)
    assert body["pagination"] == {"total": len(own), "limit": 10, "offset": 0, "hasMore": False, "nextCursor": None}


@expect("api/enhanced_bad_sort.json")
def _enhanced_bad_sort(call: Invocation) -> None:
    assert call.event["queryStringParameters"]["sort"] == "price"
    error = assert_error(call, 400, "invalid_request_error", "sort")
    assert "cost" in error["message"]


@expect("api/enhanced_bad_cost_range.json")
def _enhanced_bad_cost_range(call: Invocation) -> None:
    query = call.event["queryStringParameters"]
    assert Decimal(query["min_cost"]) > Decimal(query["max_cost"])
    assert_error(call, 400, "invalid_request_error", "min_cost")


@expect("api/get_ok.json")
def _get_ok(call: Invocation) -> None:
    assert call.status == 200
    log = call.body
    message = SEEDED_IDS[call.event["pathParameters"]["id"]]
    assert log["id"] == call.event["pathParameters"]["id"]
    same = (
        "request_id model provider endpoint method status status_code latency_ms time_to_first_token_ms "
        "input_tokens output_tokens streaming created_at api_key_id api_key_prefix user_agent ip_address resolution"
    )
    assert {name: log[name] for name in same.split()} == {name: message[name] for name in same.split()}
    assert log["completed_at"] == message["completed_at"]
    assert log["total_tokens"] == message["input_tokens"] + message["output_tokens"]
    assert log["cost"] > 0


@expect("api/get_not_found.json")
def _get_not_found(call: Invocation) -> None:
    assert call.event["pathParameters"]["id"] not in SEEDED_IDS
    assert_error(call, 404, "not_found_error", "id")


@expect("api/get_other_account.json")
def _get_other_account(call: Invocation) -> None:
    error = assert_error(call, 404, "not_found_error", "id")
    # The log exists: its own account reads it, and the 404 for others says nothing more than for no log.
    owner = SEEDED_IDS[call.event["pathParameters"]["id"]]["account_id"]
    assert owner == OTHER_ACCOUNT.account_id
    as_owner = {**call.event["requestContext"]["authorizer"], "principalId": owner, "account_id": owner}
    assert call.get(call.event["path"], as_owner)["statusCode"] == 200
    assert error["message"] == f"No request log with id '{call.event['pathParameters']['id']}'."


@expect("api/details_ok.json")
def _details_ok(call: Invocation) -> None:
    assert call.status == 200
    message = SEEDED_IDS[call.event["pathParameters"]["id"]]
    assert call.body["id"] == call.event["pathParameters"]["id"]
    assert call.body["request"] == message["request"]
    assert call.body["response"] == message["response"]
    assert call.body["metadata"]["latency_ms"] == message["latency_ms"]
    assert call.body["metadata"]["created_at"] == message["created_at"]


@expect("api/details_not_found.json")
def _details_not_found(call: Invocation) -> None:
    assert call.event["pathParameters"]["id"] not in SEEDED_IDS
    assert_error(call, 404, "not_found_error", "id")


@expect("api/details_expired.json")
def _details_expired(call: Invocation) -> None:
    assert_error(call, 410, "content_expired", "id")
    # Only the content is past retention: the log itself is still served.
    log_path = call.event["path"].removesuffix("/details")
    assert call.get(log_path, call.event["requestContext"]["authorizer"])["statusCode"] == 200


@expect("authorizer/valid.json")
def _authorizer_valid(call: Invocation) -> None:
    assert call.error is None
    policy = call.result
    assert policy["principalId"] == ACCOUNT.account_id
    assert policy["context"] == {
        "account_id": ACCOUNT.account_id,
        "api_key_id": VALID_KEY.api_key_id,
        "api_key_prefix": VALID_KEY.api_key[:7] + "...",
    }
    assert policy["usageIdentifierKey"] == ACCOUNT.usage_identifier
    (statement,) = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"].endswith(f"/{call.stack.template.stage_name()}/*/*")


@expect("authorizer/missing.json")
def _authorizer_missing(call: Invocation) -> None:
    assert not any(name.lower() == "authorization" for name in call.event["headers"])
    assert_unauthorized(call)


@expect("authorizer/revoked.json")
def _authorizer_revoked(call: Invocation) -> None:
    assert call.event["headers"]["Authorization"] == f"Bearer {REVOKED_KEY.api_key}"
    assert_unauthorized(call)


@expect("authorizer/malformed.json")
def _authorizer_malformed(call: Invocation) -> None:
    assert_unauthorized(call)


@expect("sqs/ingest_good.json", seeded=False)
def _ingest_good(call: Invocation) -> None:
    assert call.result == {"batchItemFailures": []}
    assert call.logs_in_table() == {log_id(message) for message in bodies(call.event)}
    assert any(message["status"] == "error" for message in bodies(call.event))


@expect("sqs/ingest_v2.json")
def _ingest_v2(call: Invocation) -> None:
    # Version 2 beside the seeded version-1 logs: cache reads and writes, reasoning, a prompt one token past
    # a price tier, a gateway cost split by component; each single log shows them, priced exactly.
    messages = bodies(call.event)
    assert {message["version"] for message in messages} == {2}
    assert call.result == {"batchItemFailures": []}
    assert {log_id(message) for message in messages} <= call.logs_in_table()
    authorizer = load_event(EVENTS_DIR / "api" / "get_ok.json")["requestContext"]["authorizer"]
    tiers = set()
    for message in messages:
        answer = call.get(f"/api/account/request-logs/{log_id(message)}", authorizer)
        assert answer["statusCode"] == 200
        log = json.loads(answer["body"], parse_float=Decimal)
        assert log["tokens"] == oracle.expected_tokens(message)
        parts = oracle.expected_cost_parts(message)
        assert parts is not None
        assert {part: log["cost_breakdown"][part] for part in oracle.COST_PARTS} == parts
        assert log["cost"] == log["cost_breakdown"]["total"] == parts["input"] + parts["output"]
        if message.get("cost") is None:
            expected_prices = oracle.catalog_prices(message["model"], message["input_tokens"])
            assert log["pricing"] == expected_prices and log["cost_source"] == "catalog"
            tiers.add(log["pricing"]["above_input_tokens"])
        else:
            assert log["cost_source"] == "gateway"
            assert log["pricing"]["reasoning_per_million"] is None  # the gateway reported no such price
    assert tiers == {None, 200_000}, "a base-priced log and one priced by the long-context tier"


@expect("sqs/ingest_duplicate.json", seeded=False)
def _ingest_duplicate(call: Invocation) -> None:
    messages = bodies(call.event)
    assert len({message["request_id"] for message in messages}) < len(messages)
    assert call.result == {"batchItemFailures": []}
    written = call.logs_in_table()
    assert written == {log_id(message) for message in messages}
    # Redelivering the whole batch changes nothing either.
    assert call.invoke(call.event) == {"batchItemFailures": []}
    assert call.logs_in_table() == written


@expect("sqs/ingest_malformed.json", seeded=False)
def _ingest_malformed(call: Invocation) -> None:
    good, bad = call.event["Records"]
    assert call.result == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    assert call.logs_in_table() == {log_id(json.loads(good["body"]))}


# ------------------------------------------------------------------ exports
EXPORT_ROUTE = "/api/account/request-logs/exports/{id}"


def export_detail(call: Invocation, export_id: str) -> dict[str, Any]:
    matched = match_route(call.stack.template.routes(), "GET", EXPORT_ROUTE.replace("{id}", export_id))
    assert matched is not None
    route, params = matched
    event = rest_proxy_event(
        method="GET",
        resource=route.path,
        path=EXPORT_ROUTE.replace("{id}", export_id),
        stage=call.stack.template.stage_name(),
        path_parameters=params,
        authorizer=load_event(EVENTS_DIR / "api" / "get_ok.json")["requestContext"]["authorizer"],
    )
    answer = call.functions.invoke(route.function, event)
    assert answer["statusCode"] == 200, answer
    detail: dict[str, Any] = json.loads(answer["body"])
    return detail


def run_export_queue(call: Invocation) -> int:
    """Every message on the export queue through the export function, until none is left; the runs made."""
    client = boto3.client("sqs")
    queue_url, queue_arn = call.stack.queue_urls["ExportQueue"], call.stack.arns["ExportQueue.Arn"]
    runs = 0
    while received := client.receive_message(QueueUrl=queue_url).get("Messages", []):
        for message in received:
            event = {"Records": [sqs_record(message["Body"], queue_arn=queue_arn, message_id=message["MessageId"])]}
            assert call.invoke(event) == {"batchItemFailures": []}
            client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            runs += 1
    return runs


def exported_rows(call: Invocation, detail: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of every part (NDJSON or CSV), in part order, read from the bucket by their keys."""
    bucket = call.stack.name("ExportsBucket")
    rows: list[dict[str, Any]] = []
    for part in detail["parts"]:
        key = f"exports/{ACCOUNT.account_id}/{detail['id']}/{part['name']}"
        data = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.sha256(data).hexdigest() == part["sha256"]
        text = gzip.decompress(data).decode()
        if part["name"].endswith(".csv.gz"):
            rows += list(csv.DictReader(io.StringIO(text)))
        else:
            rows += [json.loads(line) for line in text.splitlines()]
    return rows


def newest_first_ids(messages: list[dict[str, Any]]) -> list[str]:
    return [
        log_id(m) for m in sorted(messages, key=lambda m: (parse_instant(m["created_at"]), log_id(m)), reverse=True)
    ]


@expect("api/export_create.json")
def _export_create(call: Invocation) -> None:
    assert call.status == 202, call.body
    created = call.body
    assert call.result["multiValueHeaders"]["Location"] == [f"/api/account/request-logs/exports/{created['id']}"]
    assert created["status"] == "queued"
    body = json.loads(call.event["body"])
    assert created["filters"] == {name: body[name] for name in ("status", "start_date")}
    assert (created["format"], created["include_content"]) == ("csv", True)
    # Queued: its first message waits on the export queue; the export function runs it to the end.
    assert run_export_queue(call) == 1
    detail = export_detail(call, created["id"])
    assert detail["status"] == "succeeded", detail
    since = parse_instant("2026-09-01")
    expected = [
        m for m in seeded_of(ACCOUNT.account_id) if m["status"] == "success" and parse_instant(m["created_at"]) >= since
    ]
    rows = exported_rows(call, detail)
    assert [row["id"] for row in rows] == newest_first_ids(expected)
    content_cut = to_ms(EVENTS_NOW) - int(CONTENT_RETENTION.total_seconds() * 1000)
    for row in rows:
        message = SEEDED_IDS[row["id"]]
        # Content only inside the 30 days: the log of details_expired.json has none.
        if parse_instant(message["created_at"]) > content_cut:
            assert json.loads(row["request"]) == message["request"]
        else:
            assert row["request"] == row["response"] == ""


@expect("api/export_bad_format.json")
def _export_bad_format(call: Invocation) -> None:
    error = assert_error(call, 400, "invalid_request_error", "format")
    assert "ndjson" in error["message"]
    # Nothing was queued, and the account may start an export at once.
    assert boto3.client("sqs").receive_message(QueueUrl=call.stack.queue_urls["ExportQueue"]).get("Messages") is None


@expect("sqs/export_start.json", with_export=True)
def _export_start(call: Invocation) -> None:
    assert call.result == {"batchItemFailures": []}
    detail = export_detail(call, FIXTURE_EXPORT_ID)
    assert detail["status"] == "succeeded"
    assert detail["progress"] == {"rows": 5, "total": 5, "fraction": 1.0}
    assert [row["id"] for row in exported_rows(call, detail)] == newest_first_ids(seeded_of(ACCOUNT.account_id))
    # At least once: the same message again changes nothing.
    assert call.invoke(call.event) == {"batchItemFailures": []}
    assert export_detail(call, FIXTURE_EXPORT_ID) == detail | {
        "urls": export_detail(call, FIXTURE_EXPORT_ID)["urls"],
        "manifest_url": export_detail(call, FIXTURE_EXPORT_ID)["manifest_url"],
        "urls_expire_at": detail["urls_expire_at"],
    }


@expect("sqs/export_continue.json", with_export=True)
def _export_continue(call: Invocation) -> None:
    # Step 1 of an export still at step 0: not its turn, a no-op.
    assert call.result == {"batchItemFailures": []}
    assert export_detail(call, FIXTURE_EXPORT_ID)["status"] == "queued"
    start = load_event(EVENTS_DIR / "sqs" / "export_start.json")
    # Pages of two logs, each run handing over after its first page (its time always looks short).
    os.environ.update(EXPORT_PAGE_ROWS="2", EXPORT_RESERVE_MS=str(10**9))
    try:
        assert call.invoke(start) == {"batchItemFailures": []}  # part 1, then the message of step 1 queued
        assert export_detail(call, FIXTURE_EXPORT_ID)["progress"]["rows"] == 2
        assert call.invoke(call.event) == {"batchItemFailures": []}  # this file: part 2, then step 2 queued
        assert export_detail(call, FIXTURE_EXPORT_ID)["progress"]["rows"] == 4
        run_export_queue(call)  # the continuations the runs sent (step 1's is now a no-op), to the end
    finally:
        del os.environ["EXPORT_PAGE_ROWS"], os.environ["EXPORT_RESERVE_MS"]
    detail = export_detail(call, FIXTURE_EXPORT_ID)
    assert detail["status"] == "succeeded"
    assert [part["rows"] for part in detail["parts"]] == [2, 2, 1]
    assert [row["id"] for row in exported_rows(call, detail)] == newest_first_ids(seeded_of(ACCOUNT.account_id))


def images(event: dict[str, Any]) -> list[dict[str, Any]]:
    deserializer = TypeDeserializer()
    return [
        {name: deserializer.deserialize(value) for name, value in record["dynamodb"]["NewImage"].items()}
        for record in event["Records"]
    ]


def assert_stats_are_the_truth_of(call: Invocation, logs: list[dict[str, Any]]) -> None:
    problems = mismatches(expected_rollups(logs), stored_rollups(call.stack))
    assert problems == [], problems


@expect("stream/insert_batch.json", seeded=False)
def _stream_insert_batch(call: Invocation) -> None:
    # Recorded from the stream after ingesting sqs/ingest_good.json: the same world as the other files.
    logs = images(call.event)
    assert {log["id"] for log in logs} == set(SEEDED_IDS)
    assert call.result == {"batchItemFailures": []}
    assert_stats_are_the_truth_of(call, logs)
    # Lambda delivers at least once: the same batch again changes nothing.
    assert call.invoke(call.event) == {"batchItemFailures": []}
    assert_stats_are_the_truth_of(call, logs)


@expect("stream/ttl_remove.json", seeded=False)
def _stream_ttl_remove(call: Invocation) -> None:
    (record,) = call.event["Records"]
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    # The template's filter criteria keep it from the aggregator; were it delivered, it is refused, not counted.
    (source,) = stream_event_sources(call.stack)
    assert not source.accepts(record)
    assert call.result == {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    assert stored_rollups(call.stack) == {}


@expect("stream/poison.json", seeded=False)
def _stream_poison(call: Invocation) -> None:
    good_before, poison, good_after = call.event["Records"]
    assert "id" not in poison["dynamodb"]["NewImage"]
    assert call.result == {"batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]}
    logs = [log for log in images(call.event) if "id" in log]
    assert {log["id"] for log in logs} <= set(SEEDED_IDS)
    assert_stats_are_the_truth_of(call, logs)
    # Lambda's retry starts at the poison record: the good record after it is not counted twice.
    assert call.invoke({"Records": [poison, good_after]}) == call.result
    assert_stats_are_the_truth_of(call, logs)
    assert int(good_before["dynamodb"]["SequenceNumber"]) < int(poison["dynamodb"]["SequenceNumber"])


@pytest.fixture
def at_events_now() -> Iterator[None]:
    with time_machine.travel(EVENTS_NOW, tick=False):
        yield


@pytest.mark.parametrize("name", EVENT_FILES)
def test_event_file(name: str, stack: Stack, functions: FunctionRegistry, at_events_now: None) -> None:
    if name not in EXPECTATIONS:
        pytest.fail(f"events/{name} is not exercised: add its expectation to EXPECTATIONS in {__name__}")
    expectation = EXPECTATIONS[name]
    if expectation.seeded:
        seed_event_fixtures(functions, stack.stream_arns["RequestLogsTable"], with_export=expectation.with_export)
    event = load_event(EVENTS_DIR / name)
    result, error = None, None
    try:
        result = functions.invoke(function_for(stack, functions, event), event)
    except Exception as exc:
        error = exc
    expectation.check(Invocation(event, result, error, functions, stack))


def test_every_expectation_has_its_file() -> None:
    assert sorted(EXPECTATIONS) == EVENT_FILES


# ------------------------------------------------------------------ the files agree with each other
def api_events() -> list[dict[str, Any]]:
    return [load_event(EVENTS_DIR / name) for name in EVENT_FILES if name.startswith("api/")]


def test_api_events_carry_the_context_the_authorizer_gives_the_valid_key() -> None:
    for event in api_events():
        assert event["requestContext"]["authorizer"] == {
            "principalId": ACCOUNT.account_id,
            "account_id": ACCOUNT.account_id,
            "api_key_id": VALID_KEY.api_key_id,
            "api_key_prefix": VALID_KEY.api_key[:7] + "...",
            "integrationLatency": 0,
        }
        assert event["headers"]["Authorization"] == f"Bearer {VALID_KEY.api_key}"
    valid = load_event(EVENTS_DIR / "authorizer" / "valid.json")
    assert valid["headers"]["Authorization"] == f"Bearer {VALID_KEY.api_key}"


def test_api_events_are_consistent_rest_proxy_events() -> None:
    for event in api_events():
        single = event["queryStringParameters"] or {}
        multi = event["multiValueQueryStringParameters"] or {}
        assert single == {name: values[-1] for name, values in multi.items()}
        assert event["headers"] == {name: values[-1] for name, values in event["multiValueHeaders"].items()}
        context = event["requestContext"]
        assert context["path"] == f"/{context['stage']}{event['path']}"
        assert context["httpMethod"] == event["httpMethod"]


def test_sqs_records_are_what_lambda_delivers() -> None:
    for name in EVENT_FILES:
        if not name.startswith("sqs/"):
            continue
        records = load_event(EVENTS_DIR / name)["Records"]
        assert len(records) <= 10  # the template's BatchSize
        assert len({record["messageId"] for record in records}) == len(records)
        for record in records:
            assert record["eventSource"] == "aws:sqs"
            assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()


def test_stream_records_are_what_lambda_delivers(stack: Stack) -> None:
    (source,) = stream_event_sources(stack)
    for name in EVENT_FILES:
        if not name.startswith("stream/"):
            continue
        records = load_event(EVENTS_DIR / name)["Records"]
        assert len(records) <= source.batch_size
        sequence_numbers = [int(record["dynamodb"]["SequenceNumber"]) for record in records]
        assert sequence_numbers == sorted(set(sequence_numbers))  # one shard, in order
        for record in records:
            assert record["eventSource"] == "aws:dynamodb"
            assert record["eventSourceARN"].startswith("arn:aws:dynamodb:")
            assert record["eventSourceARN"].split("/")[1] == stack.name("RequestLogsTable")
            assert record["dynamodb"]["StreamViewType"] == "NEW_IMAGE"


def test_fixture_dates_make_the_names_true_at_events_now() -> None:
    """At EVENTS_NOW every seeded log is retained, and only the expired-content log is past 30 days."""
    now_ms = to_ms(EVENTS_NOW)
    expired = load_event(EVENTS_DIR / "api" / "details_expired.json")["pathParameters"]["id"]
    for log, message in SEEDED_IDS.items():
        age = timedelta(milliseconds=now_ms - parse_instant(message["created_at"]))
        assert timedelta(0) < age < LOG_RETENTION
        assert (age > CONTENT_RETENTION) == (log == expired), message["request_id"]


# ------------------------------------------------------------------ the Docker-free `sam local invoke`
def invoke_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared")])}
    environment.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "local.invoke", *argv],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_invoke_cli_runs_an_api_event() -> None:
    run = invoke_cli("ListRequestLogsFunction", "--event", "events/api/list_ok.json")
    assert run.returncode == 0, run.stderr
    response = json.loads(run.stdout)
    assert response["statusCode"] == 200
    assert len(json.loads(response["body"])["logs"]) == len(seeded_of(ACCOUNT.account_id))


def test_invoke_cli_runs_an_sqs_event() -> None:
    run = invoke_cli("IngestFunction", "-e", "events/sqs/ingest_malformed.json")
    assert run.returncode == 0, run.stderr
    bad = load_event(EVENTS_DIR / "sqs" / "ingest_malformed.json")["Records"][1]["messageId"]
    assert json.loads(run.stdout) == {"batchItemFailures": [{"itemIdentifier": bad}]}
    # The function's own log lines go to stderr, as sam local invoke shows them.
    assert "malformed ingest message" in run.stderr


def test_invoke_cli_reports_a_raising_handler_like_lambda() -> None:
    run = invoke_cli("AuthorizerFunction", "--event", "events/authorizer/revoked.json")
    assert run.returncode == 1
    error = json.loads(run.stdout)
    assert error["errorMessage"] == "Unauthorized"
    assert error["errorType"] == "Unauthorized"
    assert any("functions/authorizer/app.py" in frame for frame in error["stackTrace"])
    assert not any("local/invoke.py" in frame for frame in error["stackTrace"])


def test_invoke_cli_pins_the_clock_where_asked() -> None:
    """Past the log's 90 days, the same event finds nothing: --at moves the whole world in time."""
    run = invoke_cli("GetRequestLogFunction", "--event", "events/api/get_ok.json", "--at", "2027-03-01")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["statusCode"] == 404


def test_invoke_cli_lists_the_template_functions_for_an_unknown_one() -> None:
    run = invoke_cli("NoSuchFunction", "--event", "events/api/list_ok.json")
    assert run.returncode == 2
    assert "NoSuchFunction" in run.stderr
    assert "ListRequestLogsFunction" in run.stderr
    assert "IngestFunction" in run.stderr
