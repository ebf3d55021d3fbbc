"""The stats plan: which pieces of a range come from day rollups, hour rollups and raw edge logs."""

from __future__ import annotations

import calendar
import itertools
import random
from datetime import date, timedelta, tzinfo

import pytest

from request_logs.domain.stats_plan import (
    MAX_HOURLY_BUCKETS,
    Piece,
    StatsPlan,
    hourly_buckets,
    iso_week,
    local_bucket_start,
    local_bucket_starts,
    plan_stats,
    raw_logs_retained,
)
from request_logs.domain.timeutil import local_midnight, zone_named

HOUR = 3_600_000
DAY = 24 * HOUR
MINUTE = 60_000


def utc_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, ms: int = 0) -> int:
    """Independent of the module under test: calendar.timegm is exact integer arithmetic."""
    return calendar.timegm((year, month, day, hour, minute, second)) * 1000 + ms


NOW = utc_ms(2026, 11, 20, 12)
D = utc_ms(2026, 11, 10)  # a midnight well within log retention


def plan(start: int, end: int, *, now: int = NOW, hourly: bool = False) -> StatsPlan:
    return plan_stats(start, end, now_ms=now, hourly=hourly)


def test_whole_days_are_one_day_piece() -> None:
    assert plan(D, D + 3 * DAY).pieces == (Piece("day", D, D + 3 * DAY),)


def test_unaligned_range_reads_raw_edges_hours_and_days() -> None:
    start = D + 22 * HOUR + 15 * MINUTE  # 22:15 on the 10th
    end = D + 3 * DAY + 2 * HOUR + 30 * MINUTE  # 02:30 on the 13th
    result = plan(start, end)
    assert result.pieces == (
        Piece("raw", start, D + 23 * HOUR),
        Piece("hour", D + 23 * HOUR, D + DAY),
        Piece("day", D + DAY, D + 3 * DAY),
        Piece("hour", D + 3 * DAY, D + 3 * DAY + 2 * HOUR),
        Piece("raw", D + 3 * DAY + 2 * HOUR, end),
    )
    assert (result.start_ms, result.end_ms, result.rounded) == (start, end, False)


def test_hourly_plans_never_read_days() -> None:
    start, end = D + 22 * HOUR + 1, D + 3 * DAY + 2 * HOUR + 30 * MINUTE
    assert plan(start, end, hourly=True).pieces == (
        Piece("raw", start, D + 23 * HOUR),
        Piece("hour", D + 23 * HOUR, D + 3 * DAY + 2 * HOUR),
        Piece("raw", D + 3 * DAY + 2 * HOUR, end),
    )


def test_hours_within_a_day_read_hour_rollups_only() -> None:
    start, end = D + 3 * HOUR, D + 20 * HOUR
    assert plan(start, end).pieces == (Piece("hour", start, end),)


@pytest.mark.parametrize(
    ("start", "end", "pieces"),
    [
        # Inside one hour: a single raw piece, never the same logs twice.
        (D + 10 * MINUTE, D + 50 * MINUTE, (Piece("raw", D + 10 * MINUTE, D + 50 * MINUTE),)),
        # From an hour's start to inside it.
        (D, D + 50 * MINUTE, (Piece("raw", D, D + 50 * MINUTE),)),
        # From inside an hour to its end.
        (D + 10 * MINUTE, D + HOUR, (Piece("raw", D + 10 * MINUTE, D + HOUR),)),
        # One millisecond.
        (D + 5, D + 6, (Piece("raw", D + 5, D + 6),)),
        # Across one hour boundary, no whole hour.
        (
            D + 50 * MINUTE,
            D + 70 * MINUTE,
            (Piece("raw", D + 50 * MINUTE, D + HOUR), Piece("raw", D + HOUR, D + 70 * MINUTE)),
        ),
    ],
)
def test_short_ranges(start: int, end: int, pieces: tuple[Piece, ...]) -> None:
    assert plan(start, end).pieces == pieces
    assert plan(start, end, hourly=True).pieces == pieces


def test_empty_range_has_no_pieces() -> None:
    assert plan(D, D).pieces == ()


