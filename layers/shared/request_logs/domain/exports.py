"""Bulk exports, the pure part: ids, formats, how long an export lives, when a part ends, what its status
says (docs/architecture.md, "Exports"; decisions §34).

An export id carries its creation instant like a log id does (``exp_`` + 11 hex digits of the instant in
ms + 16 random hex digits): the account's exports sort by creation in the table, and an id past its 7 days
is known to be gone without a read, like a log past retention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from request_logs.domain.filters import LogQuery

ExportFormat = Literal["ndjson", "csv", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("ndjson", "csv", "parquet")
ExportStatus = Literal["queued", "running", "succeeded", "failed"]
# Queued or running: the account's one export at a time (its lock), the status a GET shows while it works.
ACTIVE_STATUSES: tuple[ExportStatus, ...] = ("queued", "running")
TERMINAL_STATUSES: tuple[ExportStatus, ...] = ("succeeded", "failed")

# Compressed in every format: gzip around NDJSON and CSV, Parquet's own (zstd) inside its pages.
FILE_SUFFIXES: dict[ExportFormat, str] = {"ndjson": ".ndjson.gz", "csv": ".csv.gz", "parquet": ".parquet"}
CONTENT_TYPES: dict[ExportFormat, str] = {
    "ndjson": "application/gzip",
    "csv": "application/gzip",
    "parquet": "application/vnd.apache.parquet",
}

# Exports (records, parts and manifests) are kept 7 days: the bucket's lifecycle rule and the records' TTL.
EXPORT_RETENTION = timedelta(days=7)
_EXPORT_RETENTION_MS = int(EXPORT_RETENTION.total_seconds() * 1000)
# An active export that has not checkpointed for this long has stopped (its messages are in the dead-letter
# queue, or a redrive lost the race to a newer export): it shows as failed, and the account may start
# another. Twice the export function's 15-minute timeout: every run checkpoints at least once.
STALL_MS = 30 * 60_000
STALLED_MESSAGE = (
    "The export stopped making progress (no checkpoint for 30 minutes); start a new export. "
    "Operators: its messages are in the export dead-letter queue."
)

_EXPORT_ID = re.compile(r"^exp_(?P<created>[0-9a-f]{11})[0-9a-f]{16}$")


def make_export_id(created_ms: int, nonce: int) -> str:
    """``nonce``: 64 random bits (the caller draws them; the domain does no I/O)."""
    return f"exp_{created_ms:011x}{nonce & (2**64 - 1):016x}"


def export_created_ms(export_id: str) -> int | None:
    """The creation instant a well-formed export id carries, or None (a malformed id is an unknown one)."""
    match = _EXPORT_ID.fullmatch(export_id)
    return int(match["created"], 16) if match else None


def export_expiry_ms(created_ms: int) -> int:
    return created_ms + _EXPORT_RETENTION_MS


def export_expiry_s(created_ms: int) -> int:
    """The TTL attribute (epoch seconds) of an export's records."""
    return export_expiry_ms(created_ms) // 1000


def export_visible(created_ms: int, now_ms: int) -> bool:
    """Whether an export created then still exists: DynamoDB's TTL deletes lazily, reads never rely on it."""
    return export_expiry_s(created_ms) > now_ms // 1000


def first_visible_export_ms(now_ms: int) -> int:
    """The earliest creation instant of an export still shown (``export_visible``'s boundary)."""
    return (now_ms // 1000 + 1) * 1000 - _EXPORT_RETENTION_MS


def part_name(number: int, export_format: ExportFormat) -> str:
    return f"part-{number:05d}{FILE_SUFFIXES[export_format]}"


@dataclass(frozen=True)
class PartLimits:
    """When the export function ends a part and when it hands over to its next run.

    A part ends at a page boundary once it holds ``max_rows`` rows or ``max_bytes`` bytes (compressed, as
    written), so it exceeds them by at most one page. A run checkpoints and continues in a new Lambda run
    once less than ``reserve_ms`` of its time is left: time enough to finish the page in hand, upload the
    part and write the checkpoint.
    """

    max_rows: int = 1_000_000
    max_bytes: int = 128 * 1024 * 1024
    page_rows: int = 1000
    reserve_ms: int = 90_000

    def part_full(self, rows: int, written_bytes: int) -> bool:
        return rows >= self.max_rows or written_bytes >= self.max_bytes


@dataclass(frozen=True)
class ShownStatus:
    status: ExportStatus
    error: str | None


def shown_status(status: ExportStatus, error: str | None, heartbeat_ms: int, now_ms: int) -> ShownStatus:
    """What a GET says: the stored status, or failed once an active export has stalled (``STALL_MS``)."""
    if status in ACTIVE_STATUSES and now_ms - heartbeat_ms > STALL_MS:
        return ShownStatus("failed", STALLED_MESSAGE)
    return ShownStatus(status, error)


def progress_fraction(rows: int, total: int | None, status: ExportStatus) -> float | None:
    """Rows written ÷ the filtered total, when the total is known (1.0 once succeeded, whatever it was)."""
    if status == "succeeded":
        return 1.0
    if total is None:
        return None
    if total <= 0:
        return 0.0
    return min(1.0, rows / total)


@dataclass(frozen=True)
class ExportRequest:
    """What ``POST …/exports`` asks for, checked: the query (like a list's), the format, the content."""

    query: LogQuery
    format: ExportFormat
    include_content: bool
    filters: dict[str, Any]  # as the client gave them, echoed back and written into the manifest
