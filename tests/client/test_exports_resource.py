"""``client.exports`` against httpx.MockTransport: the POST's JSON body, a 409 naming the running export,
which failures a POST retries (only those where nothing ran), the status, the list's cursor walk, and
part downloads streamed without the API key. The same against the local stack: tests/e2e/test_client_cli.py."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from request_logs_client import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    Client,
    ConflictError,
    PermissionDeniedError,
    ServerError,
)
from request_logs_client.models import Status1
from tests.client.fake_api import (
    API_KEY,
    BASE_URL,
    EXPORT_ID,
    EXPORTS,
    Recorder,
    conflict,
    error_body,
    export_created,
    export_detail,
    json_response,
)

PART_URL = "https://s3.test/exports/part-00001.ndjson.gz?X-Amz-Signature=0123secret"


def make_client(handler: Recorder, sleeps: list[float] | None = None, **options: Any) -> Client:
    recorded = sleeps if sleeps is not None else []
    return Client(API_KEY, base_url=BASE_URL, transport=httpx.MockTransport(handler), sleep=recorded.append, **options)


def test_create_posts_the_filters_as_exact_json() -> None:
    handler = Recorder(json_response(202, export_created(format="csv", status="error")))

    with make_client(handler) as client:
        created = client.exports.create(
            format="csv",
            include_content=True,
            status="error",
            start_date=date(2026, 1, 1),
            min_cost=Decimal("0.000000000001"),
            max_cost="2.50",
            min_latency=100,
            metadata={"feature": "search"},
        )

    (request,) = handler.requests
    assert (request.method, request.url.path) == ("POST", EXPORTS)
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content, parse_float=Decimal) == {
        "format": "csv",
        "include_content": True,
        "status": "error",
        "start_date": "2026-01-01",
        "min_cost": Decimal("0.000000000001"),
        "max_cost": "2.50",
        "min_latency": 100,
        "metadata": {"feature": "search"},
    }
    assert b"1E-12" not in request.content  # the digits, never a float's exponent
    assert (created.id, created.status, created.filters) == (EXPORT_ID, "queued", {"status": "error"})


def test_create_refuses_what_the_api_would_before_sending() -> None:
    handler = Recorder(json_response(202, export_created()))
    with make_client(handler) as client:
        with pytest.raises(TypeError, match="sort"):
            client.exports.create(sort="cost")  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="min_latency"):
            client.exports.create(min_latency=True)  # type: ignore[arg-type]
    assert handler.requests == []


def test_a_409_is_a_conflict_naming_the_running_export() -> None:
    handler = Recorder(conflict("exp_running"))
    sleeps: list[float] = []

    with make_client(handler, sleeps) as client, pytest.raises(ConflictError) as raised:
        client.exports.create(format="ndjson")

    assert raised.value.export_id == "exp_running"
    assert (raised.value.status_code, raised.value.code) == (409, "export_in_progress")
    assert sleeps == [] and len(handler.requests) == 1


def test_a_409_without_the_id_still_maps() -> None:
    handler = Recorder(json_response(409, error_body("conflict_error", "export_in_progress", "Busy.")))
    with make_client(handler) as client, pytest.raises(ConflictError) as raised:
        client.exports.create()
    assert raised.value.export_id is None


@pytest.mark.parametrize(
    ("failure", "raised_as"),
    [
        (json_response(503, error_body("api_error", "unavailable", "Try later.")), ServerError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.RemoteProtocolError("cut"), APIConnectionError),
    ],
)
def test_a_post_that_may_have_run_is_not_sent_again(failure: Any, raised_as: type[Exception]) -> None:
    handler = Recorder(failure, json_response(202, export_created()))
    sleeps: list[float] = []

    with make_client(handler, sleeps) as client, pytest.raises(raised_as):
        client.exports.create()

    assert len(handler.requests) == 1 and sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        json_response(429, error_body("rate_limit_error", "rate_limit_exceeded", "Slow."), {"Retry-After": "4"}),
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("no route"),
    ],
)
def test_a_post_that_never_ran_is_sent_again(failure: Any) -> None:
    handler = Recorder(failure, json_response(202, export_created()))
    sleeps: list[float] = []

    with make_client(handler, sleeps) as client:
        assert client.exports.create().id == EXPORT_ID

    assert len(handler.requests) == 2 and len(sleeps) == 1


def test_get_is_a_typed_status_and_list_walks_by_cursor() -> None:
    detail = export_detail(status="running", rows=40, total=100)
    first = {
        "exports": [export_detail("exp_a")],
        "pagination": {"total": 2, "limit": 1, "offset": 0, "hasMore": True, "nextCursor": "c1"},
    }
    second = {
        "exports": [export_detail("exp_b")],
        "pagination": {"total": 2, "limit": 1, "offset": 1, "hasMore": False, "nextCursor": None},
    }
    handler = Recorder(json_response(200, detail), json_response(200, first), json_response(200, second))

    with make_client(handler) as client:
        status = client.exports.get(EXPORT_ID)
        listed = [export.id for export in client.exports.iter(limit=1)]

    assert status.status == Status1.running and (status.progress.rows, status.progress.total) == (40, 100)
    assert listed == ["exp_a", "exp_b"]
    assert [request.url.path for request in handler.requests] == [f"{EXPORTS}/{EXPORT_ID}", EXPORTS, EXPORTS]
    assert handler.requests[2].url.params["cursor"] == "c1" and "offset" not in handler.requests[2].url.params


def test_a_part_downloads_in_chunks_without_the_api_key() -> None:
    body = bytes(range(256)) * 1000
    handler = Recorder(
        httpx.Response(503, content=b"<Error>SlowDown</Error>"),
        httpx.Response(200, content=body, headers={"Content-Type": "application/gzip"}),
    )
    sleeps: list[float] = []

    with make_client(handler, sleeps) as client:
        chunks = list(client.exports.download(PART_URL, chunk_size=10_000))

    assert b"".join(chunks) == body and max(len(chunk) for chunk in chunks) <= 10_000
    assert len(sleeps) == 1  # a download is a GET: retried
    for request in handler.requests:
        assert str(request.url) == PART_URL
        assert "authorization" not in request.headers  # the key never goes to the storage host


def test_an_expired_url_is_a_403_that_does_not_show_the_signature() -> None:
    handler = Recorder(
        httpx.Response(403, content=b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"),
    )
    with make_client(handler) as client, pytest.raises(PermissionDeniedError) as raised:
        list(client.exports.download(PART_URL))
    assert raised.value.code == "http_403" and "expired" in raised.value.message

    unreachable = Recorder(httpx.ConnectError("refused"))
    with make_client(unreachable, max_attempts=1) as client, pytest.raises(APIConnectionError) as cut:
        list(client.exports.download(PART_URL))
    assert "0123secret" not in str(cut.value) and "s3.test/exports/part-00001.ndjson.gz" in str(cut.value)


def test_the_async_client_has_the_same_exports() -> None:
    body = b"x" * 50_000
    handler = Recorder(
        conflict("exp_running"),
        json_response(200, export_detail("exp_running", parts=[], urls=[PART_URL])),
        httpx.Response(200, content=body),
    )

    async def follow() -> tuple[str | None, str, bytes]:
        async with AsyncClient(API_KEY, base_url=BASE_URL, transport=httpx.MockTransport(handler)) as client:
            try:
                await client.exports.create(status="error")
            except ConflictError as exc:
                running = exc.export_id
            detail = await client.exports.get(running or "")
            data = b"".join([chunk async for chunk in client.exports.download((detail.urls or [])[0], 8192)])
            return running, detail.status.value, data

    assert asyncio.run(follow()) == ("exp_running", "succeeded", body)
    assert "authorization" not in handler.requests[2].headers