def test_expired_start_edge_widens_to_its_hour_and_says_so() -> None:
    old = NOW - 100 * DAY  # past the 90-day log retention
    start = old + 20 * MINUTE  # NOW is on the hour, so is ``old``
    end = D + 30 * MINUTE
    result = plan(start, end)
    assert (result.start_ms, result.start_rounded, result.end_rounded, result.end_ms) == (old, True, False, end)
    assert result.pieces[0].source == "hour"
    assert result.pieces[0].start_ms == old
    assert result.pieces[-1] == Piece("raw", D, end)


def test_expired_edges_both_widen() -> None:
    old = NOW - 100 * DAY
    result = plan(old + 20 * MINUTE, old + 5 * DAY + 40 * MINUTE)
    assert (result.start_ms, result.end_ms) == (old, old + 5 * DAY + HOUR)
    assert result.start_rounded and result.end_rounded
    assert all(piece.source != "raw" for piece in result.pieces)


def test_expired_range_inside_one_hour_becomes_that_hour() -> None:
    old = NOW - 100 * DAY
    result = plan(old + 10 * MINUTE, old + 50 * MINUTE)
    assert result.pieces == (Piece("hour", old, old + HOUR),)
    assert result.start_rounded and result.end_rounded


def test_retention_cutoff_before_the_edge_keeps_it_exact() -> None:
    """The cutoff falls in the edge's hour but before the range starts: every log there is retained."""
    now = NOW + 20 * MINUTE
    cutoff = now - 90 * DAY
    start, end = cutoff + 5 * MINUTE, cutoff + 30 * MINUTE
    result = plan(start, end, now=now)
    assert result.pieces == (Piece("raw", start, end),)
    assert not result.rounded


def test_retention_boundary_follows_the_ttl_filter_to_the_second() -> None:
    cutoff = NOW - 90 * DAY
    assert not raw_logs_retained(cutoff, NOW)  # expires_at == now: the store's filter drops it
    assert not raw_logs_retained(cutoff + 999, NOW)
    assert raw_logs_retained(cutoff + 1000, NOW)


def test_random_ranges_are_covered_exactly_by_well_formed_pieces() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        now = NOW + rng.randrange(0, 3 * DAY)
        start = now - rng.randrange(0, 120 * DAY)
        span = rng.choice([rng.randrange(1, 2 * HOUR), rng.randrange(1, 3 * DAY), rng.randrange(1, 60 * DAY)])
        end = start + span
        if rng.random() < 0.2:
            start -= start % HOUR
        if rng.random() < 0.2:
            end -= end % DAY
        if end <= start:
            continue
        hourly = rng.random() < 0.5
        result = plan(start, end, now=now, hourly=hourly)
        _check(result, start, end, now=now, hourly=hourly)


def _check(result: StatsPlan, start: int, end: int, *, now: int, hourly: bool) -> None:
    assert result.start_ms == (start - start % HOUR if result.start_rounded else start)
    assert result.end_ms == (end + (-end) % HOUR if result.end_rounded else end)
    pieces = result.pieces
    assert pieces[0].start_ms == result.start_ms
    assert pieces[-1].end_ms == result.end_ms
    for before, after in itertools.pairwise(pieces):
        assert before.end_ms == after.start_ms
    raw = [piece for piece in pieces if piece.source == "raw"]
    assert len(raw) <= 2
    for piece in pieces:
        assert piece.start_ms < piece.end_ms
        if piece.source == "raw":
            assert piece.start_ms // HOUR == (piece.end_ms - 1) // HOUR, "a raw piece lies within one hour"
            assert raw_logs_retained(piece.start_ms, now), "raw logs are read only while retained"
        elif piece.source == "hour":
            assert piece.start_ms % HOUR == 0
            assert piece.end_ms % HOUR == 0
            if not hourly:
                first_midnight = piece.start_ms + (-piece.start_ms) % DAY
                assert first_midnight + DAY > piece.end_ms, "whole days come from day rollups"
        else:
            assert not hourly
            assert piece.start_ms % DAY == 0
            assert piece.end_ms % DAY == 0
    # Raw logs only at the edges: the middle is rollups.
    assert all(piece.source != "raw" for piece in pieces[1:-1])


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D, D + HOUR, 1),
        (D + 1, D + HOUR, 1),
        (D + 1, D + HOUR + 1, 2),
        (D, D + 31 * DAY, MAX_HOURLY_BUCKETS),
        (D + 30 * MINUTE, D + 31 * DAY + 30 * MINUTE, MAX_HOURLY_BUCKETS + 1),
    ],
)
def test_hourly_buckets_counts_partial_hours(start: int, end: int, expected: int) -> None:
    assert hourly_buckets(start, end) == expected


