"""Time ranges of a query, each rule once: what the caller asked, the stats default, what is visible.

Every range is ``[start_ms, end_ms)`` in epoch milliseconds. A read path resolves its range here once:
``requested_range`` (list and enhanced: unbounded sides stay open), ``stats_range`` (stats: the default
window) and then ``visible_range``, which applies retention and the last instant keys can spell. What
comes out is what the store reads, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from request_logs.domain.errors import InvalidQuery
from request_logs.domain.filters import LogQuery
from request_logs.domain.retention import first_visible_log_ms
from request_logs.domain.timeutil import END_OF_TIME_MS

# Without start_date, stats cover the 30 days before the end (which defaults to now).
STATS_DEFAULT_RANGE_MS = 30 * 86_400_000


@dataclass(frozen=True)
class TimeRange:
    start_ms: int
    end_ms: int  # exclusive


def requested_range(start_ms: int | None, end_ms: int | None) -> TimeRange:
    """The range a list asks for; a side not given is open. Start after end is a 400 naming start_date."""
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise InvalidQuery("start_date must be before end_date.", param="start_date")
    return TimeRange(0 if start_ms is None else start_ms, END_OF_TIME_MS if end_ms is None else end_ms)


def stats_range(start_ms: int | None, end_ms: int | None, *, now_ms: int) -> TimeRange:
    """The range stats answer: ``end_date`` defaults to now, ``start_date`` to the default window before it."""
    requested = requested_range(start_ms, end_ms)
    end = now_ms if end_ms is None else requested.end_ms
    start = end - STATS_DEFAULT_RANGE_MS if start_ms is None else requested.start_ms
    if start >= end:
        raise InvalidQuery("start_date must be before end_date (which defaults to now).", param="start_date")
    return TimeRange(start, end)


def visible_range(start_ms: int, end_ms: int, *, now_ms: int) -> TimeRange | None:
    """The part of ``[start_ms, end_ms)`` whose logs a read returns, or None when nothing can be.

    Logs past retention are hidden even before DynamoDB deletes them (``retention.first_visible_log_ms``);
    keys spell instants up to ``END_OF_TIME_MS``, so a later end reads up to it.
    """
    start = max(start_ms, first_visible_log_ms(now_ms))
    end = min(end_ms, END_OF_TIME_MS)
    return TimeRange(start, end) if start < end else None


def visible_query(query: LogQuery, *, now_ms: int) -> LogQuery | None:
    """``query`` narrowed to its visible range: what every list, count and summary reads."""
    visible = visible_range(query.start_ms, query.end_ms, now_ms=now_ms)
    if visible is None:
        return None
    return replace(query, start_ms=visible.start_ms, end_ms=visible.end_ms)
