"""Time ranges of a query, each rule once: what the caller asked, the default window, what is visible.

Every range is ``[start_ms, end_ms)`` in epoch milliseconds. A read path resolves its range here once:
``requested_range`` (list and enhanced), ``stats_range`` (stats) and then ``visible_range``, which
applies retention and the last instant keys can spell. What comes out is what the store reads, unchanged.

One default for every endpoint: without ``start_date`` a request covers the ``DEFAULT_RANGE_MS`` before
its end, from the start of that hour (``default_start``), and the end defaults to now, so a list's total,
the enhanced summary and the stats of the same account agree when no dates are given. A list without
either date is a walk whose pages come at different instants: its start is the marker ``OPEN_START``
until ``anchored`` resolves it from the instant the walk began (the first page's, which a cursor carries),
so every page of a walk covers the same logs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from request_logs.domain.errors import InvalidQuery
from request_logs.domain.filters import LogQuery
from request_logs.domain.retention import first_visible_log_ms
from request_logs.domain.timeutil import END_OF_TIME_MS

# Without start_date, a request covers the 30 days before its end (which defaults to now).
DEFAULT_RANGE_MS = 30 * 86_400_000
_HOUR_MS = 3_600_000
# The start of a list given neither date: the default window before the walk's first page (``anchored``).
OPEN_START = -1


@dataclass(frozen=True)
class TimeRange:
    start_ms: int
    end_ms: int  # exclusive


def default_start(end_ms: int) -> int:
    """The start of the default window before ``end_ms``: 30 days earlier, from the start of that hour.
    On the hour, a default range begins where an hour rollup does, so its totals need no raw reads at
    the start edge (eight queries, one per log shard, on every request without dates)."""
    start = end_ms - DEFAULT_RANGE_MS
    return start - start % _HOUR_MS


def requested_range(start_ms: int | None, end_ms: int | None) -> TimeRange:
    """The range a list asks for: without ``start_date`` the default window before ``end_date`` (or
    ``OPEN_START`` without either); without ``end_date`` the end is open (logs dated ahead included).
    Start after end is a 400 naming start_date."""
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise InvalidQuery("start_date must be before end_date.", param="start_date")
    if start_ms is None:
        start_ms = OPEN_START if end_ms is None else default_start(end_ms)
    return TimeRange(start_ms, END_OF_TIME_MS if end_ms is None else end_ms)


def anchored(query: LogQuery, walk_began_ms: int) -> LogQuery:
    """``query`` with an ``OPEN_START`` resolved: the default window before the walk's first page."""
    if query.start_ms != OPEN_START:
        return query
    return replace(query, start_ms=default_start(walk_began_ms))


def stats_range(start_ms: int | None, end_ms: int | None, *, now_ms: int) -> TimeRange:
    """The range stats answer: ``end_date`` defaults to now, ``start_date`` to the default window before it."""
    requested = requested_range(start_ms, end_ms)
    end = now_ms if end_ms is None else requested.end_ms
    start = default_start(end) if start_ms is None else requested.start_ms
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