def test_the_hourly_limit_is_a_31_day_month() -> None:
    assert MAX_HOURLY_BUCKETS == 31 * 24


@pytest.mark.parametrize(
    ("instant", "label", "monday"),
    [
        (utc_ms(2025, 1, 10, 12), "2025-W02", utc_ms(2025, 1, 6)),
        (utc_ms(2025, 1, 6), "2025-W02", utc_ms(2025, 1, 6)),
        (utc_ms(2025, 1, 5, 23, 59, 59, 999), "2025-W01", utc_ms(2024, 12, 30)),
        (utc_ms(2024, 12, 30, 8), "2025-W01", utc_ms(2024, 12, 30)),  # ISO year ahead of the calendar
        (utc_ms(2027, 1, 1, 8), "2026-W53", utc_ms(2026, 12, 28)),  # ISO year behind, a 53-week year
        (utc_ms(2026, 11, 20, 12), "2026-W47", utc_ms(2026, 11, 16)),
    ],
)
def test_iso_weeks(instant: int, label: str, monday: int) -> None:
    week = iso_week(instant)
    assert (week.label, week.start_ms) == (label, monday)


def test_far_future_ends_stop_at_the_last_plannable_midnight() -> None:
    """Keys hold 13-digit milliseconds: the plan never asks DynamoDB for a range past them."""
    far = utc_ms(9000, 1, 1)
    result = plan(D, far)
    assert result.end_ms == utc_ms(2286, 11, 20)
    assert result.pieces == (Piece("day", D, utc_ms(2286, 11, 20)),)
    assert plan(far, far + DAY).pieces == ()


# ---------------------------------------------------------------- local buckets (tz)

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Chatham",
]


def _zone(name: str) -> tzinfo:
    return zone_named(name)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/New_York", (2026, 11, 1), 25),
        ("America/New_York", (2026, 3, 8), 23),
        ("Europe/London", (2026, 10, 25), 25),
        ("Europe/London", (2026, 3, 29), 23),
        ("Australia/Lord_Howe", (2026, 10, 4), 23.5),
        ("Australia/Lord_Howe", (2026, 4, 5), 24.5),
        ("Asia/Kathmandu", (2026, 11, 10), 24),
    ],
)
def test_a_local_day_lasts_what_its_clocks_say(zone: str, day: tuple[int, int, int], hours: float) -> None:
    tz = _zone(zone)
    start = local_midnight(date(*day), tz)
    end = local_midnight(date(*day) + timedelta(days=1), tz)
    assert (end - start) / HOUR == hours
    assert local_bucket_starts(start - DAY, end + DAY, "day", tz) == [start, end]
    assert local_bucket_start(end - 1, "day", tz) == start


def test_iso_weeks_across_a_year_end_in_a_zone() -> None:
    tz = _zone("America/Chicago")
    # 2026-01-01 04:00Z is still 2025-12-31 in Chicago: week 1 of 2026 (it holds the year's first Thursday).
    assert iso_week(utc_ms(2026, 1, 1, 4), tz).label == "2026-W01"
    assert iso_week(utc_ms(2025, 12, 29, 3), tz).label == "2025-W52"  # Sunday the 28th, 21:00 local
    assert iso_week(utc_ms(2027, 1, 1, 12), tz).label == "2026-W53"
    assert iso_week(utc_ms(2026, 1, 1, 4), tz).start_ms == utc_ms(2025, 12, 29, 6)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("grouping", ["hour", "day", "week"])
