"""Instants: ISO 8601 parameters, UTC formatting, epoch milliseconds, retention arithmetic."""

from __future__ import annotations

import calendar
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
import time_machine

from request_logs.domain.retention import content_expiry_s, log_expiry_s, oldest_retained_log_ms
from request_logs.domain.timeutil import (
    InvalidInstant,
    UnknownZone,
    format_in_zone,
    format_ms,
    now_ms,
    parse_instant,
    to_ms,
    zone_named,
)

DAY_MS = 86_400_000


def utc_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, ms: int = 0) -> int:
    """Independent of the module: calendar.timegm is exact integer arithmetic."""
    return calendar.timegm((year, month, day, hour, minute, second)) * 1000 + ms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-10T12:00:00Z", utc_ms(2025, 1, 10, 12)),
        ("2025-01-10T12:00:00+00:00", utc_ms(2025, 1, 10, 12)),
        ("2025-01-10T12:00:00-00:00", utc_ms(2025, 1, 10, 12)),
        ("2025-01-10T14:00:00+02:00", utc_ms(2025, 1, 10, 12)),
        ("2025-01-10T06:30:00-05:30", utc_ms(2025, 1, 10, 12)),
        ("2025-01-10T01:00:00+13:00", utc_ms(2025, 1, 9, 12)),
        ("2025-01-10T12:00:00", utc_ms(2025, 1, 10, 12)),  # no offset: UTC
        ("2025-01-10T12:00", utc_ms(2025, 1, 10, 12)),
        ("2025-01-10T12:00:00.250Z", utc_ms(2025, 1, 10, 12, ms=250)),
        ("2025-01-10T12:00:00.999999Z", utc_ms(2025, 1, 10, 12, ms=999)),  # below a millisecond: floor
        ("2025-01-10", utc_ms(2025, 1, 10)),  # a bare date is midnight UTC
        ("2028-02-29", utc_ms(2028, 2, 29)),
        (" 2025-01-10 ", utc_ms(2025, 1, 10)),
        ("2000-01-01", utc_ms(2000, 1, 1)),
        ("9998-12-31", utc_ms(9998, 12, 31)),
    ],
)
def test_parse_instant(text: str, expected: int) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-10", utc_ms(2025, 1, 11)),  # a bare end date includes the whole day
        ("2025-12-31", utc_ms(2026, 1, 1)),
        ("2028-02-28", utc_ms(2028, 2, 29)),
        ("2025-01-10T12:00:00Z", utc_ms(2025, 1, 10, 12) + 1),  # a date-time end includes that instant
        ("2025-01-10T14:00:00+02:00", utc_ms(2025, 1, 10, 12) + 1),
        ("2025-01-10T12:00:00.999Z", utc_ms(2025, 1, 10, 12, ms=999) + 1),
    ],
)
def test_parse_instant_as_an_exclusive_end(text: str, expected: int) -> None:
    assert parse_instant(text, exclusive_end=True) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2025-13-01",
        "2025-02-30",
        "2026-02-29",
        "2025-1-10",
        "2025/01/10",
        "10-01-2025",
        "2025-01-10T25:00",
        "2025-01-10T12:60",
        "2025-01-10T12:00:00+25:00",
        "2025-01-10T12:00:00Zjunk",
        "1999-12-31",
        "1999-12-31T23:59:59Z",
        "9999-01-01",
        "0001-01-01T00:00:00Z",
        "1736510400",
        "2025-01-10 12:00:00",  # ISO 8601 needs the T
        "２０２５-01-10",  # full-width digits match \d but are not ISO 8601
        "٢٠٢٥-01-10T12:00:00Z",
    ],
)
def test_parse_instant_rejects(text: str) -> None:
    with pytest.raises(InvalidInstant):
        parse_instant(text)
    with pytest.raises(InvalidInstant):
        parse_instant(text, exclusive_end=True)


