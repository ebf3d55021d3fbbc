"""Use cases of the export endpoints: start an export, read one (with its download URLs), list them.

The work itself is ``logic/export_run``, in the export function. Creating an export takes the account's
lock with one conditional write (``store/exports.acquire_lock``): a second export while one is queued or
running is a conflict naming it, whoever asks first.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from request_logs.domain.errors import ExportConflict, InvalidQuery, NotFound
from request_logs.domain.exports import (
    CONTENT_TYPES,
    STALL_MS,
    ExportRequest,
    export_created_ms,
    export_expiry_ms,
    export_expiry_s,
    export_visible,
    first_visible_export_ms,
    make_export_id,
    progress_fraction,
    shown_status,
)
from request_logs.domain.filters import LogQuery, MetadataFilter
from request_logs.domain.ordering import Position
from request_logs.domain.reads import ReadStats
from request_logs.domain.timeutil import format_ms
from request_logs.logic.attribution import with_metadata_slots
from request_logs.logic.cursors import CursorState, decode_cursor, encode_cursor, query_fingerprint, signing_key
from request_logs.models.exports import (
    ExportCreated,
    ExportDetail,
    ExportError,
    ExportListResponse,
    ExportPart,
    ExportProgress,
    ExportSummary,
)
from request_logs.models.logs import Pagination
from request_logs.store import exports as export_store
from request_logs.store.exports import ExportFile, StoredExport

# How long a download URL works: an hour, or until the export expires if that is sooner. A GET signs new ones.
URL_TTL_S = 3600


def query_to_dict(query: LogQuery) -> dict[str, Any]:
    """The query as JSON data (money as decimal strings): what an export record keeps."""
    raw = asdict(query)
    for name in ("min_cost", "max_cost"):
        if raw[name] is not None:
            raw[name] = str(raw[name])
    raw["metadata"] = [[pair.key, pair.value] for pair in query.metadata]
    return raw


def query_from_dict(raw: dict[str, Any]) -> LogQuery:
    values = dict(raw)
    for name in ("min_cost", "max_cost"):
        if values.get(name) is not None:
            values[name] = Decimal(values[name])
    values["metadata"] = tuple(MetadataFilter(key, value) for key, value in values.get("metadata", []))
    return LogQuery(**values)


def _not_found(export_id: str) -> NotFound:
    return NotFound(f"No export with id '{export_id[:64]}'.", param="id", code="export_not_found")


def create_export(request: ExportRequest, *, now_ms: int, reads: ReadStats | None = None) -> ExportCreated:
    """Queue an export of the logs ``request.query`` matches (a 409 while the account has one running)."""
    reads = reads if reads is not None else ReadStats()
    account_id = request.query.account_id
    # The same refusal as the list for a metadata key the account does not index, before anything is queued.
    with_metadata_slots(request.query, reads)
    export_id = make_export_id(now_ms, int.from_bytes(os.urandom(8), "big"))
    running = export_store.acquire_lock(account_id, export_id, now_ms=now_ms, until_ms=now_ms + STALL_MS)
    if running is not None:
        raise ExportConflict(running)
    record = StoredExport(
        account_id=account_id,
        export_id=export_id,
        status="queued",
        format=request.format,
        include_content=request.include_content,
        filters=request.filters,
        query=query_to_dict(request.query),
        created_ms=now_ms,
        expires_at=export_expiry_s(now_ms),
        heartbeat_ms=now_ms,
    )
    try:
        export_store.put_export(record)
        export_store.send_export_message({"account_id": account_id, "export_id": export_id, "step": 0})
    except BaseException:
        # Nothing will run it: free the account at once (the record, if written, shows the failure). Best
        # effort: the lock expires by itself, and the original error is the one to report.
        with contextlib.suppress(Exception):
            export_store.abandon(record, error="The export could not be queued; start it again.")
        raise
    return ExportCreated(
        id=export_id,
        status="queued",
        format=request.format,
        include_content=request.include_content,
        filters=request.filters,
        created_at=format_ms(now_ms),
        expires_at=format_ms(export_expiry_ms(now_ms)),
    )


def _require_export(account_id: str, export_id: str, now_ms: int, reads: ReadStats | None) -> StoredExport:
    created_ms = export_created_ms(export_id)
    if created_ms is None or not export_visible(created_ms, now_ms):
        raise _not_found(export_id)  # malformed, or past its 7 days even if DynamoDB has not deleted it yet
    record = export_store.get_export(account_id, export_id, reads)
    if record is None:
        raise _not_found(export_id)
    return record


def _summary_fields(record: StoredExport, now_ms: int) -> dict[str, Any]:
    shown = shown_status(record.status, record.error, record.heartbeat_ms, now_ms)
    return {
        "id": record.export_id,
        "status": shown.status,
        "format": record.format,
        "include_content": record.include_content,
        "filters": record.filters,
        "rows": record.rows,
        "created_at": format_ms(record.created_ms),
        "finished_at": format_ms(record.finished_ms) if record.finished_ms is not None else None,
        "expires_at": format_ms(export_expiry_ms(record.created_ms)),
        "error": ExportError(message=shown.error) if shown.status == "failed" and shown.error else None,
    }


def export_file(record: StoredExport, key: str) -> ExportFile:
    """A part or manifest of ``record`` as a download (its name: ``<export id>-<file name>``)."""
    name = key.rsplit("/", 1)[-1]
    content_type = "application/json" if name.endswith(".json") else CONTENT_TYPES[record.format]
    return ExportFile(key, content_type, f"{record.export_id}-{name}")


def get_export(account_id: str, export_id: str, *, now_ms: int, reads: ReadStats | None = None) -> ExportDetail:
    record = _require_export(account_id, export_id, now_ms, reads)
    fields = _summary_fields(record, now_ms)
    succeeded = fields["status"] == "succeeded"
    urls = manifest_url = urls_expire_at = None
    if succeeded:
        expires_s = min(URL_TTL_S, (export_expiry_ms(record.created_ms) - now_ms) // 1000)
        if expires_s > 0:
            urls = [
                export_store.presigned_url(export_file(record, part.key), expires_s=expires_s) for part in record.parts
            ]
            if record.manifest_key is not None:
                manifest_url = export_store.presigned_url(export_file(record, record.manifest_key), expires_s=expires_s)
            urls_expire_at = format_ms(now_ms + expires_s * 1000)
    return ExportDetail(
        **fields,
        progress=ExportProgress(
            rows=record.rows,
            total=record.total,
            fraction=progress_fraction(record.rows, record.total, fields["status"]),
        ),
        started_at=format_ms(record.started_ms) if record.started_ms is not None else None,
        parts=[
            ExportPart(
                number=part.number,
                name=part.key.rsplit("/", 1)[-1],
                rows=part.rows,
                bytes=part.bytes,
                sha256=part.sha256,
            )
            for part in record.parts
        ]
        if succeeded
        else [],
        urls=urls,
        manifest_url=manifest_url,
        urls_expire_at=urls_expire_at,
    )


def list_exports(
    account_id: str, *, limit: int, offset: int, cursor: str | None, now_ms: int, reads: ReadStats | None = None
) -> ExportListResponse:
    """The account's exports of the last 7 days, newest first, paged by offset or by cursor like the logs.
    The cursor pins the walk's total at its first page; the exports it pages are those created before it."""
    reads = reads if reads is not None else ReadStats()
    fingerprint = query_fingerprint("exports", {"account_id": account_id})
    from_ms = first_visible_export_ms(now_ms)
    if cursor is not None:
        if offset:
            raise InvalidQuery("Use either 'offset' or 'cursor', not both.", param="offset")
        state = decode_cursor(cursor, signing_key(), account_id=account_id, fingerprint=fingerprint, now_ms=now_ms)
        total, returned_before, issued_ms = int(state.totals.get("requests", 0)), state.returned, state.issued_ms
        records, has_more = export_store.export_page(
            account_id, from_ms=from_ms, skip=0, limit=limit, before_export_id=state.position.log_id, reads=reads
        )
    else:
        total = export_store.count_exports(account_id, from_ms=from_ms, reads=reads)
        returned_before, issued_ms = offset, now_ms
        records, has_more = (
            ([], False)
            if offset >= total
            else export_store.export_page(
                account_id, from_ms=from_ms, skip=offset, limit=limit, before_export_id=None, reads=reads
            )
        )
    next_cursor = None
    if has_more and records:
        last = records[-1]
        next_cursor = encode_cursor(
            CursorState(
                account_id=account_id,
                fingerprint=fingerprint,
                position=Position(True, Decimal(last.created_ms), last.created_ms, last.export_id),
                returned=returned_before + len(records),
                snapshot_ms=issued_ms,
                issued_ms=issued_ms,
                totals={"requests": total},
            ),
            signing_key(),
        )
    return ExportListResponse(
        exports=[ExportSummary(**_summary_fields(record, now_ms)) for record in records],
        pagination=Pagination(
            total=total, limit=limit, offset=returned_before, hasMore=has_more, nextCursor=next_cursor
        ),
    )
