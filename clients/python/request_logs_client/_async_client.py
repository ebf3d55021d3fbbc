"""The asynchronous client: ``AsyncClient``, the same methods as ``Client`` to be awaited (its resources
``logs``, ``enhanced``, ``stats`` and ``exports``), and ``async for`` iterators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self, Unpack

import httpx

from request_logs_client._base import (
    DOWNLOAD_CHUNK_BYTES,
    ENHANCED_PATH,
    EXPORTS_PATH,
    LOGS_PATH,
    STATS_PATH,
    Query,
    RetryHook,
    answer_error,
    api_request,
    default_random,
    download_request,
    export_path,
    log_path,
    parse,
    read_answer,
    resolve_settings,
    retry_delay,
    transport_error,
)
from request_logs_client._client import PageT, next_page_query
from request_logs_client._params import (
    EnhancedParams,
    ExportListParams,
    ExportParams,
    ListParams,
    StatsParams,
    encode_body,
    encode_query,
)
from request_logs_client._retry import RetryPolicy
from request_logs_client.errors import APIError
from request_logs_client.models import (
    EnhancedListResponse,
    EnhancedLog,
    ExportCreated,
    ExportDetail,
    ExportListResponse,
    ExportSummary,
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
        self.sleep = sleep
        self._random = random or default_random()
        self._on_retry = on_retry
        self._http = httpx.AsyncClient(
            base_url=settings.base_url, headers=dict(settings.headers), timeout=settings.timeout, transport=transport
        )
        self.logs = AsyncLogs(self)
        self.enhanced = AsyncEnhanced(self)
        self.stats = AsyncStats(self)
        self.exports = AsyncExports(self)

    async def get_json(self, path: str, query: Query | None = None) -> Any:
        return await self.request_json("GET", path, query)

    async def request_json(self, method: str, path: str, query: Query | None = None, body: Any = None) -> Any:
        """As ``Client.request_json``: a GET retried after any transient failure, another method only when
        nothing ran."""
        response = await self._send(
            lambda: api_request(self._http, method, path, query, body), replayable=method == "GET"
        )
        return read_answer(response)

    async def stream_bytes(self, url: str, chunk_size: int = DOWNLOAD_CHUNK_BYTES) -> AsyncIterator[bytes]:
        """As ``Client.stream_bytes``."""
        response = await self._send(lambda: download_request(self._http, url), replayable=True, stream=True)
        try:
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.TransportError as exc:
            raise transport_error(exc, url) from exc
        finally:
            await response.aclose()

    async def _send(
        self, build: Callable[[], httpx.Request], *, replayable: bool, stream: bool = False
    ) -> httpx.Response:
        failed = 0
        while True:
            request = build()
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error: APIError = transport_error(exc, str(request.url))
            else:
                if response.is_success:
                    return response
                await response.aread()
                await response.aclose()
                error = answer_error(response)
            failed += 1
            wait = retry_delay(self.retry, error, failed, self._random, replayable=replayable)
            if wait is None:
                raise error
            if self._on_retry is not None:
                self._on_retry(error, wait, failed)
            await self.sleep(wait)

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


class AsyncExports:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(self, **params: Unpack[ExportParams]) -> ExportCreated:
        answer = await self._client.request_json("POST", EXPORTS_PATH, body=encode_body(params, ExportParams))
        return parse(ExportCreated, answer)

    async def get(self, export_id: str) -> ExportDetail:
        return parse(ExportDetail, await self._client.get_json(export_path(export_id)))

    async def list(self, **params: Unpack[ExportListParams]) -> ExportListResponse:
        return await self._page(params)

    async def pages(self, **params: Unpack[ExportListParams]) -> AsyncIterator[ExportListResponse]:
        async for page in async_cursor_pages(self._page, params):
            yield page

    async def iter(self, **params: Unpack[ExportListParams]) -> AsyncIterator[ExportSummary]:
        async for page in self.pages(**params):
            for export in page.exports:
                yield export

    def download(self, url: str, chunk_size: int = DOWNLOAD_CHUNK_BYTES) -> AsyncIterator[bytes]:
        return self._client.stream_bytes(url, chunk_size)

    async def _page(self, query: Mapping[str, Any]) -> ExportListResponse:
        answer = await self._client.get_json(EXPORTS_PATH, encode_query(query, ExportListParams))
        return parse(ExportListResponse, answer)


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
