"""A stack shared by every test of one module: provisioning and ingesting once keeps the suite fast.

Same resources and callers as the function-scoped ``stack``/``api``/``ingest`` fixtures of conftest (moto
in process, provisioned from template.yaml), but entered by a module-scoped fixture. Tests that use it
must only read, or write data no other test of the module looks at.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from moto import mock_aws

from local.emulator.events import dynamodb_stream_event
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_reader import StreamReader
from local.stack.provision import Stack, provision
from request_logs.config import get_settings
from request_logs.store.dynamo import reset_clients
from request_logs.store.keys import LOG_SHARDS, log_key
from tests.conftest import NOW, ApiCaller, Ingestor
from tests.integration import oracle
from tests.integration.oracle import log_id

AGGREGATOR = "StatsAggregatorFunction"


@dataclass
class SharedStack:
    stack: Stack
    api: ApiCaller
    ingest: Ingestor


@contextmanager
def shared_stack() -> Iterator[SharedStack]:
    """Fake credentials, moto, every resource of the template, and the clock pinned at NOW."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("POWERTOOLS_DEV", "false")
        with mock_aws(), time_machine.travel(NOW, tick=False):
            stack = provision()
            for name, value in stack.function_environment().items():
                patch.setenv(name, value)
            get_settings.cache_clear()
            reset_clients()
            try:
                functions = FunctionRegistry(stack.template)
                yield SharedStack(stack, ApiCaller(functions, stack), Ingestor(functions, stack))
            finally:
                reset_clients()
    get_settings.cache_clear()


def aggregate_stream(
    functions: FunctionRegistry, stack: Stack, account: str | None = None, batch_size: int = 100
) -> int:
    """The stream's records (of one account, if given) through the aggregator, in batches per shard."""
    reader = StreamReader(stack.stream_arns["RequestLogsTable"])
    total = 0
    while polled := reader.poll():
        for shard_records in polled.values():
            records = [
                record
                for record in shard_records
                if account is None or record["dynamodb"]["NewImage"]["account_id"]["S"] == account
            ]
            for start in range(0, len(records), batch_size):
                batch = records[start : start + batch_size]
                result = functions.invoke(AGGREGATOR, dynamodb_stream_event(batch))
                assert result["batchItemFailures"] == []
                total += len(batch)
    return total


@contextmanager
def aggregated_stack(messages: list[dict[str, Any]]) -> Iterator[SharedStack]:
    """A shared stack holding ``messages``, ingested and folded into rollups by the aggregator."""
    with shared_stack() as shared:
        assert shared.ingest.messages(messages) == []
        assert aggregate_stream(shared.api.functions, shared.stack) == len(messages)
        yield shared


def fresh_messages(template: list[dict[str, Any]], at_ms: int, account: str, prefix: str) -> list[dict[str, Any]]:
    """At least one message per log shard, created seconds before ``at_ms`` (so not late when ingested then)."""
    rng = random.Random(prefix)
    chosen: list[dict[str, Any]] = []
    covered: set[int] = set()
    n = 0
    while len(covered) < LOG_SHARDS or len(chosen) < 12:
        message = oracle.variant(rng.choice(template), f"{prefix}_{n}", at_ms - 1000 - rng.randrange(0, 30_000))
        message["account_id"] = account
        key = log_key(log_id(message))
        assert key is not None
        covered.add(key.shard)
        chosen.append(message)
        n += 1
    return chosen
