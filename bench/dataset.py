"""The benchmark's data and requests: one account's gateway traffic, and the events API Gateway sends.

Logs are built by ingest's own mapping (``RequestCompleted`` → ``request_log_from`` → ``log_to_item``), so
they carry exactly the keys and index attributes the real write path gives them; only SQS and the
per-message ``PutItem`` are replaced by ``BatchWriteItem`` to load tens of thousands of logs quickly.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from unittest import mock

from moto import mock_aws

from bench.dynamo_tally import DynamoTally, tally
from local.demo.messages import DemoKey, generate_messages
from local.emulator.events import rest_proxy_event
from local.emulator.gateway.routing import match_route
from local.emulator.lambda_runtime import FunctionRegistry
from local.stack import partitioned_queries
from local.stack.provision import Stack, provision
from local.stack.template import Template
from request_logs.config import get_settings
from request_logs.domain.freshness import is_late
from request_logs.domain.log import RequestLog
from request_logs.logic.ingest import request_log_from
from request_logs.models.messages import RequestCompleted
from request_logs.store.api_keys import StoredAccount, put_account
from request_logs.store.dynamo import dynamodb, reset_clients, to_attributes
from request_logs.store.items import log_to_item
from request_logs.store.stats import raise_late_marks

ACCOUNT_ID = "acct_bench"
KEYS = [DemoKey("key_bench1", "sk-BNC1..."), DemoKey("key_bench2", "sk-BNC2...")]
DAY_MS = 86_400_000
_BATCH_WRITE_MAX = 25  # DynamoDB's limit of items per BatchWriteItem
# From a request's completion to ingest's stamp: the gateway's send, SQS, the ingest function's start.
INGEST_DELAY_MS = 1_500


@dataclass(frozen=True)
class Dataset:
    start_ms: int
    end_ms: int  # exclusive
    logs: list[RequestLog]


def build_dataset(count: int, *, days: int, end_ms: int, error_rate: float, seed: int) -> Dataset:
    """``count`` logs spread over the ``days`` before ``end_ms`` (deterministic for a seed and day-aligned end).

    Each is stamped as ingest stamps it (``ingested_ms``), as if ingested ``INGEST_DELAY_MS`` after the
    request completed: the list and enhanced endpoints trust rollups only up to the stamps the aggregator
    has applied (``domain/freshness``), so the stamps must be those of live traffic, not of this run.
    """
    start_ms = end_ms - days * DAY_MS
    messages = generate_messages(ACCOUNT_ID, KEYS, count, start_ms, end_ms, seed=seed, error_rate=error_rate)
    logs = []
    for message in messages:
        log = request_log_from(RequestCompleted.model_validate(message))
        logs.append(replace(log, ingested_ms=log.completed_ms + INGEST_DELAY_MS))
    return Dataset(start_ms, end_ms, logs)


def write_logs(
    client: Any, table: str, logs: list[RequestLog], metadata_slots: Mapping[str, int] | None = None
) -> None:
    """``metadata_slots``: the account's indexed metadata keys, as ingest would read them from the account."""
    for start in range(0, len(logs), _BATCH_WRITE_MAX):
        requests = [
            {"PutRequest": {"Item": to_attributes(log_to_item(log, metadata_slots))}}
            for log in logs[start : start + _BATCH_WRITE_MAX]
        ]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _announce_late_logs(logs: list[RequestLog]) -> None:
    """Raise the late marks ingest would raise before writing these logs (``logic/ingest.write_batch``)."""
    late = [log for log in logs if log.ingested_ms is not None and is_late(log.created_ms, log.ingested_ms)]
    for account_id in {log.account_id for log in late}:
        own = [log for log in late if log.account_id == account_id]
        raise_late_marks(
            account_id,
            min(log.created_ms for log in own),
            max(log.ingested_ms for log in own if log.ingested_ms is not None),
        )


@contextmanager
def loaded_stack(dataset: Dataset, metadata_slots: Mapping[str, int] | None = None) -> Iterator[Stack]:
    """moto in process with every resource of ``template.yaml``, the functions' environment set, and the
    dataset's logs in the logs table (whose stream then holds one INSERT per log, in write order).

    The settings and clients the package caches are dropped on the way in and out: they name the
    resources of one stack, and each benchmark builds its own.
    """
    partitioned_queries.install()  # moto reads the queried partition, not the table (answers unchanged)
    with mock_aws():
        stack = provision()
        with mock.patch.dict(os.environ, stack.function_environment()):
            get_settings.cache_clear()
            reset_clients()
            try:
                started = time.monotonic()
                _announce_late_logs(dataset.logs)
                if metadata_slots:
                    # The account, indexing these keys: the read endpoints look their slots up there.
                    put_account(
                        StoredAccount(ACCOUNT_ID, "bench", dataset.start_ms, metadata_slots=dict(metadata_slots))
                    )
                write_logs(dynamodb(), get_settings().logs_table, dataset.logs, metadata_slots)
                print(f"  wrote {len(dataset.logs)} logs in {time.monotonic() - started:.0f} s")
                yield stack
            finally:
                reset_clients()
                get_settings.cache_clear()


def api_event(template: Template, path: str, query: list[tuple[str, str]] | None = None) -> tuple[str, dict[str, Any]]:
    """(function logical id, REST proxy event) for an authorised ``GET path`` by the benchmark account."""
    matched = match_route(template.routes(), "GET", path)
    if matched is None:
        raise ValueError(f"no route in template.yaml serves GET {path}")
    route, path_parameters = matched
    event = rest_proxy_event(
        method="GET",
        resource=route.path,
        path=path,
        stage=template.stage_name(),
        query=query,
        headers=[("Accept", "application/json")],
        path_parameters=path_parameters or None,
        authorizer={
            "principalId": ACCOUNT_ID,
            "account_id": ACCOUNT_ID,
            "api_key_id": KEYS[0].api_key_id,
            "api_key_prefix": KEYS[0].prefix,
            "integrationLatency": 0,
        },
    )
    return route.function, event


def counted_get(
    stack: Stack, functions: FunctionRegistry, path: str, query: list[tuple[str, str]], *, exact_money: bool = False
) -> tuple[dict[str, Any], DynamoTally]:
    """``GET path?query`` through its real handler, with the DynamoDB reads it made; raises unless 200.

    ``exact_money`` reads numbers with decimals as Decimal, so an amount off in its last digit differs.
    """
    function, event = api_event(stack.template, path, query)
    with tally(dynamodb()) as reads:
        response = functions.invoke(function, event)
    if response["statusCode"] != 200:
        raise RuntimeError(f"GET {path} {query} failed: {response['statusCode']} {response['body']}")
    body: dict[str, Any] = json.loads(response["body"], parse_float=Decimal if exact_money else float)
    return body, reads
