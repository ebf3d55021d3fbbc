"""Which data answers a stats range: whole days from day rollups, whole hours from hour rollups, and raw
logs only for the partial hours at the edges. Pure: no I/O.

A range ``[start, end)`` is cut into contiguous pieces, each read from the coarsest source that is still
exact for it, so the cost of a stats request grows with the number of buckets, never with the number
of requests. Raw logs are kept 90 days while rollups are kept forever: an edge whose partial hour is past
log retention is widened to its whole hour, which the hour rollup answers, and the plan says so.

Also here: the hourly-bucket limit and the ISO weeks ``by_week`` is keyed by, so every bucket rule of the
stats endpoint lives in one module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal

from request_logs.domain.retention import log_visible
from request_logs.domain.rollups import DAY_MS, HOUR_MS
from request_logs.domain.timeutil import END_OF_TIME_MS, from_ms, to_ms

# group_by=hour answers at most a 31-day month of hourly buckets: enough for any "last month by hour"
# chart, and it bounds both the response size and the hour rollups one request reads.
MAX_HOURLY_BUCKETS = 744
TIME_GROUPINGS = ("hour", "day", "week")
DIMENSION_GROUPINGS = ("model", "provider")
GROUPINGS = TIME_GROUPINGS + DIMENSION_GROUPINGS
# Keys hold 13-digit epoch milliseconds (until 2286-11-20): a range is answered up to the last midnight
# they can spell, so a far-future end_date never builds a key range DynamoDB would reject.
LAST_PLANNED_MS = END_OF_TIME_MS - END_OF_TIME_MS % DAY_MS

Source = Literal["raw", "hour", "day"]


@dataclass(frozen=True)
class Piece:
    """``[start_ms, end_ms)`` read from one source. A raw piece lies within a single hour."""

    source: Source
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class StatsPlan:
    """The range actually answered (edges possibly widened to whole hours) and the pieces covering it."""

    start_ms: int
    end_ms: int
    pieces: tuple[Piece, ...]
    start_rounded: bool = False
    end_rounded: bool = False

    @property
    def rounded(self) -> bool:
        return self.start_rounded or self.end_rounded


def floor_to(epoch_ms: int, size_ms: int) -> int:
    return epoch_ms - epoch_ms % size_ms


def ceil_to(epoch_ms: int, size_ms: int) -> int:
    return -floor_to(-epoch_ms, size_ms)


def hourly_buckets(start_ms: int, end_ms: int) -> int:
    """How many hour buckets ``[start, end)`` touches, partial ones included."""
    return max(0, (ceil_to(end_ms, HOUR_MS) - floor_to(start_ms, HOUR_MS)) // HOUR_MS)


def raw_logs_retained(since_ms: int, now_ms: int) -> bool:
    """Whether every log created at or after ``since_ms`` is still within retention.

    Retention's own rule (``retention.log_visible``), so a raw piece is read only when none of its logs
    is hidden from reads.
    """
    return log_visible(since_ms, now_ms)


def plan_stats(start_ms: int, end_ms: int, *, now_ms: int, hourly: bool) -> StatsPlan:
    """Cover ``[start_ms, end_ms)`` with raw-edge, hour and day pieces, in time order.

    ``hourly`` (group_by includes hour) reads hour rollups for every whole hour; otherwise whole UTC days
    come from day rollups and only the hours of partial days from hour rollups.
    """
    start_ms, end_ms = min(start_ms, LAST_PLANNED_MS), min(end_ms, LAST_PLANNED_MS)
    if start_ms >= end_ms:
        return StatsPlan(start_ms, end_ms, ())
    first_hour, last_hour = ceil_to(start_ms, HOUR_MS), floor_to(end_ms, HOUR_MS)
    # The raw piece at the end starts at its hour, or at ``start`` when the range lies within one hour.
    start_rounded = start_ms != first_hour and not raw_logs_retained(start_ms, now_ms)
    end_rounded = end_ms != last_hour and not raw_logs_retained(max(start_ms, last_hour), now_ms)
    low = floor_to(start_ms, HOUR_MS) if start_rounded else start_ms
    high = ceil_to(end_ms, HOUR_MS) if end_rounded else end_ms
    first_hour, last_hour = ceil_to(low, HOUR_MS), floor_to(high, HOUR_MS)

    pieces: list[Piece] = []
    if low < first_hour:
        pieces.append(Piece("raw", low, min(first_hour, high)))
    if first_hour < last_hour:
        pieces.extend(_whole_hours(first_hour, last_hour, hourly=hourly))
    if last_hour < high and last_hour >= first_hour:
        pieces.append(Piece("raw", last_hour, high))
    return StatsPlan(low, high, tuple(pieces), start_rounded, end_rounded)


def _whole_hours(first_hour: int, last_hour: int, *, hourly: bool) -> list[Piece]:
    first_day, last_day = ceil_to(first_hour, DAY_MS), floor_to(last_hour, DAY_MS)
    if hourly or first_day >= last_day:
        return [Piece("hour", first_hour, last_hour)]
    pieces = [Piece("hour", first_hour, first_day)] if first_hour < first_day else []
    pieces.append(Piece("day", first_day, last_day))
    if last_day < last_hour:
        pieces.append(Piece("hour", last_day, last_hour))
    return pieces


@dataclass(frozen=True)
class IsoWeek:
    label: str  # "2025-W02"
    start_ms: int  # its Monday, midnight UTC


def iso_week(epoch_ms: int) -> IsoWeek:
    """The ISO 8601 week an instant falls in (weeks start on Monday; week 1 holds the year's first Thursday)."""
    year, week, _ = from_ms(epoch_ms).isocalendar()
    monday = date.fromisocalendar(year, week, 1)
    return IsoWeek(f"{year}-W{week:02d}", to_ms(datetime.combine(monday, time(), tzinfo=UTC)))
