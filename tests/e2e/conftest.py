"""One local runtime for the whole e2e package: moto server, pollers, demo data through SQS, gateway.

Built from the same pieces as ``make run`` (``local.run``), on free ports and with a few hundred
messages so the suite stays fast. The gateway's clock is a manual one: each test that asks for
``local_api`` starts an hour later (throttle buckets full, cached authorizer policies expired), and a
test moves it on instead of sleeping.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from local.demo.accounts import DemoAccount, create_demo_account
from local.demo.traffic import demo_messages, enqueue
from local.emulator.gateway import GatewayServer, LocalApiGateway
from local.run import Backend, start_backend
from local.stack.template import Template
from request_logs.config import get_settings
from request_logs.store.dynamo import reset_clients

FIRST_ACCOUNT_MESSAGES = 300
SECOND_ACCOUNT_MESSAGES = 40
DEMO_DAYS = 35  # past the content's 30 days, and past the 30-day default window of every endpoint
# A request without start_date covers the 30 days before now, from the start of that hour.
DEFAULT_WINDOW = timedelta(days=30)
# No demo log within this much of the default window's start: the tests' clock moves while they run,
# and a log on the edge would fall out of a request's window between the request and its brute force.
WINDOW_EDGE_MARGIN = timedelta(hours=2)
LIST = "/api/account/request-logs"


class ManualClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class LocalApi:
    base_url: str
    backend: Backend
    clock: ManualClock
    first: DemoAccount
    second: DemoAccount
    first_messages: list[dict[str, Any]]
    second_messages: list[dict[str, Any]]

    def in_default_window(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The messages a request without ``start_date`` covers: created in the 30 days before now, from
        the start of that hour."""
        start = (datetime.now(UTC) - DEFAULT_WINDOW).replace(minute=0, second=0, microsecond=0)
        return [m for m in messages if datetime.fromisoformat(m["created_at"]) >= start]

    @property
    def template(self) -> Template:
        return self.backend.stack.template

    def get(self, path: str, params: dict[str, Any] | None = None, *, key: str | None = None) -> requests.Response:
        """GET with ``Authorization: Bearer <key>`` (the first account's key by default)."""
        headers = {"Authorization": f"Bearer {key or self.first.api_key}"}
        return requests.get(f"{self.base_url}{path}", params=params, headers=headers, timeout=30)


def _off_the_window_edge(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    edge = datetime.now(UTC) - DEFAULT_WINDOW
    return [m for m in messages if abs(datetime.fromisoformat(m["created_at"]) - edge) > WINDOW_EDGE_MARGIN]


@pytest.fixture(autouse=True)
def aws_env() -> None:
    """Replaces the root conftest's: the package's runtime owns the environment (its moto endpoint)."""


@pytest.fixture(scope="package")
def local_runtime() -> Iterator[LocalApi]:
    saved_environment = dict(os.environ)
    backend: Backend | None = None
    server: GatewayServer | None = None
    try:
        backend = start_backend()
        first = create_demo_account("E2E First", ["default", "batch-jobs"])
        second = create_demo_account("E2E Second", ["default"])
        first_messages = _off_the_window_edge(demo_messages(first, FIRST_ACCOUNT_MESSAGES, days=DEMO_DAYS, seed=21))
        # A seed whose messages include errors (test_tenant_isolation asks for one of each kind).
        second_messages = _off_the_window_edge(demo_messages(second, SECOND_ACCOUNT_MESSAGES, days=DEMO_DAYS, seed=26))
        enqueue(backend.ingest_poller, [json.dumps(message) for message in first_messages + second_messages])
        backend.drain(120)  # ingested and aggregated: the stream's 10 s batching window does not wait here
        clock = ManualClock()
        server = GatewayServer(LocalApiGateway(backend.stack.template, backend.functions, clock=clock))
        server.start()
        yield LocalApi(server.url, backend, clock, first, second, first_messages, second_messages)
    finally:
        if server is not None:
            server.stop()
        if backend is not None:
            backend.stop()
        # start_backend() pointed this process at its moto server: give the other tests their environment.
        os.environ.clear()
        os.environ.update(saved_environment)
        get_settings.cache_clear()
        reset_clients()


@pytest.fixture
def local_api(local_runtime: LocalApi) -> LocalApi:
    """The package's runtime an hour later: throttle buckets full, no authorizer policy cached."""
    local_runtime.clock.advance(3600)
    return local_runtime


@pytest.fixture
def export_api(local_api: LocalApi, monkeypatch: pytest.MonkeyPatch) -> LocalApi:
    """The local API with the export function writing small parts, so that the demo's few hundred logs make
    several (the function reads its settings per run)."""
    monkeypatch.setenv("EXPORT_PAGE_ROWS", "40")
    monkeypatch.setenv("EXPORT_PART_MAX_ROWS", "100")
    return local_api
