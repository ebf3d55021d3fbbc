"""The benchmark's data and requests: one account's gateway traffic, and the events API Gateway sends.

Logs are built by ingest's own mapping (``RequestCompleted`` → ``stored_log_from`` → ``to_item``), so
they carry exactly the keys and index attributes the real write path gives them; only SQS and the
per-message ``PutItem`` are replaced by ``BatchWriteItem`` to load tens of thousands of logs quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.demo_data import DemoKey, generate_messages
from local.events import rest_proxy_event
from local.routing import match_route
from local.template import Template
from request_logs.logic.ingest import stored_log_from
from request_logs.messages import RequestCompleted
from request_logs.store.dynamo import to_attributes
from request_logs.store.items import StoredLog

ACCOUNT_ID = "acct_bench"
KEYS = [DemoKey("key_bench1", "sk-BNC1..."), DemoKey("key_bench2", "sk-BNC2...")]
DAY_MS = 86_400_000
_BATCH_WRITE_MAX = 25  # DynamoDB's limit of items per BatchWriteItem


@dataclass(frozen=True)
class Dataset:
    start_ms: int
    end_ms: int  # exclusive
    logs: list[StoredLog]


def build_dataset(count: int, *, days: int, end_ms: int, error_rate: float, seed: int) -> Dataset:
    """``count`` logs spread over the ``days`` before ``end_ms`` (deterministic for a seed and day-aligned end)."""
    start_ms = end_ms - days * DAY_MS
    messages = generate_messages(ACCOUNT_ID, KEYS, count, start_ms, end_ms, seed=seed, error_rate=error_rate)
    logs = [stored_log_from(RequestCompleted.model_validate(message)) for message in messages]
    return Dataset(start_ms, end_ms, logs)


def write_logs(client: Any, table: str, logs: list[StoredLog]) -> None:
    for start in range(0, len(logs), _BATCH_WRITE_MAX):
        requests = [
            {"PutRequest": {"Item": to_attributes(log.to_item())}} for log in logs[start : start + _BATCH_WRITE_MAX]
        ]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


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
