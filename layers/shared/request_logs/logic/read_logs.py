"""Use cases of the read endpoints: list, single log, full content. Handlers call exactly one of these."""

from __future__ import annotations

from request_logs.domain.errors import ContentExpired, NotFound
from request_logs.domain.filters import LogQuery
from request_logs.domain.log import RequestLog
from request_logs.domain.ordering import Ordering
from request_logs.domain.reads import ReadStats
from request_logs.domain.retention import content_visible, log_visible
from request_logs.domain.timeutil import format_ms
from request_logs.logic.pages import PageRequest, read_page
from request_logs.models.logs import (
    ContentMetadata,
    LogContentResponse,
    LogDetail,
    LogListResponse,
    LogSummary,
)
from request_logs.store import content as content_store
from request_logs.store import logs as log_store


def list_request_logs(
    query: LogQuery, *, limit: int, offset: int, cursor: str | None, now_ms: int, reads: ReadStats | None = None
) -> LogListResponse:
    page = read_page(
        PageRequest("list", query, Ordering(), limit, offset, cursor, with_sums=False), now_ms=now_ms, reads=reads
    )
    return LogListResponse(logs=[LogSummary.from_log(log) for log in page.logs], pagination=page.pagination)


def _require_log(account_id: str, log_id: str, now_ms: int, reads: ReadStats | None) -> RequestLog:
    log = log_store.get_log(account_id, log_id, reads)
    # Past retention is gone, even while DynamoDB has not deleted it yet.
    if log is None or not log_visible(log.created_ms, now_ms):
        raise NotFound(f"No request log with id '{log_id[:64]}'.", param="id")
    return log


def get_request_log(account_id: str, log_id: str, *, now_ms: int, reads: ReadStats | None = None) -> LogDetail:
    return LogDetail.from_log(_require_log(account_id, log_id, now_ms, reads))


def get_request_log_content(
    account_id: str, log_id: str, *, now_ms: int, reads: ReadStats | None = None
) -> LogContentResponse:
    log = _require_log(account_id, log_id, now_ms, reads)
    visible = content_visible(log.created_ms, now_ms)
    content = content_store.get_content(account_id, log_id, reads) if visible else None
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
