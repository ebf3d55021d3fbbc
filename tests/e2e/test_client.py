"""The Python client against the local runtime: every endpoint, cursor walks against offsets and brute
force, a real 429 waited out after its Retry-After, and the API's errors as typed exceptions.

The client's ``sleep`` moves the gateway's manual clock instead of waiting, so a walk that runs out of
throttle tokens is retried after the gateway's own ``Retry-After`` at no cost in time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from request_logs.domain.ids import make_log_id
from request_logs.domain.timeutil import parse_instant
from request_logs_client import (
    AsyncClient,
    AuthenticationError,
    Client,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    RetryPolicy,
    _json,
)
from request_logs_client.cli.render import as_data
from tests.e2e.conftest import LIST, LocalApi

pytestmark = pytest.mark.e2e

STATS = f"{LIST}/stats"
ENHANCED = f"{LIST}/enhanced"
# Before the oldest demo log (35 days): every log of the account, not the default 30-day window.
EVERYTHING = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()


def exact(response: requests.Response) -> Any:
    """An answer read as the client reads it (money as Decimal), to compare with the client's models."""
    assert response.status_code == 200, response.text
    return _json.loads(response.content)


def log_ids(api: LocalApi, messages: list[dict[str, Any]]) -> set[str]:
    account = api.first.account_id
    return {make_log_id(account, m["request_id"], parse_instant(m["created_at"])) for m in messages}


@pytest.fixture
def client(local_api: LocalApi) -> Iterator[Client]:
    with Client(local_api.first.api_key, base_url=local_api.base_url, sleep=local_api.clock.advance) as client:
        yield client


def test_every_endpoint_returns_the_apis_answer_as_models(client: Client, local_api: LocalApi) -> None:
    page = client.logs.list(limit=5, status="success")
    assert [as_data(log) for log in page.logs] == exact(local_api.get(LIST, {"limit": 5, "status": "success"}))["logs"]
    assert page.pagination.total > 5 and page.pagination.hasMore and page.pagination.nextCursor

    log_id = page.logs[0].id
    detail = client.logs.get(log_id)
    assert as_data(detail) == exact(local_api.get(f"{LIST}/{log_id}"))
    assert detail.tokens.total == detail.total_tokens

    details = client.logs.details(log_id)
    assert as_data(details) == exact(local_api.get(f"{LIST}/{log_id}/details"))
    assert details.metadata.cost == detail.cost

    enhanced = client.enhanced.list(sort="cost", order="desc", limit=10)
    assert as_data(enhanced) | {"pagination": None} == exact(
        local_api.get(ENHANCED, {"sort": "cost", "order": "desc", "limit": 10})
    ) | {"pagination": None}
    costs = [log.cost.total for log in enhanced.logs if log.cost is not None]
    assert costs == sorted(costs, reverse=True) and all(isinstance(cost, Decimal) for cost in costs)
    assert client.logs.enhanced(limit=1).logs[0].id == client.enhanced.list(limit=1).logs[0].id

    today = datetime.now(UTC).date()  # a bare end date: the whole day, so both answers have the same range
    stats = client.stats.get(group_by=["day", "model"], start_date=EVERYTHING, end_date=today, tz="UTC")
    assert as_data(stats) == exact(
        local_api.get(STATS, {"group_by": "day,model", "start_date": EVERYTHING, "end_date": today, "tz": "UTC"})
    )
    assert stats.by_day and stats.stats.total_requests == len(local_api.first_messages)
    assert sum(day.requests for day in stats.by_day) == stats.stats.total_requests


def test_a_cursor_walk_equals_offset_paging_and_every_log_of_the_account(client: Client, local_api: LocalApi) -> None:
    walked = [log.id for log in client.logs.iter(start_date=EVERYTHING, limit=40)]

    by_offset: list[str] = []
    while True:
        page = client.logs.list(start_date=EVERYTHING, limit=40, offset=len(by_offset))
        by_offset += [log.id for log in page.logs]
        if not page.pagination.hasMore:
            break

    assert walked == by_offset
    assert len(walked) == len(set(walked)) == page.pagination.total
    assert set(walked) == log_ids(local_api, local_api.first_messages)


def test_filtered_enhanced_pages_match_brute_force(client: Client, local_api: LocalApi) -> None:
    errors = [m for m in local_api.first_messages if m["status"] == "error" and m["provider"] == "openai"]

    pages = list(client.enhanced.pages(start_date=EVERYTHING, status="error", provider="openai", limit=7))

    assert {log.id for page in pages for log in page.logs} == log_ids(local_api, errors)
    assert sum(len(page.logs) for page in pages) == len(errors) == pages[0].pagination.total
    assert pages[-1].pagination.nextCursor is None
    assert all(log.error is not None and log.status == "error" for page in pages for log in page.logs)


