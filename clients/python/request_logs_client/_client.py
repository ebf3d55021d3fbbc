"""The synchronous client: ``Client`` and its resources ``logs``, ``enhanced`` and ``stats``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar, Unpack

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
    Pagination,
    StatsResponse,
)


class Client:
    """The Request Logs API over httpx.

    ``api_key`` and ``base_url`` default to ``RL_API_KEY`` and ``RL_BASE_URL``. Failed calls are retried
    (``RetryPolicy``: 429 after ``Retry-After``, 5xx and connection errors with capped exponential backoff
    and jitter) up to ``max_attempts``; ``sleep`` waits between attempts (tests pass one that does not
    wait). Use it as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_attempts: int | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] | None = None,
        on_retry: RetryHook | None = None,
        transport: httpx.BaseTransport | None = None,
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
        self._http = httpx.Client(
            base_url=settings.base_url, headers=dict(settings.headers), timeout=settings.timeout, transport=transport
        )
        self.logs = Logs(self)
        self.enhanced = Enhanced(self)
        self.stats = Stats(self)

    def get_json(self, path: str, query: Query | None = None) -> Any:
        """GET ``path`` with retries; the parsed JSON of the answer (numbers with a fraction as Decimal)."""
        failed = 0
        while True:
            try:
                response = self._http.get(path, params=tuple(query or ()))
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
            self._sleep(wait)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class Logs:
    """``/api/account/request-logs``: the list, one log, its prompt and completion."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, **params: Unpack[ListParams]) -> LogListResponse:
        """One page of logs, newest first (``limit`` 1..100, default 50)."""
        return self._page(params)

    def get(self, log_id: str) -> LogDetail:
        return parse(LogDetail, self._client.get_json(log_path(log_id)))

    def details(self, log_id: str) -> LogContentResponse:
        """The prompt and completion; ``GoneError`` once they are past their 30-day retention."""
        return parse(LogContentResponse, self._client.get_json(log_path(log_id, "/details")))

    def enhanced(self, **params: Unpack[EnhancedParams]) -> EnhancedListResponse:
        """Same as ``client.enhanced.list``."""
        return self._client.enhanced.list(**params)

    def pages(self, **params: Unpack[ListParams]) -> Iterator[LogListResponse]:
        """Every page of the filtered list, following ``pagination.nextCursor``."""
        return cursor_pages(self._page, params)

    def iter(self, **params: Unpack[ListParams]) -> Iterator[LogSummary]:
        """Every log of the filtered list, page after page by cursor."""
        for page in self.pages(**params):
            yield from page.logs

    def _page(self, query: Mapping[str, Any]) -> LogListResponse:
        return parse(LogListResponse, self._client.get_json(LOGS_PATH, encode_query(query, ListParams)))


class Enhanced:
    """``/api/account/request-logs/enhanced``: logs with token and cost breakdowns and the set's summary."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, **params: Unpack[EnhancedParams]) -> EnhancedListResponse:
        return self._page(params)

    def pages(self, **params: Unpack[EnhancedParams]) -> Iterator[EnhancedListResponse]:
        return cursor_pages(self._page, params)

    def iter(self, **params: Unpack[EnhancedParams]) -> Iterator[EnhancedLog]:
        for page in self.pages(**params):
            yield from page.logs

    def _page(self, query: Mapping[str, Any]) -> EnhancedListResponse:
        answer = self._client.get_json(ENHANCED_PATH, encode_query(query, EnhancedParams))
        return parse(EnhancedListResponse, answer)


class Stats:
    """``/api/account/request-logs/stats``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, **params: Unpack[StatsParams]) -> StatsResponse:
        return parse(StatsResponse, self._client.get_json(STATS_PATH, encode_query(params, StatsParams)))


class _Paged(Protocol):
    @property
    def pagination(self) -> Pagination: ...


PageT = TypeVar("PageT", bound=_Paged)  # a response with a pagination block


def cursor_pages(fetch: Callable[[Mapping[str, Any]], PageT], params: Mapping[str, Any]) -> Iterator[PageT]:
    """Every page ``fetch`` answers for ``params``, following ``pagination.nextCursor``."""
    query: dict[str, Any] = dict(params)
    while True:
        page = fetch(query)
        yield page
        if not page.pagination.nextCursor:
            return
        query = next_page_query(query, page.pagination.nextCursor)


def next_page_query(query: Mapping[str, Any], cursor: str) -> dict[str, Any]:
    """The next page's parameters: the same filters, sort and order, the cursor instead of an offset (the
    API refuses both at once; the cursor carries the position)."""
    return {**{name: value for name, value in query.items() if name != "offset"}, "cursor": cursor}
