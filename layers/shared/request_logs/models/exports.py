"""Response models of the export endpoints, and the message that starts or continues an export run.

No ``from __future__ import annotations``: as in ``models/logs``, pydantic builds these from evaluated
annotations on a cold start.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from request_logs.domain.exports import ExportFormat, ExportStatus
from request_logs.models.logs import Pagination


class _ResponseModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


class ExportError(_ResponseModel):
    message: str


class ExportProgress(_ResponseModel):
    """``rows`` written so far; ``total``: the logs the filters match (exact, from the same totals as the
    list's), known once the export has read its first page; ``fraction`` = rows ÷ total when known."""

    rows: int
    total: int | None
    fraction: float | None


class ExportPart(_ResponseModel):
    """One file of a finished export: its rows, its size in bytes and the SHA-256 of its bytes (hex)."""

    number: int
    name: str
    rows: int
    bytes: int
    sha256: str


class ExportSummary(_ResponseModel):
    """An export as the list shows it."""

    id: str
    status: ExportStatus
    format: ExportFormat
    include_content: bool
    filters: dict[str, Any]
    rows: int
    created_at: str
    finished_at: str | None
    expires_at: str
    error: ExportError | None


class ExportDetail(ExportSummary):
    """``GET /api/account/request-logs/exports/{id}``: the summary, its progress, and once it has
    succeeded its parts with one presigned URL each (``urls``, in part order), the manifest's URL and when
    the URLs stop working (``urls_expire_at``; ask again for fresh ones until ``expires_at``)."""

    progress: ExportProgress
    started_at: str | None
    parts: list[ExportPart]
    urls: list[str] | None
    manifest_url: str | None
    urls_expire_at: str | None


class ExportCreated(_ResponseModel):
    """``POST /api/account/request-logs/exports`` (202): the export is queued; poll its ``Location``."""

    id: str
    status: Literal["queued"]
    format: ExportFormat
    include_content: bool
    filters: dict[str, Any]
    created_at: str
    expires_at: str


class ExportListResponse(_ResponseModel):
    exports: list[ExportSummary]
    pagination: Pagination


class ExportMessage(BaseModel):
    """The export queue's message: run the export from its checkpoint. ``step`` is the export's step when
    the message was sent (0 to start, the checkpoint's step to continue): a message whose step the export
    has moved past is a no-op (``logic/export_run``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str = Field(min_length=1, max_length=128)
    export_id: str = Field(min_length=1, max_length=64)
    step: int = Field(ge=0)
