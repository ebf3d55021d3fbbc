"""Retention, the one place: logs are kept 90 days, their prompt and completion 30 days.

DynamoDB's TTL deletes lazily (days late), so reads never rely on it: a read path asks
``ranges.visible_range`` (logs) or ``content_visible`` (bodies) once, and the store reads only that.
The TTL attributes are whole epoch seconds; "visible" is defined on them so that a log is hidden in the
same millisecond whether it is listed, counted, fetched by id or summed from rollups.
"""

from __future__ import annotations

from datetime import timedelta

LOG_RETENTION = timedelta(days=90)
CONTENT_RETENTION = timedelta(days=30)
_LOG_RETENTION_MS = int(LOG_RETENTION.total_seconds() * 1000)
_CONTENT_RETENTION_MS = int(CONTENT_RETENTION.total_seconds() * 1000)


def log_expiry_s(created_ms: int) -> int:
    """TTL attribute (epoch seconds) of a log item."""
    return (created_ms + _LOG_RETENTION_MS) // 1000


def content_expiry_s(created_ms: int) -> int:
    """TTL attribute (epoch seconds) of a content item and its S3 bodies."""
    return (created_ms + _CONTENT_RETENTION_MS) // 1000


def oldest_retained_log_ms(current_ms: int) -> int:
    """Logs created before this instant are past retention, even if DynamoDB has not deleted them yet."""
    return current_ms - _LOG_RETENTION_MS


def first_visible_log_ms(current_ms: int) -> int:
    """The earliest creation instant a read still returns: the first whose TTL second is after now's.

    ``expires_at`` holds whole seconds, so logs of the last second before ``oldest_retained_log_ms`` and up
    to a second after it are already hidden. Every read of logs starts here (``ranges.visible_range``).
    """
    return (current_ms // 1000 + 1) * 1000 - _LOG_RETENTION_MS


def log_visible(created_ms: int, current_ms: int) -> bool:
    """Whether a log created then is still shown: ``created_ms >= first_visible_log_ms(current_ms)``."""
    return log_expiry_s(created_ms) > current_ms // 1000


def content_visible(created_ms: int, current_ms: int) -> bool:
    """Whether the prompt and completion of a log created then are still shown (else the API's 410)."""
    return content_expiry_s(created_ms) > current_ms // 1000