def test_the_async_client_walks_the_same_logs(client: Client, local_api: LocalApi) -> None:
    async def sleep(seconds: float) -> None:
        local_api.clock.advance(seconds)

    async def walk() -> list[str]:
        async with AsyncClient(local_api.first.api_key, base_url=local_api.base_url, sleep=sleep) as client:
            single = await client.logs.get((await client.logs.list(limit=1)).logs[0].id)
            assert single.id
            return [log.id async for log in client.logs.iter(start_date=EVERYTHING, limit=100)]

    assert asyncio.run(walk()) == [log.id for log in client.logs.iter(start_date=EVERYTHING, limit=100)]


def test_a_real_429_is_retried_after_its_retry_after(local_api: LocalApi) -> None:
    while local_api.get(STATS, {"tz": "UTC"}).status_code != 429:  # empty the stats bucket (burst 5)
        pass
    retry_after = float(local_api.get(STATS, {"tz": "UTC"}).headers["Retry-After"])
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        local_api.clock.advance(seconds)

    with Client(local_api.first.api_key, base_url=local_api.base_url, sleep=sleep) as client:
        stats = client.stats.get(tz="UTC")

    assert stats.stats.total_requests > 0
    assert waits == [retry_after]


def test_a_429_past_the_attempts_is_a_rate_limit_error(local_api: LocalApi) -> None:
    from request_logs_client import RateLimitError

    while local_api.get(STATS, {"tz": "UTC"}).status_code != 429:
        pass

    with (
        Client(local_api.first.api_key, base_url=local_api.base_url, retry=RetryPolicy(max_attempts=1)) as client,
        pytest.raises(RateLimitError) as raised,
    ):
        client.stats.get(tz="UTC")

    assert (raised.value.status_code, raised.value.type) == (429, "rate_limit_error")
    assert raised.value.retry_after is not None and raised.value.retry_after >= 1


def test_errors_carry_the_apis_type_code_message_and_param(client: Client, local_api: LocalApi) -> None:
    with pytest.raises(InvalidRequestError) as bad_limit:
        client.logs.list(limit=101)
    assert (bad_limit.value.status_code, bad_limit.value.type, bad_limit.value.param) == (
        400,
        "invalid_request_error",
        "limit",
    )
    assert bad_limit.value.message == local_api.get(LIST, {"limit": 101}).json()["error"]["message"]

    with pytest.raises(InvalidRequestError) as unindexed:  # sent as metadata.feature=search
        client.enhanced.list(metadata={"feature": "search"})
    assert unindexed.value.param == "metadata.feature"

    with pytest.raises(NotFoundError) as unknown:
        client.logs.get("log_0000000000000000000000000000")
    assert (unknown.value.status_code, unknown.value.type, unknown.value.param) == (404, "not_found_error", "id")

    other_accounts = log_ids(local_api, [local_api.second_messages[0]])
    with pytest.raises(NotFoundError):
        client.logs.get(next(iter(other_accounts)))

    old = client.logs.list(
        start_date=EVERYTHING, end_date=(datetime.now(UTC) - timedelta(days=32)).isoformat(), limit=1
    )
    with pytest.raises(GoneError) as expired:
        client.logs.details(old.logs[0].id)
    assert (expired.value.status_code, expired.value.type, expired.value.code) == (
        410,
        "content_expired",
        "content_expired",
    )
    assert client.logs.get(old.logs[0].id).id == old.logs[0].id  # the log itself stays for 90 days

    with (
        Client("sk-not-a-key", base_url=local_api.base_url, sleep=local_api.clock.advance) as stranger,
        pytest.raises(AuthenticationError) as unauthenticated,
    ):
        stranger.logs.list()
    assert (unauthenticated.value.status_code, unauthenticated.value.type) == (401, "authentication_error")


def readme_example() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python client and CLI\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


def test_the_readme_example_runs_as_written(
    local_api: LocalApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RL_BASE_URL", local_api.base_url)
    monkeypatch.setenv("RL_API_KEY", local_api.first.api_key)

    exec(compile(readme_example(), "README.md", "exec"), {})

    printed = capsys.readouterr().out.splitlines()
    errors = local_api.get(LIST, {"limit": 10, "status": "error"}).json()["logs"]
    assert printed[: len(errors)] == [
        f"{log['created_at']}: {log['model']} - {log['error']['message']}" for log in errors
    ]
    by_model = local_api.get(STATS, {"start_date": "2025-01-01", "group_by": "model"}).json()["by_model"]
    assert {line.split(":")[0] for line in printed if " requests, " in line} == {entry["model"] for entry in by_model}
    in_window = [m for m in local_api.in_default_window(local_api.first_messages) if m["status"] == "error"]
    assert printed[-1] == f"{len(in_window)} errors in the last 30 days"
