"""Which data answers a stats range: whole days from day rollups, whole hours from hour rollups, and raw
logs only for the partial hours at the edges. Pure: no I/O.

A range ``[start, end)`` is cut into contiguous pieces, each read from the coarsest source that is still
exact for it, so the cost of a stats request grows with the number of buckets, never with the number
of requests. Raw logs are kept 90 days while rollups are kept forever: an edge whose partial hour is past
log retention is widened to its whole hour, which the hour rollup answers, and the plan says so.

Time groupings follow the request's zone (``tz``): a local day, week or hour starts at a local midnight or
hour, which in most zones is not a UTC one. The plan is cut at those instants (``cuts``), so that every
piece, and every rollup item it reads, lies inside one local bucket: an item is then counted in the bucket
its start falls in. Where a cut falls inside an hour (zones offset by :30 or :45, or Lord Howe's
half-hour daylight saving), that hour is read as its four quarter-hour "all" items (or raw, for an hour
only partly in the range).

Also here: the hourly-bucket limit, the local buckets and the ISO weeks ``by_week`` is keyed by, so every
bucket rule of the stats endpoint lives in one module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, timedelta, tzinfo
from typing import Literal

from request_logs.domain.retention import log_visible
from request_logs.domain.rollups import DAY_MS, HOUR_MS, QUARTER_MS
from request_logs.domain.timeutil import END_OF_TIME_MS, local_midnight, local_time, to_ms

# group_by=hour answers at most a 31-day month of hourly buckets: enough for any "last month by hour"
# chart, and it bounds both the response size and the hour rollups one request reads.
MAX_HOURLY_BUCKETS = 744
TIME_GROUPINGS = ("hour", "day", "week")
DIMENSION_GROUPINGS = ("model", "provider")
GROUPINGS = TIME_GROUPINGS + DIMENSION_GROUPINGS
# Keys hold 13-digit epoch milliseconds (until 2286-11-20): a range is answered up to the last midnight
# they can spell, so a far-future end_date never builds a key range DynamoDB would reject.
LAST_PLANNED_MS = END_OF_TIME_MS - END_OF_TIME_MS % DAY_MS

Source = Literal["raw", "quarter", "hour", "day"]


@dataclass(frozen=True)
class Piece:
    """``[start_ms, end_ms)`` read from one source. A raw piece lies within a single hour; a quarter piece
    covers whole hours, read as quarter-hour "all" items (only a plan with cuts has them)."""

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
    # A local bucket boundary inside an hour past log retention: that hour's rollup could not be split,
    # and is counted whole in the bucket its start falls in.
    cuts_rounded: bool = False

    @property
    def rounded(self) -> bool:
        return self.start_rounded or self.end_rounded or self.cuts_rounded


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


def plan_stats(start_ms: int, end_ms: int, *, now_ms: int, hourly: bool, cuts: Iterable[int] = ()) -> StatsPlan:
    """Cover ``[start_ms, end_ms)`` with raw-edge, hour and day pieces, in time order, none of them across
    one of ``cuts`` (the starts of the local buckets the answer is grouped by).

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
    pieces: list[Piece] = []
    bounds, quartered, moved = _cut_bounds(sorted({cut for cut in cuts if low < cut < high}), low, high, now_ms)
    for segment_start, segment_end in zip([low, *bounds], [*bounds, high], strict=True):
        if segment_start in quartered:
            pieces.append(Piece("quarter", segment_start, segment_end))
        else:
            pieces.extend(_segment(segment_start, segment_end, hourly=hourly))
    return StatsPlan(low, high, _joined(pieces), start_rounded, end_rounded, cuts_rounded=moved)


