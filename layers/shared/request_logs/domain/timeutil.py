"""The one place for instants: parsing ISO 8601 parameters, formatting, epoch milliseconds, time zones.

Contract (docs/architecture.md, "Dates"): a date without time means midnight in the request's zone (``tz``,
UTC by default); an ``end_date`` given as a bare date includes that whole local day; a time without offset
is local to the zone; logs' instants are returned in UTC with ``Z``, a stats range in its zone with the offset.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta, tzinfo

_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Years before 2000 or after 9998 are accepted by datetime but are never a useful log range and would
# overflow the fixed-width sort keys; they are rejected like any other malformed date.
_MIN_YEAR, _MAX_YEAR = 2000, 9998
# Exclusive upper bound used when a range has no end (sort keys are 13-digit epoch milliseconds).
END_OF_TIME_MS = 9_999_999_999_999


class InvalidInstant(ValueError):
    """A date parameter that is not an ISO 8601 date or date-time."""


class UnknownZone(ValueError):
    """A ``tz`` that is not an IANA time zone name."""


def zone_named(name: str) -> tzinfo:
    """The IANA time zone ``name`` (``America/Chicago``; ``UTC`` is UTC itself)."""
    if name == "UTC":
        return UTC
    # Imported here: most requests are in UTC, and every cold start loads this module.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # ValueError: a path-like or malformed key
        raise UnknownZone(name) from exc


def zone_name(zone: tzinfo) -> str:
    return "UTC" if zone is UTC else str(zone)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds, in integer arithmetic (float timestamps round some instants the wrong way)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _ONE_MS


def from_ms(epoch_ms: int) -> datetime:
    return local_time(epoch_ms, UTC)


def format_ms(epoch_ms: int) -> str:
    """UTC with ``Z``; milliseconds only when the instant has them (``2025-01-10T12:00:00Z``)."""
    seconds, millis = divmod(epoch_ms, 1000)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


def local_time(epoch_ms: int, zone: tzinfo) -> datetime:
    """The wall-clock time of an instant in ``zone`` (its ``fold`` tells a repeated hour's two passes apart)."""
    return (_EPOCH + timedelta(milliseconds=epoch_ms)).astimezone(zone)


def format_in_zone(epoch_ms: int, zone: tzinfo) -> str:
    """``format_ms`` in UTC; elsewhere the local time with its offset (``2025-11-02T00:00:00-04:00``)."""
    if zone is UTC:
        return format_ms(epoch_ms)
    moment = local_time(epoch_ms, zone)
    return moment.isoformat(timespec="milliseconds" if epoch_ms % 1000 else "seconds")


def local_midnight(day: date, zone: tzinfo) -> int:
    """The first instant of ``day`` in ``zone``. Where a daylight-saving change skips midnight, the day
    starts when its clock does (the wall time is read with the offset before the change, which lands
    after the gap)."""
    return to_ms(datetime(day.year, day.month, day.day, tzinfo=zone))


def parse_instant(value: str, *, exclusive_end: bool = False, zone: tzinfo = UTC) -> int:
    """Epoch milliseconds of an ISO 8601 date or date-time; a bare date or a time without offset is read
    in ``zone``.

    With ``exclusive_end`` the result is the exclusive end of a range that *includes* the value: a bare
    date resolves to the next local midnight (``end_date=2025-01-10`` covers the whole 10th, 23 or 25 hours
    on a daylight-saving day) and a date-time to one millisecond after it.
    """
    text = value.strip()
    if _BARE_DATE.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise InvalidInstant(str(exc)) from exc
        _check_year(day.year)
        return local_midnight(day + timedelta(days=1) if exclusive_end else day, zone)
    if "T" not in text.upper():
        raise InvalidInstant("expected an ISO 8601 date (2025-01-10) or date-time (2025-01-10T12:00:00Z)")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInstant(str(exc)) from exc
    _check_year(moment.year)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return to_ms(moment) + (1 if exclusive_end else 0)


def _check_year(year: int) -> None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise InvalidInstant(f"year {year} is outside {_MIN_YEAR}..{_MAX_YEAR}")
