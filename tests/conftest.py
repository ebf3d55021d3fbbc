"""Shared fixtures: moto in process with every resource provisioned from template.yaml, a pinned
clock, the template's functions loaded as Lambda would, and callers that build real events."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from moto import mock_aws

from local.demo.messages import DemoKey, generate_messages
from local.emulator.events import dynamodb_stream_event, rest_proxy_event, sqs_event, sqs_record
from local.emulator.gateway.routing import match_route
from local.emulator.lambda_runtime import FunctionRegistry
from local.stack import moto_speedups, partitioned_queries
from local.stack.provision import Stack, provision
from request_logs.config import get_settings
from request_logs.domain.timeutil import to_ms
from request_logs.store.dynamo import reset_clients

# moto walks the whole table for every Query; DynamoDB reads the partition (answers are the same).
partitioned_queries.install()
# ... and spends most of a read in per-request and per-item Python it can do without (same answers).
moto_speedups.install()

# Every test that depends on "now" runs at this instant (retention, TTL and the default ranges).
NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
NOW_MS = to_ms(NOW)
DAY_MS = 86_400_000

ACCOUNT_A = "acct_alpha"
ACCOUNT_B = "acct_beta"
KEYS_A = [DemoKey("key_alpha1", "sk-AAAA..."), DemoKey("key_alpha2", "sk-BBBB...")]
KEYS_B = [DemoKey("key_beta1", "sk-CCCC...")]


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, never a real endpoint or profile."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_DEV", "false")


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with mock_aws():
        provisioned = provision()
        for name, value in provisioned.function_environment().items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        reset_clients()
        yield provisioned
        reset_clients()
    get_settings.cache_clear()


@pytest.fixture
def functions(stack: Stack) -> FunctionRegistry:
    return FunctionRegistry(stack.template)


# A DynamoDB stream record, and a call handing a batch of them to the aggregator.
Record = dict[str, Any]
Delivery = Callable[[list[Record]], dict[str, Any]]


@pytest.fixture
def aggregator(stack: Stack) -> str:
    ((function, _),) = stack.template.event_sources("DynamoDB")
    return function


@pytest.fixture
def deliver(functions: FunctionRegistry, aggregator: str) -> Delivery:
    """Invoke the aggregator with a batch, as the event-source mapping does."""

    def invoke(records: list[Record]) -> dict[str, Any]:
        result: dict[str, Any] = functions.invoke(aggregator, dynamodb_stream_event(records))
        return result

    return invoke


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


class ApiCaller:
    """Calls an endpoint's handler with the REST proxy event API Gateway would build for it."""

    def __init__(self, functions: FunctionRegistry, stack: Stack) -> None:
        self.functions = functions
        self.routes = stack.template.routes()
        self.stage = stack.template.stage_name()

    def get(
        self,
        path: str,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        *,
        account: str = ACCOUNT_A,
        api_key_id: str = "key_alpha1",
    ) -> ApiResponse:
        return self.call("GET", path, params, account=account, api_key_id=api_key_id)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        raw_body: str | None = None,
        content_type: str = "application/json",
        account: str = ACCOUNT_A,
        api_key_id: str = "key_alpha1",
    ) -> ApiResponse:
        """POST a JSON body (``raw_body``: these bytes as they are)."""
        text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        return self.call(
            "POST", path, None, account=account, api_key_id=api_key_id, body=text, content_type=content_type
        )

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        *,
        account: str = ACCOUNT_A,
        api_key_id: str = "key_alpha1",
        body: str | None = None,
        content_type: str = "application/json",
    ) -> ApiResponse:
        matched = match_route(self.routes, method, path)
        assert matched is not None, f"no route for {method} {path}"
        route, path_params = matched
        pairs = list(params.items()) if isinstance(params, dict) else list(params or [])
        headers = [("Accept", "application/json")]
        if body is not None:
            headers.append(("Content-Type", content_type))
        event = rest_proxy_event(
            method=method,
            resource=route.path,
            path=path,
            stage=self.stage,
            query=[(name, str(value)) for name, value in pairs],
            headers=headers,
            path_parameters=path_params or None,
            authorizer={
                "principalId": account,
                "account_id": account,
                "api_key_id": api_key_id,
                "api_key_prefix": "sk-test...",
                "integrationLatency": 0,
            },
            body=body,
        )
        result = self.functions.invoke(route.function, event)
        headers_out = {**(result.get("headers") or {})}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers_out[name] = values[-1]
        return ApiResponse(result["statusCode"], json.loads(result["body"]), headers_out)


@pytest.fixture
def api(functions: FunctionRegistry, stack: Stack) -> ApiCaller:
    return ApiCaller(functions, stack)


class Ingestor:
    """Feeds gateway messages to IngestFunction as SQS batches (10 per batch, as the template says)."""

    def __init__(self, functions: FunctionRegistry, stack: Stack) -> None:
        self.functions = functions
        self.queue_arn = stack.arns["IngestQueue.Arn"]
        self.function = "IngestFunction"
        properties = stack.template.event_source(self.function, "SQS")
        self.batch_size = int(properties.get("BatchSize", 10))

    def bodies(self, bodies: list[str]) -> list[str]:
        """Ingest raw bodies; returns the bodies reported as batch item failures."""
        failed: list[str] = []
        for start in range(0, len(bodies), self.batch_size):
            batch = bodies[start : start + self.batch_size]
            records = [
                sqs_record(body, queue_arn=self.queue_arn, message_id=f"m{start + i}") for i, body in enumerate(batch)
            ]
            result = self.functions.invoke(self.function, sqs_event(records))
            by_id = {record["messageId"]: record["body"] for record in records}
            failed.extend(by_id[item["itemIdentifier"]] for item in result["batchItemFailures"])
        return failed

    def messages(self, messages: list[dict[str, Any]]) -> list[str]:
        return self.bodies([json.dumps(message) for message in messages])


@pytest.fixture
def ingest(functions: FunctionRegistry, stack: Stack) -> Ingestor:
    return Ingestor(functions, stack)


def sample_messages(
    account: str = ACCOUNT_A, count: int = 300, days: int = 40, seed: int = 11, **kwargs: Any
) -> list[dict[str, Any]]:
    keys = KEYS_A if account == ACCOUNT_A else KEYS_B
    return generate_messages(account, keys, count, NOW_MS - days * DAY_MS, NOW_MS, seed=seed, **kwargs)


def exact_quantile(values: list[int] | list[float], q: float) -> float:
    """Brute force for a percentile: linear interpolation between the order statistics around rank
    ``q × (n − 1)`` (numpy's default, Postgres ``percentile_cont``), by the standard library's
    implementation, not ours."""
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]