def test_no_piece_straddles_a_local_bucket(zone: str, grouping: str) -> None:
    """Random ranges around daylight-saving changes: pieces cover the range without gap or overlap, a raw
    piece lies in one hour and one local bucket, and so does every rollup item of an hour or day piece."""
    tz = _zone(zone)
    rng = random.Random(f"{zone}{grouping}")
    for _ in range(25):
        start = utc_ms(2026, 9, 25) + rng.randrange(50 * DAY)
        end = start + rng.randrange(1, (3 if grouping == "hour" else 20) * DAY)
        cuts = local_bucket_starts(start, end, grouping, tz)
        result = plan_stats(start, end, now_ms=NOW, hourly=grouping == "hour", cuts=cuts)
        assert not result.rounded
        covered = result.start_ms
        for piece in result.pieces:
            assert piece.start_ms == covered < piece.end_ms
            covered = piece.end_ms
            size = {"raw": piece.end_ms - piece.start_ms, "quarter": HOUR // 4, "hour": HOUR, "day": DAY}[piece.source]
            if piece.source == "quarter":  # whole hours, each with a cut inside on a quarter hour
                assert piece.start_ms % HOUR == piece.end_ms % HOUR == 0
            for item in range(piece.start_ms, piece.end_ms, size):
                first, last = item, item + size - 1
                assert local_bucket_start(first, grouping, tz) == local_bucket_start(last, grouping, tz), piece
        assert covered == result.end_ms == end


def test_utc_cuts_change_no_plan() -> None:
    utc = _zone("UTC")
    for grouping in ("hour", "day", "week"):
        start, end = D - 5 * DAY + 17 * MINUTE, D + 9 * DAY + 3 * HOUR + 5 * MINUTE
        hourly = grouping == "hour"
        cuts = local_bucket_starts(start, end, grouping, utc)
        assert plan_stats(start, end, now_ms=NOW, hourly=hourly, cuts=cuts) == plan(start, end, hourly=hourly)


def test_an_hour_a_local_bucket_starts_inside_is_read_as_quarter_hours_at_any_age() -> None:
    """Kathmandu (+05:45), 120 days ago: every local midnight is 18:15Z, past log retention; the hour is
    read as its four quarter-hour items, and the answer stays exact (nothing rounded, nothing raw)."""
    kathmandu = _zone("Asia/Kathmandu")
    old = NOW - 120 * DAY
    start, end = old - old % DAY - 6 * HOUR, old - old % DAY + 3 * DAY
    cuts = local_bucket_starts(start, end, "day", kathmandu)
    assert cuts and all(cut % HOUR for cut in cuts)
    result = plan_stats(start, end, now_ms=NOW, hourly=False, cuts=cuts)
    assert not result.rounded
    assert [piece for piece in result.pieces if piece.source == "quarter"] == [
        Piece("quarter", cut - cut % HOUR, cut - cut % HOUR + HOUR) for cut in cuts
    ]
    assert all(piece.source != "raw" for piece in result.pieces)


def test_a_cut_off_the_quarter_hours_is_read_raw_or_moved_past_retention() -> None:
    """No zone has had such an offset since the 1970s; the plan still never splits an item."""
    odd = [D + 5 * HOUR + 7 * MINUTE]
    recent = plan_stats(D, D + DAY, now_ms=NOW, hourly=False, cuts=odd)
    assert Piece("raw", D + 5 * HOUR, odd[0]) in recent.pieces and Piece("raw", odd[0], D + 6 * HOUR) in recent.pieces
    old = [NOW - 120 * DAY - (NOW - 120 * DAY) % HOUR + 7 * MINUTE]
    start = old[0] - old[0] % DAY
    moved = plan_stats(start, start + DAY, now_ms=NOW, hourly=False, cuts=old)
    assert moved.cuts_rounded and moved.rounded
    hour_end = old[0] - old[0] % HOUR + HOUR
    for piece in moved.pieces:
        size = {"hour": HOUR, "day": DAY}[piece.source]
        assert not any(item < hour_end < item + size for item in range(piece.start_ms, piece.end_ms, size))
