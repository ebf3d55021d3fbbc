"""The asynchronous client: ``AsyncClient``, the same methods as ``Client`` to be awaited, and
``async for`` iterators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self, Unpack

import httpx

from request_logs_client._base import (
    ENHANCED_PATH,
    LOGS_PATH,
    STATS_PATH,
    Query,
    RetryHook,
    default_random,
    log_path,
    parse,
    read_answer,
    resolve_settings,
    retry_delay,
    transport_error,
)
from request_logs_client._client import PageT, next_page_query
from request_logs_client._params import EnhancedParams, ListParams, StatsParams, encode_query
from request_logs_client._retry import RetryPolicy
from request_logs_client.errors import APIError
from request_logs_client.models import (
    EnhancedListResponse,
    EnhancedLog,
    LogContentResponse,
    LogDetail,
    LogListResponse,
    LogSummary,
    StatsResponse,
)


class AsyncClient:
    """``Client`` for asyncio: ``await client.logs.list(...)``, ``async for log in client.logs.iter(...)``,
    ``async with AsyncClient() as client``. ``sleep`` is awaited between attempts."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_attempts: int | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] | None = None,
        on_retry: RetryHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        settings = resolve_settings(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_attempts=max_attempts,
            retry=retry,
            headers=headers,
        )
        self.base_url = settings.base_url
        self.retry = settings.retry
        self._sleep = sleep
        self._random = random or default_random()
        self._on_retry = on_retry
        self._http = httpx.AsyncClient(
            base_url=settings.base_url, headers=dict(settings.headers), timeout=settings.timeout, transport=transport
        )
        self.logs = AsyncLogs(self)
        self.enhanced = AsyncEnhanced(self)
        self.stats = AsyncStats(self)

    async def get_json(self, path: str, query: Query | None = None) -> Any:
        failed = 0
        while True:
            try:
                response = await self._http.get(path, params=tuple(query or ()))
            except httpx.TransportError as exc:
                error: APIError = transport_error(exc, f"{self.base_url}{path}")
                error.__cause__ = exc
            else:
                try:
                    return read_answer(response)
                except APIError as exc:
                    error = exc
            failed += 1
            wait = retry_delay(self.retry, error, failed, self._random)
            if wait is None:
                raise error
            if self._on_retry is not None:
                self._on_retry(error, wait, failed)
            await self._sleep(wait)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()


class AsyncLogs:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(self, **params: Unpack[ListParams]) -> LogListResponse:
        return await self._page(params)

    async def get(self, log_id: str) -> LogDetail:
        return parse(LogDetail, await self._client.get_json(log_path(log_id)))

    async def details(self, log_id: str) -> LogContentResponse:
        return parse(LogContentResponse, await self._client.get_json(log_path(log_id, "/details")))

    async def enhanced(self, **params: Unpack[EnhancedParams]) -> EnhancedListResponse:
        return await self._client.enhanced.list(**params)

    async def pages(self, **params: Unpack[ListParams]) -> AsyncIterator[LogListResponse]:
        async for page in async_cursor_pages(self._page, params):
            yield page

    async def iter(self, **params: Unpack[ListParams]) -> AsyncIterator[LogSummary]:
        async for page in self.pages(**params):
            for log in page.logs:
                yield log

    async def _page(self, query: Mapping[str, Any]) -> LogListResponse:
        answer = await self._client.get_json(LOGS_PATH, encode_query(query, ListParams))
        return parse(LogListResponse, answer)


class AsyncEnhanced:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(self, **params: Unpack[EnhancedParams]) -> EnhancedListResponse:
        return await self._page(params)

    async def pages(self, **params: Unpack[EnhancedParams]) -> AsyncIterator[EnhancedListResponse]:
        async for page in async_cursor_pages(self._page, params):
            yield page

    async def iter(self, **params: Unpack[EnhancedParams]) -> AsyncIterator[EnhancedLog]:
        async for page in self.pages(**params):
            for log in page.logs:
                yield log

    async def _page(self, query: Mapping[str, Any]) -> EnhancedListResponse:
        answer = await self._client.get_json(ENHANCED_PATH, encode_query(query, EnhancedParams))
        return parse(EnhancedListResponse, answer)


class AsyncStats:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self, **params: Unpack[StatsParams]) -> StatsResponse:
        answer = await self._client.get_json(STATS_PATH, encode_query(params, StatsParams))
        return parse(StatsResponse, answer)


async def async_cursor_pages(
    fetch: Callable[[Mapping[str, Any]], Awaitable[PageT]], params: Mapping[str, Any]
) -> AsyncIterator[PageT]:
    """Every page ``fetch`` answers for ``params``, following ``pagination.nextCursor``."""
    query: dict[str, Any] = dict(params)
    while True:
        page = await fetch(query)
        yield page
        if not page.pagination.nextCursor:
            return
        query = next_page_query(query, page.pagination.nextCursor)
