"""Every function of the template, on the paths that handle secrets, in a process of its own.

    python -m tests.integration.function_tour OUT_DIR

Run by ``test_function_tour.py``, which reads this process's whole stdout and stderr: Powertools'
JSON lines (stdout), the logging module (stderr, DEBUG and up for our code), and what the Lambda
runtime would print for a handler that raises (its traceback). A child process sees every byte a
function writes, whichever stream object a logger captured when its module was imported.

Writes two files to OUT_DIR, never to stdout or stderr:

- ``secrets.json``: what must never appear in a log line: every API key presented (valid, revoked,
  unknown, malformed), its SHA-256, the usage identifier (an API Gateway key value), any secret
  the stack holds in Secrets Manager, and canary strings planted in request and response bodies;
- ``calls.json``: every AWS call each function made (IAM action, logical resource), from a botocore
  hook on boto3's default session, which every client of the package comes from.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import string
import sys
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import time_machine
from moto import mock_aws

from local.emulator.events import (
    authorizer_request_event,
    dynamodb_stream_event,
    rest_proxy_event,
    sqs_event,
    sqs_record,
)
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_reader import StreamReader
from local.stack.provision import Stack, provision
from request_logs.config import get_settings
from request_logs.domain.api_keys import hash_api_key
from request_logs.domain.ids import make_log_id
from request_logs.domain.timeutil import format_ms, now_ms, parse_instant
from request_logs.logic import accounts
from request_logs.store.dynamo import reset_clients

CANARY = "CANARY-" + uuid.uuid4().hex  # planted in every body; found in a log line = a body leaked
# Past the delay the aggregator asks settling for (SETTLE_MS after the late log's stamp, plus a margin).
SETTLE_WAIT_S = 130
# Bodies bigger than the content item's inline budget go to S3: the spill path must be quiet too.
BIG_BODY_CHARS = 520_000


class CallRecorder:
    """(function, IAM action, logical resource) of every AWS call made while a function runs."""

    def __init__(self, stack: Stack) -> None:
        self.current: str | None = None
        self.calls: list[dict[str, str]] = []
        self._logical: dict[str, str] = {}
        for name, arn in stack.arns.items():
            logical, _, attribute = name.partition(".")
            if attribute in ("Arn", "Ref"):
                self._logical[arn] = self._logical[_physical_name(arn)] = logical
        for logical, url in stack.queue_urls.items():
            self._logical[url] = logical

    def hook(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.current is None:
            return  # set-up by the tour itself, not a function
        service = model.service_model.signing_name
        action = f"{service}:{model.name}"
        for resource in self._resources(service, params):
            self.calls.append({"function": self.current, "action": action, "resource": resource})

    def _name(self, physical: str) -> str:
        return self._logical.get(physical, physical)

    def _resources(self, service: str, params: dict[str, Any]) -> list[str]:
        if service == "dynamodb":
            tables = list(params.get("RequestItems", {}))
            for item in params.get("TransactItems", []):
                tables += [operation["TableName"] for operation in item.values()]
            if "TableName" in params:
                index = params.get("IndexName")
                return [self._name(params["TableName"]) + (f"/index/{index}" if index else "")]
            return [self._name(table) for table in tables]
        if service == "s3":
            bucket = self._name(params["Bucket"])
            return [f"{bucket}/{params['Key']}" if "Key" in params else bucket]
        if service == "sqs":
            return [self._name(params["QueueUrl"])]
        if service == "secretsmanager":
            return [self._name(params["SecretId"])]
        return [json.dumps(sorted(params))]

    @contextmanager
    def running(self, function: str) -> Iterator[None]:
        self.current = function
        try:
            yield
        finally:
            self.current = None


def _physical_name(arn: str) -> str:
    """The name a client call uses for the resource an ARN names (table, bucket, queue, secret)."""
    if arn.startswith("arn:aws:s3:::"):
        return arn.removeprefix("arn:aws:s3:::")
    if ":table/" in arn:
        return arn.split(":table/", 1)[1].split("/", maxsplit=1)[0]
    if ":secret:" in arn:
        return arn.split(":secret:", 1)[1].rsplit("-", 1)[0]  # Secrets Manager appends 6 random characters
    return arn.rsplit(":", 1)[-1]


class Tour:
    def __init__(self, stack: Stack, recorder: CallRecorder) -> None:
        self.stack = stack
        self.functions = FunctionRegistry(stack.template)
        self.recorder = recorder
        self.secrets: set[str] = {CANARY}
        self.invoked: set[str] = set()

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        if function not in self.invoked:
            _new_execution_environment()
        self.invoked.add(function)
        with self.recorder.running(function):
            try:
                return self.functions.invoke(function, event)
            except Exception:
                # What the Lambda runtime logs for a handler that raises: its traceback.
                print(traceback.format_exc(), file=sys.stderr, flush=True)
                return None

    # ---------------------------------------------------------------- keys
    def key(self, account_id: str, *, revoked: bool = False) -> str:
        created = accounts.create_api_key(account_id, name="tour")
        if revoked:
            accounts.revoke_api_key(account_id, created.record.api_key_id)
        self.remember_key(created.api_key)
        return created.api_key

    def remember_key(self, api_key: str) -> None:
        self.secrets |= {api_key, api_key.removeprefix("sk-"), hash_api_key(api_key), hash_api_key(api_key)[:16]}

    def authorize(self, authorization: str | None, path: str = "/api/account/request-logs") -> Any:
        headers = {"Accept": "application/json"} | ({"Authorization": authorization} if authorization else {})
        event = authorizer_request_event(
            stage=self.stack.template.stage_name(), method="GET", resource=path, path=path, headers=headers
        )
        return self.invoke(self.stack.template.authorizer().function, event)

    # ---------------------------------------------------------------- ingest and aggregation
    def ingest(self, bodies: list[str]) -> None:
        function = "IngestFunction"
        queue_arn = self.stack.arns["IngestQueue.Arn"]
        for start in range(0, len(bodies), 10):
            records = [sqs_record(body, queue_arn=queue_arn, receive_count=3) for body in bodies[start : start + 10]]
            self.invoke(function, sqs_event(records))

    def aggregate(self) -> None:
        ((function, _),) = self.stack.template.event_sources("DynamoDB")
        reader = StreamReader(self.stack.stream_arns["RequestLogsTable"])
        for records in reader.poll().values():
            self.invoke(function, dynamodb_stream_event(records))
        poison = json.loads((Path(__file__).parents[2] / "events" / "stream" / "poison.json").read_text())
        self.invoke(function, poison)

    def settle(self) -> None:
        """The settle function on the requests the aggregator sent: at once (too early: it moves them to
        the late mark a redelivery raised), then on the moved ones once due (markers), and the aggregator
        on the markers."""
        queue_url = self.stack.queue_urls["SettleQueue"]
        queue_arn = self.stack.arns["SettleQueue.Arn"]

        def due_requests() -> dict[str, Any]:
            with time_machine.travel(now_ms() / 1000 + SETTLE_WAIT_S, tick=True):
                received = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            return sqs_event([sqs_record(m["Body"], queue_arn=queue_arn) for m in received["Messages"]])

        self.invoke("SettleFunction", due_requests())
        moved = due_requests()
        with time_machine.travel(now_ms() / 1000 + SETTLE_WAIT_S, tick=True):
            self.invoke("SettleFunction", moved)
            self.aggregate()

    # ---------------------------------------------------------------- the API
    def call(
        self,
        route: Any,
        api_key: str,
        account_id: str,
        log_id: str,
        query: list[tuple[str, str]],
        body: str | None = None,
    ) -> Any:
        path = route.path.replace("{id}", log_id)
        event = rest_proxy_event(
            method="DELETE" if route.method == "ANY" else route.method,  # an ANY route: a method none serves
            resource=route.path,
            path=path,
            stage=self.stack.template.stage_name(),
            query=query,
            # API Gateway passes the Authorization header on to the integration: the key is in every event.
            headers=[("Accept", "application/json"), ("Authorization", f"Bearer {api_key}")],
            path_parameters={"id": log_id} if "{id}" in route.path else None,
            body=body,
            authorizer={
                "principalId": account_id,
                "account_id": account_id,
                "api_key_id": "key_tour",
                "api_key_prefix": api_key[:7] + "...",
                "integrationLatency": 0,
            },
        )
        return self.invoke(route.function, event)


def _new_execution_environment() -> None:
    """Each function gets the layer to itself, as in Lambda: what one function cached in the package's
    modules (a client, the cursor signing key) must not spare another the AWS call that fetches it."""
    for name in [name for name in sys.modules if name == "request_logs" or name.startswith("request_logs.")]:
        del sys.modules[name]


def gateway_message(account_id: str, request_id: str, prompt: str, *, created_at: str) -> dict[str, Any]:
    return {
        "version": 1,
        "request_id": request_id,
        "account_id": account_id,
        "api_key_id": "key_tour",
        "api_key_prefix": "sk-tour...",
        "model": "openai/gpt-4o",
        "provider": "openai",
        "endpoint": "/v1/chat/completions",
        "method": "POST",
        "status": "success",
        "status_code": 200,
        "error": None,
        "created_at": created_at,
        "completed_at": created_at,
        "latency_ms": 812,
        "input_tokens": 12,
        "output_tokens": 5,
        "streaming": False,
        "request": {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": prompt}]},
        "response": {"id": "chatcmpl-tour", "choices": [{"message": {"role": "assistant", "content": f"{CANARY} ok"}}]},
    }


def run_tour(out_dir: Path) -> None:
    stack = provision()
    os.environ.update(stack.function_environment())
    # The most an operator would turn on for our own code.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "DEBUG"
    get_settings.cache_clear()
    reset_clients()
    recorder = CallRecorder(stack)
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("provide-client-params", recorder.hook)
    tour = Tour(stack, recorder)

    first = accounts.create_account("Tour", usage_identifier="usage" + secrets.token_hex(16))
    second = accounts.create_account("Tour second")
    # Ingest reads the account's indexed metadata keys; metadata filters and groupings resolve them.
    accounts.index_metadata_key(first.account_id, "feature")
    assert first.usage_identifier is not None
    tour.secrets.add(first.usage_identifier)
    valid = tour.key(first.account_id)
    other = tour.key(second.account_id)
    revoked = tour.key(first.account_id, revoked=True)
    unknown = "sk-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    tour.remember_key(unknown)
    for name, secret_arn in _stack_secrets(stack):
        value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
        tour.secrets.add(value)
        print(f"tour: holding the value of {name}", file=sys.stderr)

    for authorization in (
        f"Bearer {valid}",
        f"Bearer {other}",
        f"Bearer {revoked}",
        f"Bearer {unknown}",
        f"Bearer {valid}x",  # malformed: one character too many
        f"bearer  {valid} ",
        f"Basic {valid}",
        valid,
        None,
    ):
        tour.authorize(authorization)

    # Just now, as the gateway sends them: a log created long before it is ingested counts as late, and
    # late logs keep the list's totals off the rollups, a path (BatchGetItem on the stats) to take too.
    created_at = format_ms(now_ms() - 30_000)
    messages = [
        gateway_message(first.account_id, f"req_tour_{n}", f"{CANARY} prompt {n}", created_at=created_at)
        for n in range(12)
    ]
    for message in messages[:6]:  # attribution: indexed under the account's "feature" slot
        message.update(version=2, user="user_tour", metadata={"feature": "tour"})
    big = gateway_message(
        first.account_id, "req_tour_big", CANARY + secrets.token_urlsafe(BIG_BODY_CHARS), created_at=created_at
    )
    malformed = [
        "{" + f'"request": "{CANARY}',  # not JSON
        json.dumps({**messages[0], "request_id": "req_tour_bad_status", "status": CANARY}),
        json.dumps({**messages[0], "request_id": "req_tour_bad_request", "request": CANARY}),
        json.dumps({**messages[0], "request_id": "req_tour_naive", "created_at": created_at.removesuffix("Z")}),
    ]
    bodies = [json.dumps(m) for m in messages] + [json.dumps(big), json.dumps(messages[0])] + malformed
    tour.ingest(bodies)
    tour.aggregate()

    log_ids = [make_log_id(m["account_id"], m["request_id"], parse_instant(m["created_at"])) for m in messages]
    big_id = make_log_id(first.account_id, "req_tour_big", parse_instant(created_at))
    every_route(tour, valid, other, first.account_id, second.account_id, [log_ids[0], big_id, log_ids[1]])

    # Then a log that reaches ingest days after it was created, and every route again.
    late = gateway_message(
        first.account_id, "req_tour_late", f"{CANARY} late", created_at=format_ms(now_ms() - 3 * 86_400_000)
    )
    tour.ingest([json.dumps(late)])
    tour.aggregate()
    every_route(tour, valid, other, first.account_id, second.account_id, [log_ids[0], big_id, log_ids[1]])
    # The account is quiet after its late log (and a redelivery of it): the settle function moves its
    # horizon past them.
    tour.ingest([json.dumps(late)])
    tour.settle()
    exports(tour, valid, first.account_id)

    (out_dir / "secrets.json").write_text(json.dumps(sorted(tour.secrets)))
    (out_dir / "calls.json").write_text(json.dumps({"invoked": sorted(tour.invoked), "calls": recorder.calls}))


EXPORTS = "/api/account/request-logs/exports"


def exports(tour: Tour, key: str, account: str) -> None:
    """Two exports, through the API and the export queue: every log with its content (the body in S3 too)
    in Parquet, run after run (a reserve of time that always looks short makes each page a run of its own);
    then a filtered one (an index, a metadata key); the second is refused while the first runs. Their
    download URLs are secrets: a presigned URL must never reach a log line."""
    routes = {(route.path, route.method): route for route in tour.stack.template.routes()}
    os.environ.update(EXPORT_PAGE_ROWS="5", EXPORT_RESERVE_MS=str(10**9))

    def start(body: dict[str, Any]) -> Any:
        return tour.call(routes[(EXPORTS, "POST")], key, account, "", [], body=json.dumps(body))

    def run_queue() -> None:
        queue_url, queue_arn = tour.stack.queue_urls["ExportQueue"], tour.stack.arns["ExportQueue.Arn"]
        while received := boto3.client("sqs").receive_message(QueueUrl=queue_url).get("Messages", []):
            for message in received:
                tour.invoke("ExportLogsFunction", sqs_event([sqs_record(message["Body"], queue_arn=queue_arn)]))
                boto3.client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    first = start({"format": "parquet", "include_content": True})
    start({"format": "ndjson", "metadata": {"feature": "tour"}})  # 409: one at a time
    run_queue()
    second = start({"format": "ndjson", "metadata": {"feature": "tour"}})
    run_queue()
    for created in (first, second):
        export_id = json.loads(created["body"])["id"]
        answer = tour.call(routes[(f"{EXPORTS}/{{id}}", "GET")], key, account, export_id, [])
        detail = json.loads(answer["body"])
        assert detail["status"] == "succeeded", detail
        for url in [*detail["urls"], detail["manifest_url"]]:
            tour.secrets |= {url, parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]}
    tour.call(routes[(EXPORTS, "GET")], key, account, "", [("limit", "1")])
    for name in ("EXPORT_PAGE_ROWS", "EXPORT_RESERVE_MS"):
        del os.environ[name]


def every_route(tour: Tour, key: str, other_key: str, account: str, other_account: str, ids: list[str]) -> None:
    """Every route with a log id, the id of a log in S3, an unknown id, another account's id, bad and
    good parameters; ``ids``: a log, the log with its body in S3, a log of the other account."""
    own, in_s3, foreign = ids
    for route in tour.stack.template.routes():
        for log_id in (own, in_s3, "log_unknown"):
            tour.call(route, key, account, log_id, [])
        tour.call(route, other_key, other_account, foreign, [])
        tour.call(route, key, account, own, [("limit", "1000")])
        tour.call(route, key, account, own, [("group_by", "day,model"), ("start_date", "2026-11-01")])
        tour.call(route, key, account, own, [("sort", "cost"), ("limit", "2")])
        tour.call(route, key, account, own, [("metadata.feature", "tour"), ("user", "user_tour")])
        tour.call(route, key, account, own, [("group_by", "metadata.feature"), ("limit", "1")])
        # Filters read indexes (errors, a latency band); a page with more after it hands out a signed
        # cursor, which is then followed.
        for filters in ([("status", "error")], [("status", "success")], [("min_latency", "1")]):
            page = tour.call(route, key, account, own, [*filters, ("limit", "1")])
            cursor = _next_cursor(page)
            if cursor is not None:
                tour.call(route, key, account, own, [*filters, ("cursor", cursor)])


def _next_cursor(response: Any) -> str | None:
    if not isinstance(response, dict) or response.get("statusCode") != 200:
        return None
    cursor = json.loads(response["body"]).get("pagination", {}).get("nextCursor")
    return str(cursor) if cursor else None


def _stack_secrets(stack: Stack) -> list[tuple[str, str]]:
    return [
        (logical, stack.arns[f"{logical}.{attribute}"])
        for logical in stack.template.of_type("AWS::SecretsManager::Secret")
        for attribute in ("Arn", "Ref")
        if f"{logical}.{attribute}" in stack.arns
    ]


def main() -> None:
    out_dir = Path(sys.argv[1])
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    # The AWS SDK's DEBUG output is its wire protocol (every parameter of every call, the key hash the
    # authorizer looks up included). POWERTOOLS_LOG_LEVEL never reaches it in a deployed function, so a
    # test of our log lines leaves it at INFO; moto and its HTTP stack are the test's, not a function's.
    for noisy in ("botocore", "boto3", "s3transfer", "urllib3", "moto", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.INFO)
    with mock_aws():
        run_tour(out_dir)


if __name__ == "__main__":
    main()
