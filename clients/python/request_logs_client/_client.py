"""The synchronous client: ``Client`` and its resources ``logs``, ``enhanced``, ``stats`` and ``exports``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar, Unpack

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
        self.sleep = sleep
        """How the client waits (between attempts, and ``rlogs export`` between polls of a server-side export)."""
        self._random = random or default_random()
        self._on_retry = on_retry
        self._http = httpx.Client(
            base_url=settings.base_url, headers=dict(settings.headers), timeout=settings.timeout, transport=transport
        )
        self.logs = Logs(self)
        self.enhanced = Enhanced(self)
        self.stats = Stats(self)
        self.exports = Exports(self)

    def get_json(self, path: str, query: Query | None = None) -> Any:
        """GET ``path`` with retries; the parsed JSON of the answer (numbers with a fraction as Decimal)."""
        return self.request_json("GET", path, query)

    def request_json(self, method: str, path: str, query: Query | None = None, body: Any = None) -> Any:
        """``method`` on ``path`` with ``body`` as JSON; the parsed JSON of the answer. A GET is retried after
        any transient failure, another method only when nothing ran (a 429, a connection never made)."""
        response = self._send(lambda: api_request(self._http, method, path, query, body), replayable=method == "GET")
        return read_answer(response)

    def stream_bytes(self, url: str, chunk_size: int = DOWNLOAD_CHUNK_BYTES) -> Iterator[bytes]:
        """The body at ``url`` (a presigned download URL, sent without the API key) in chunks, never whole in
        memory. Failures before the first byte are retried like a GET's; one mid-body is raised."""
        response = self._send(lambda: download_request(self._http, url), replayable=True, stream=True)
        try:
            yield from response.iter_bytes(chunk_size)
        except httpx.TransportError as exc:
            raise transport_error(exc, url) from exc
        finally:
            response.close()

    def _send(self, build: Callable[[], httpx.Request], *, replayable: bool, stream: bool = False) -> httpx.Response:
        """The first 2xx answer to the request ``build`` makes, retried by the policy; else its typed error."""
        failed = 0
        while True:
            request = build()
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error: APIError = transport_error(exc, str(request.url))
            else:
                if response.is_success:
                    return response
                response.read()
                response.close()
                error = answer_error(response)
            failed += 1
            wait = retry_delay(self.retry, error, failed, self._random, replayable=replayable)
            if wait is None:
                raise error
            if self._on_retry is not None:
                self._on_retry(error, wait, failed)
            self.sleep(wait)

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


class Exports:
    """``/api/account/request-logs/exports``: server-side bulk exports (one at a time per account).

    ``create(...)`` queues one (``ConflictError`` with ``export_id`` while another is queued or running);
    ``get(export_id)`` shows its status and progress and, once it has succeeded, its parts with their SHA-256
    and one presigned URL each; ``download(url)`` streams a part's bytes.
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(self, **params: Unpack[ExportParams]) -> ExportCreated:
        answer = self._client.request_json("POST", EXPORTS_PATH, body=encode_body(params, ExportParams))
        return parse(ExportCreated, answer)

    def get(self, export_id: str) -> ExportDetail:
        return parse(ExportDetail, self._client.get_json(export_path(export_id)))

    def list(self, **params: Unpack[ExportListParams]) -> ExportListResponse:
        """One page of the account's exports of the last 7 days, newest first."""
        return self._page(params)

    def pages(self, **params: Unpack[ExportListParams]) -> Iterator[ExportListResponse]:
        return cursor_pages(self._page, params)

    def iter(self, **params: Unpack[ExportListParams]) -> Iterator[ExportSummary]:
        for page in self.pages(**params):
            yield from page.exports

    def download(self, url: str, chunk_size: int = DOWNLOAD_CHUNK_BYTES) -> Iterator[bytes]:
        """A part's bytes from one of ``ExportDetail.urls`` (valid an hour: ``get`` signs fresh ones), in
        chunks; check them against the part's ``sha256``."""
        return self._client.stream_bytes(url, chunk_size)

    def _page(self, query: Mapping[str, Any]) -> ExportListResponse:
        answer = self._client.get_json(EXPORTS_PATH, encode_query(query, ExportListParams))
        return parse(ExportListResponse, answer)


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
