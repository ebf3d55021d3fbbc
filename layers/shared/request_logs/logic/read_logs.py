"""Use cases of the read endpoints: list, single log, full content. Handlers call exactly one of these."""

from __future__ import annotations

from request_logs.api.errors import ContentExpired, NotFound
from request_logs.api.models import (
    ContentMetadata,
    LogContentResponse,
    LogDetail,
    LogListResponse,
    LogSummary,
)
from request_logs.domain.filters import LogQuery
from request_logs.domain.ordering import Ordering
from request_logs.domain.timeutil import format_ms
from request_logs.logic.pages import PageRequest, read_page
from request_logs.store import content as content_store
from request_logs.store import logs as log_store
from request_logs.store.items import StoredLog


def list_request_logs(query: LogQuery, *, limit: int, offset: int, cursor: str | None, now_ms: int) -> LogListResponse:
    page = read_page(PageRequest("list", query, Ordering(), limit, offset, cursor, with_sums=False), now_ms=now_ms)
    return LogListResponse(logs=[LogSummary.from_stored(log) for log in page.logs], pagination=page.pagination)


def _require_log(account_id: str, log_id: str, now_ms: int) -> StoredLog:
    log = log_store.get_log(account_id, log_id, now_ms)
    if log is None:
        raise NotFound(f"No request log with id '{log_id[:64]}'.", param="id")
    return log


def get_request_log(account_id: str, log_id: str, *, now_ms: int) -> LogDetail:
    return LogDetail.from_stored(_require_log(account_id, log_id, now_ms))


def get_request_log_content(account_id: str, log_id: str, *, now_ms: int) -> LogContentResponse:
    log = _require_log(account_id, log_id, now_ms)
    content = content_store.get_content(account_id, log_id, now_ms)
    if content is None:
        raise ContentExpired(
            f"The request and response content of '{log_id}' is past its 30-day retention; "
            "the log itself stays available for 90 days.",
            param="id",
        )
    return LogContentResponse(
        id=log.id,
        request=content_store.load_body(content, "request"),
        response=content_store.load_body(content, "response"),
        metadata=ContentMetadata(
            latency_ms=log.latency_ms,
            cost=log.cost_total,
            created_at=format_ms(log.created_ms),
            model=log.model,
            status=log.status,
            status_code=log.status_code,
        ),
    )