def _cut_bounds(cuts: list[int], low: int, high: int, now_ms: int) -> tuple[list[int], set[int], bool]:
    """Where the plan's segments end, which of them are hours read as quarter-hour items, and whether a
    cut had to move.

    A cut on the hour is a segment end. An hour with cuts inside, all on quarter hours (every zone's since
    the 1970s), is read as its four quarter-hour "all" items, each counted in the bucket it starts in.
    Otherwise (an hour only partly inside the range, or an odd offset) the hour is read raw on both sides
    of each cut while its logs are retained, and past that the cut moves to the end of its hour.
    """
    by_hour: dict[int, list[int]] = {}
    bounds: set[int] = set()
    for cut in cuts:
        if cut % HOUR_MS == 0:
            bounds.add(cut)
        else:
            by_hour.setdefault(floor_to(cut, HOUR_MS), []).append(cut)
    quartered: set[int] = set()
    moved = False
    for hour, inside in by_hour.items():
        if low <= hour and hour + HOUR_MS <= high and all(cut % QUARTER_MS == 0 for cut in inside):
            quartered.add(hour)
            bounds.update((hour, hour + HOUR_MS))
        elif raw_logs_retained(hour, now_ms):
            bounds.update(inside)
        else:
            bounds.add(hour + HOUR_MS)
            moved = True
    return sorted(bound for bound in bounds if low < bound < high), quartered, moved


def _segment(low: int, high: int, *, hourly: bool) -> list[Piece]:
    """Pieces of ``[low, high)``: raw for its partial hours, hour and day items for the rest."""
    first_hour, last_hour = ceil_to(low, HOUR_MS), floor_to(high, HOUR_MS)
    pieces: list[Piece] = []
    if low < first_hour:
        pieces.append(Piece("raw", low, min(first_hour, high)))
    if first_hour < last_hour:
        pieces.extend(_whole_hours(first_hour, last_hour, hourly=hourly))
    if last_hour < high and last_hour >= first_hour:
        pieces.append(Piece("raw", last_hour, high))
    return pieces


def _joined(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Adjacent hour (or day) pieces as one: each is one query, and an item is placed by its own start,
    so a piece of items may span buckets. Raw pieces stay apart: each is folded into one bucket."""
    joined: list[Piece] = []
    for piece in pieces:
        previous = joined[-1] if joined else None
        if previous and piece.source != "raw" and previous.source == piece.source and previous.end_ms == piece.start_ms:
            joined[-1] = replace(previous, end_ms=piece.end_ms)
        else:
            joined.append(piece)
    return tuple(joined)


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
    start_ms: int  # its Monday, local midnight


def iso_week(epoch_ms: int, zone: tzinfo = UTC) -> IsoWeek:
    """The ISO 8601 week an instant falls in, in ``zone`` (weeks start on Monday; week 1 holds the year's
    first Thursday)."""
    day = local_time(epoch_ms, zone).date()
    year, week, _ = day.isocalendar()
    return IsoWeek(f"{year}-W{week:02d}", local_midnight(day - timedelta(days=day.weekday()), zone))


def local_bucket_start(epoch_ms: int, grouping: str, zone: tzinfo) -> int:
    """The first instant of the local hour, day or ISO week (from Monday) that ``epoch_ms`` falls in.

    A local hour repeated when clocks go back is two buckets (the wall time keeps its ``fold``); one that
    a change shortens starts at the change."""
    moment = local_time(epoch_ms, zone)
    if grouping == "hour":
        return to_ms(moment.replace(minute=0, second=0, microsecond=0))
    if grouping == "week":
        return iso_week(epoch_ms, zone).start_ms
    return local_midnight(moment.date(), zone)


# Every zone's offset has been a multiple of 15 minutes since the 1970s: stepping by it meets every local hour.


def local_bucket_starts(start_ms: int, end_ms: int, grouping: str, zone: tzinfo) -> list[int]:
    """The starts of the local hours, days or weeks that begin inside ``(start_ms, end_ms)``, in order."""
    if start_ms >= end_ms:
        return []
    if grouping == "hour":
        candidates = range(ceil_to(start_ms, QUARTER_MS), end_ms, QUARTER_MS)
        return sorted({b for c in candidates if start_ms < (b := local_bucket_start(c, "hour", zone)) < end_ms})
    step = timedelta(days=7 if grouping == "week" else 1)
    day = local_time(local_bucket_start(start_ms, grouping, zone), zone).date()
    starts: list[int] = []
    while True:
        day += step
        boundary = local_midnight(day, zone)
        if boundary >= end_ms:
            return starts
        starts.append(boundary)