@pytest.mark.parametrize(
    ("epoch_ms", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (utc_ms(2025, 1, 10, 12), "2025-01-10T12:00:00Z"),
        (utc_ms(2025, 1, 10, 12, ms=7), "2025-01-10T12:00:00.007Z"),
        (utc_ms(2025, 1, 10, 12, ms=120), "2025-01-10T12:00:00.120Z"),
        (utc_ms(2028, 2, 29, 23, 59, 59, 999), "2028-02-29T23:59:59.999Z"),
    ],
)
def test_format_ms(epoch_ms: int, text: str) -> None:
    assert format_ms(epoch_ms) == text


def test_format_then_parse_round_trips() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        epoch_ms = rng.randrange(utc_ms(2000, 1, 1), utc_ms(2100, 1, 1))
        assert parse_instant(format_ms(epoch_ms)) == epoch_ms
        assert format_ms(epoch_ms).endswith("Z")


def test_to_ms_is_exact_integer_arithmetic() -> None:
    rng = random.Random(4)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for _ in range(2000):
        moment = epoch + timedelta(microseconds=rng.randrange(0, 200 * 365 * DAY_MS * 1000))
        expected = (moment.replace(tzinfo=None) - epoch.replace(tzinfo=None)) // timedelta(milliseconds=1)
        assert to_ms(moment) == expected
        assert to_ms(moment.replace(tzinfo=None)) == expected  # naive means UTC
        assert to_ms(moment.astimezone(timezone(timedelta(hours=-7)))) == expected


def test_retention_arithmetic() -> None:
    created = utc_ms(2026, 11, 20, 12, 0, 0, 345)
    assert log_expiry_s(created) == (created + 90 * DAY_MS) // 1000
    assert content_expiry_s(created) == (created + 30 * DAY_MS) // 1000
    assert oldest_retained_log_ms(created) == created - 90 * DAY_MS


def test_now_ms_follows_the_clock() -> None:
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, 0, 123000, tzinfo=UTC), tick=False):
        assert now_ms() == utc_ms(2026, 11, 20, 12, ms=123)


# ---------------------------------------------------------------- time zones (tz)


@pytest.mark.parametrize(
    ("text", "zone", "exclusive_end", "expected"),
    [
        ("2026-11-01", "America/New_York", False, "2026-11-01T04:00:00Z"),
        ("2026-11-01", "America/New_York", True, "2026-11-02T05:00:00Z"),  # a 25-hour day, whole
        ("2026-03-08", "America/New_York", True, "2026-03-09T04:00:00Z"),
        ("2026-11-10", "Asia/Kathmandu", False, "2026-11-09T18:15:00Z"),
        ("2026-11-10T12:00:00", "Asia/Kolkata", False, "2026-11-10T06:30:00Z"),  # no offset: local
        ("2026-11-10T12:00:00Z", "Asia/Kolkata", False, "2026-11-10T12:00:00Z"),  # an offset wins
        ("2026-11-10T12:00:00+01:00", "Asia/Kolkata", True, "2026-11-10T11:00:00.001Z"),
        ("2026-09-06", "America/Santiago", False, "2026-09-06T04:00:00Z"),  # no midnight: the day starts at 01:00
        ("2026-11-01T01:30:00", "America/New_York", False, "2026-11-01T05:30:00Z"),  # twice: the first
    ],
)
def test_parse_instant_in_a_zone(text: str, zone: str, exclusive_end: bool, expected: str) -> None:
    assert format_ms(parse_instant(text, exclusive_end=exclusive_end, zone=zone_named(zone))) == expected


@pytest.mark.parametrize("name", ["", "utc", "Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "+05:30"])
def test_unknown_zones_are_refused(name: str) -> None:
    with pytest.raises(UnknownZone):
        zone_named(name)


@pytest.mark.parametrize(
    ("epoch", "zone", "text"),
    [
        ("2026-11-01T05:30:00Z", "America/New_York", "2026-11-01T01:30:00-04:00"),
        ("2026-11-01T06:30:00Z", "America/New_York", "2026-11-01T01:30:00-05:00"),
        ("2026-11-09T18:15:00.250Z", "Asia/Kathmandu", "2026-11-10T00:00:00.250+05:45"),
        ("2026-11-09T18:15:00Z", "UTC", "2026-11-09T18:15:00Z"),
    ],
)
def test_format_in_zone(epoch: str, zone: str, text: str) -> None:
    assert format_in_zone(parse_instant(epoch), zone_named(zone)) == text
