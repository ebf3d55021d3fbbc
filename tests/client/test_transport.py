"""The client's transport against httpx.MockTransport: configuration, query encoding, error mapping,
retries (Retry-After, capped exponential backoff, jitter bounds), paging, and the async twin."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from request_logs_client import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    Client,
    ContentExpiredError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from tests.client.fake_api import API_KEY, BASE_URL, Recorder, error_body, json_response, list_page, log

OK_LIST = list_page([1], total=1, offset=0, next_cursor=None)


def make_client(handler: Recorder, sleeps: list[float] | None = None, **options: Any) -> Client:
    recorded = sleeps if sleeps is not None else []
    return Client(
        API_KEY,
        base_url=BASE_URL,
        transport=httpx.MockTransport(handler),
        sleep=recorded.append,
        random=lambda: 0.5,
        **options,
    )


# --- configuration --------------------------------------------------------------------------------------


def test_key_and_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RL_BASE_URL", "https://env.test/v1/")
    monkeypatch.setenv("RL_API_KEY", "sk-from-env")
    handler = Recorder(json_response(200, OK_LIST))

    with Client(transport=httpx.MockTransport(handler)) as client:
        client.logs.list()

    (request,) = handler.requests
    assert str(request.url) == "https://env.test/v1/api/account/request-logs"
    assert request.headers["Authorization"] == "Bearer sk-from-env"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("request-logs-client/")


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RL_BASE_URL", "https://env.test")
    monkeypatch.setenv("RL_API_KEY", "sk-from-env")
    handler = Recorder(json_response(200, OK_LIST))

    with make_client(handler) as client:
        client.logs.list()

    assert str(handler.requests[0].url).startswith(f"{BASE_URL}/api/account/request-logs")
    assert handler.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(("missing", "named"), [("RL_API_KEY", "RL_API_KEY"), ("RL_BASE_URL", "RL_BASE_URL")])
def test_a_missing_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch, missing: str, named: str) -> None:
    monkeypatch.setenv("RL_BASE_URL", BASE_URL)
    monkeypatch.setenv("RL_API_KEY", API_KEY)
    monkeypatch.delenv(missing)

    with pytest.raises(ValueError, match=named):
        Client()


def test_timeout_reaches_httpx() -> None:
    handler = Recorder(json_response(200, OK_LIST))

    with make_client(handler, timeout=2.5) as client:
        client.logs.list()

    assert handler.requests[0].extensions["timeout"] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}


# --- query encoding -------------------------------------------------------------------------------------


def test_parameters_are_sent_with_the_api_names() -> None:
    handler = Recorder(json_response(200, {**OK_LIST, "summary": {}}))

    with make_client(handler) as client:
        client.logs.list(
            status="error",
            limit=10,
            model=None,
            start_date="2026-01-01",
            min_latency=5000,
            metadata={"feature": "search", "environment": "prod"},
            user="u_1",
            tz="Europe/Paris",
        )

    params = handler.requests[0].url.params
    assert list(params.multi_items()) == [
        ("status", "error"),
        ("limit", "10"),
        ("start_date", "2026-01-01"),
        ("min_latency", "5000"),
        ("metadata.feature", "search"),
        ("metadata.environment", "prod"),
        ("user", "u_1"),
        ("tz", "Europe/Paris"),
    ]


def test_stats_group_by_list_and_decimal_bounds() -> None:
    stats = Recorder(json_response(400, error_body("invalid_request_error", "invalid_parameter", "x")))

    with make_client(stats) as client, pytest.raises(InvalidRequestError):
        client.stats.get(group_by=["day", "model"], start_date="2026-01-01")
    assert stats.requests[0].url.params["group_by"] == "day,model"

    enhanced = Recorder(json_response(400, error_body("invalid_request_error", "invalid_parameter", "x")))
    with make_client(enhanced) as client, pytest.raises(InvalidRequestError):
        client.enhanced.list(min_cost=Decimal("0.000001"), sort="cost", order="asc")
    assert enhanced.requests[0].url.params["min_cost"] == "0.000001"


def test_an_unknown_parameter_is_refused_before_sending() -> None:
    handler = Recorder(json_response(200, OK_LIST))

    with make_client(handler) as client, pytest.raises(TypeError, match="stauts"):
        client.logs.list(stauts="error")  # type: ignore[call-arg]

    assert handler.requests == []


def test_a_log_id_stays_one_path_segment() -> None:
    handler = Recorder(json_response(404, error_body("not_found_error", "request_log_not_found", "no", "id")))

    with make_client(handler) as client, pytest.raises(NotFoundError):
        client.logs.details("log_a/../b?c")

    assert handler.requests[0].url.raw_path == b"/v1/api/account/request-logs/log_a%2F..%2Fb%3Fc/details"


# --- answers --------------------------------------------------------------------------------------------


def test_money_is_read_exactly_and_unknown_fields_are_kept() -> None:
    body = list_page([1], total=1, offset=0, next_cursor=None)
    raw = (
        json.dumps(body)
        .encode()
        .replace(b"0.000125", b"0.1234567890123456789")
        .replace(b'"error": null', b'"error": null, "new_field": 7')
    )
    handler = Recorder(httpx.Response(200, content=raw, headers={"Content-Type": "application/json"}))

    with make_client(handler) as client:
        page = client.logs.list()

    assert page.logs[0].cost == Decimal("0.1234567890123456789")
    assert page.logs[0].model_extra == {"new_field": 7}


@pytest.mark.parametrize(
    ("status", "error_type", "code", "param", "exception"),
    [
        (400, "invalid_request_error", "invalid_parameter", "limit", InvalidRequestError),
        (401, "authentication_error", "invalid_api_key", None, AuthenticationError),
        (403, "authorization_error", "access_denied", None, PermissionDeniedError),
        (404, "not_found_error", "request_log_not_found", "id", NotFoundError),
        (410, "content_expired", "content_expired", "id", GoneError),
        (405, "invalid_request_error", "method_not_allowed", None, APIError),
    ],
)
def test_error_answers_become_typed_exceptions_without_retry(
    status: int, error_type: str, code: str, param: str | None, exception: type[APIError]
) -> None:
    handler = Recorder(json_response(status, error_body(error_type, code, "A sentence.", param)))
    sleeps: list[float] = []

    with make_client(handler, sleeps) as client, pytest.raises(exception) as raised:
        client.logs.get("log_1")

    error = raised.value
    assert type(error) is exception
    assert (error.status_code, error.type, error.code, error.param, error.message) == (
        status,
        error_type,
        code,
        param,
        "A sentence.",
    )
    assert error.body == error_body(error_type, code, "A sentence.", param)
    assert len(handler.requests) == 1 and sleeps == []


def test_an_answer_the_models_refuse_is_a_typed_error() -> None:
    handler = Recorder(json_response(200, {"logs": [{"id": "log_1"}], "pagination": {}}))

    with make_client(handler) as client, pytest.raises(APIResponseValidationError) as raised:
        client.logs.list()

    assert raised.value.code == "response_validation_failed" and "LogListResponse" in raised.value.message
    assert raised.value.body == {"logs": [{"id": "log_1"}], "pagination": {}}


def test_content_expired_is_gone() -> None:
    assert ContentExpiredError is GoneError


def test_a_body_not_in_the_api_shape_still_maps_by_status() -> None:
    handler = Recorder(httpx.Response(502, text="<html>Bad Gateway</html>"))

    with make_client(handler, max_attempts=1) as client, pytest.raises(ServerError) as raised:
        client.stats.get()

    assert raised.value.status_code == 502
    assert raised.value.code == "http_502"
    assert "Bad Gateway" in raised.value.message


# --- retries --------------------------------------------------------------------------------------------


def rate_limited(retry_after: str | None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return json_response(429, error_body("rate_limit_error", "rate_limit_exceeded", "Slow down."), headers)


def test_429_waits_exactly_retry_after_then_succeeds() -> None:
    handler = Recorder(rate_limited("7"), rate_limited("2"), json_response(200, OK_LIST))
    sleeps: list[float] = []
    seen: list[tuple[int | None, float, int]] = []

    with make_client(
        handler, sleeps, on_retry=lambda error, wait, attempt: seen.append((error.status_code, wait, attempt))
    ) as client:
        page = client.logs.list()

    assert page.pagination.total == 1
    assert sleeps == [7.0, 2.0]
    assert seen == [(429, 7.0, 1), (429, 2.0, 2)]
    assert len(handler.requests) == 3


def test_429_without_retry_after_backs_off() -> None:
    handler = Recorder(rate_limited(None), json_response(200, OK_LIST))
    sleeps: list[float] = []

    with make_client(handler, sleeps, retry=RetryPolicy(initial_backoff=1.0)) as client:
        client.logs.list()

    assert sleeps == [0.75]  # equal jitter at rand 0.5: 1.0 / 2 + 0.5 × 1.0 / 2


def test_a_retry_after_beyond_the_limit_is_raised_at_once() -> None:
    handler = Recorder(rate_limited("3600"))
    sleeps: list[float] = []

    with make_client(handler, sleeps) as client, pytest.raises(RateLimitError) as raised:
        client.stats.get()

    assert sleeps == [] and len(handler.requests) == 1
    assert raised.value.retry_after == 3600.0
    assert (raised.value.type, raised.value.code) == ("rate_limit_error", "rate_limit_exceeded")


def test_attempts_are_capped_and_the_last_error_raised() -> None:
    handler = Recorder(rate_limited("1"))
    sleeps: list[float] = []

    with make_client(handler, sleeps, max_attempts=3) as client, pytest.raises(RateLimitError):
        client.logs.list()

    assert len(handler.requests) == 3
    assert sleeps == [1.0, 1.0]


def test_5xx_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(max_attempts=7, initial_backoff=1.0, max_backoff=8.0)
    handler = Recorder(json_response(503, error_body("api_error", "unavailable", "Try later.")))
    sleeps: list[float] = []

    with (
        Client(
            API_KEY,
            base_url=BASE_URL,
            transport=httpx.MockTransport(handler),
            sleep=sleeps.append,
            random=lambda: 0.999999,
            retry=policy,
        ) as client,
        pytest.raises(ServerError),
    ):
        client.logs.list()

    ceilings = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert sleeps == pytest.approx([ceiling / 2 + 0.999999 * ceiling / 2 for ceiling in ceilings])
    assert len(handler.requests) == 7


def test_a_5xx_with_retry_after_waits_that_long() -> None:
    handler = Recorder(
        json_response(503, error_body("api_error", "unavailable", "Later."), {"Retry-After": "4"}),
        json_response(200, OK_LIST),
    )
    sleeps: list[float] = []

    with make_client(handler, sleeps) as client:
        client.logs.list()

    assert sleeps == [4.0]


@pytest.mark.parametrize("failed_attempts", range(1, 12))
def test_jitter_stays_within_half_and_all_of_the_capped_backoff(failed_attempts: int) -> None:
    policy = RetryPolicy(max_attempts=100, initial_backoff=0.5, max_backoff=20.0)
    ceiling = min(20.0, 0.5 * 2 ** (failed_attempts - 1))

    waits = [policy.backoff(failed_attempts, rand / 100) for rand in range(100)]

    assert all(ceiling / 2 <= wait < ceiling + 1e-12 for wait in waits)
    assert min(waits) == ceiling / 2
    assert policy.backoff_ceiling(failed_attempts) == ceiling


def test_the_backoff_ceiling_never_overflows() -> None:
    assert RetryPolicy(max_backoff=20.0).backoff_ceiling(5000) == 20.0


def test_real_random_jitter_is_bounded() -> None:
    handler = Recorder(json_response(500, error_body("api_error", "internal", "Oops.")))
    sleeps: list[float] = []

    with (
        Client(
            API_KEY, base_url=BASE_URL, transport=httpx.MockTransport(handler), sleep=sleeps.append, max_attempts=6
        ) as client,
        pytest.raises(ServerError),
    ):
        client.logs.list()

    for failed, wait in enumerate(sleeps, start=1):
        ceiling = min(20.0, 0.5 * 2 ** (failed - 1))
        assert ceiling / 2 <= wait <= ceiling


def test_connection_errors_are_retried_then_raised() -> None:
    handler = Recorder(httpx.ConnectError("connection refused"))
    sleeps: list[float] = []

    with make_client(handler, sleeps, max_attempts=3) as client, pytest.raises(APIConnectionError) as raised:
        client.logs.list()

    assert len(handler.requests) == 3 and len(sleeps) == 2
    assert raised.value.status_code is None
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert "connection refused" in raised.value.message


def test_a_timeout_is_retried_and_recovers() -> None:
    handler = Recorder(httpx.ReadTimeout("slow"), json_response(200, OK_LIST))
    sleeps: list[float] = []

    with make_client(handler, sleeps) as client:
        assert client.logs.list().pagination.total == 1

    assert len(sleeps) == 1


def test_a_timeout_that_persists_is_an_api_timeout_error() -> None:
    handler = Recorder(httpx.ReadTimeout("slow"))

    with make_client(handler, max_attempts=2) as client, pytest.raises(APITimeoutError):
        client.logs.list()


# --- paging ---------------------------------------------------------------------------------------------


def three_pages() -> Recorder:
    return Recorder(
        json_response(200, list_page([1, 2], total=5, offset=0, next_cursor="c1")),
        json_response(200, list_page([3, 4], total=5, offset=2, next_cursor="c2")),
        json_response(200, list_page([5], total=5, offset=4, next_cursor=None)),
    )


def test_iter_follows_the_cursor_with_the_same_filters() -> None:
    handler = three_pages()

    with make_client(handler) as client:
        ids = [entry.id for entry in client.logs.iter(status="error", limit=2, offset=0)]

    assert ids == [log(number)["id"] for number in range(1, 6)]
    queries = [dict(request.url.params) for request in handler.requests]
    assert queries == [
        {"status": "error", "limit": "2", "offset": "0"},
        {"status": "error", "limit": "2", "cursor": "c1"},
        {"status": "error", "limit": "2", "cursor": "c2"},
    ]


def test_pages_yield_each_page() -> None:
    with make_client(three_pages()) as client:
        pages = list(client.logs.pages(limit=2))

    assert [len(page.logs) for page in pages] == [2, 2, 1]
    assert [page.pagination.nextCursor for page in pages] == ["c1", "c2", None]


def test_retries_inside_a_walk_resume_the_same_page() -> None:
    handler = Recorder(
        json_response(200, list_page([1, 2], total=3, offset=0, next_cursor="c1")),
        rate_limited("1"),
        json_response(200, list_page([3], total=3, offset=2, next_cursor=None)),
    )
    sleeps: list[float] = []

    with make_client(handler, sleeps) as client:
        ids = [entry.id for entry in client.logs.iter()]

    assert ids == [log(number)["id"] for number in (1, 2, 3)]
    assert sleeps == [1.0]
    assert handler.requests[1].url.params["cursor"] == handler.requests[2].url.params["cursor"] == "c1"


# --- async ----------------------------------------------------------------------------------------------


def test_the_async_client_retries_and_walks_pages() -> None:
    pages = three_pages()
    handler = Recorder(rate_limited("3"), *pages.answers)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def walk() -> list[str]:
        async with AsyncClient(
            API_KEY, base_url=BASE_URL, transport=httpx.MockTransport(handler), sleep=sleep
        ) as client:
            return [entry.id async for entry in client.logs.iter(limit=2)]

    assert asyncio.run(walk()) == [log(number)["id"] for number in range(1, 6)]
    assert slept == [3.0]
    assert [request.url.params.get("cursor") for request in handler.requests] == [None, None, "c1", "c2"]


def test_the_async_client_maps_errors() -> None:
    handler = Recorder(json_response(410, error_body("content_expired", "content_expired", "Too old.", "id")))

    async def details() -> None:
        async with AsyncClient(API_KEY, base_url=BASE_URL, transport=httpx.MockTransport(handler)) as client:
            await client.logs.details("log_1")

    with pytest.raises(GoneError) as raised:
        asyncio.run(details())
    assert raised.value.param == "id"


def test_the_async_client_gives_up_on_connection_errors() -> None:
    handler = Recorder(httpx.ConnectError("refused"))
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def stats() -> None:
        async with AsyncClient(
            API_KEY, base_url=BASE_URL, transport=httpx.MockTransport(handler), sleep=sleep, max_attempts=4
        ) as client:
            await client.stats.get()

    with pytest.raises(APIConnectionError):
        asyncio.run(stats())
    assert len(slept) == 3 and len(handler.requests) == 4
