"""Stats, list and enhanced in the caller's time zone (``tz``), against brute force with ``zoneinfo``.

The data puts logs around the instants where local time misbehaves: New York's and London's autumn
changes (a 25-hour day, a repeated hour), Lord Howe's half-hour spring change, and, past log retention
(rollups only), New York's spring change (a 23-hour day), Lord Howe's autumn one and the ISO weeks around
the 2025/2026 year end; every day in between has logs too, so zones offset by :30 and :45 (Kolkata,
Kathmandu) cut hours everywhere. Every answer is compared with the messages grouped by their local hour,
day or ISO week, computed from the IANA rules by ``zoneinfo`` alone.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from request_logs.domain.reads import ReadStats
from request_logs.domain.stats_plan import plan_stats
from request_logs.logic.stats import get_request_log_stats
from request_logs.store import keys
from request_logs.store.dynamo import dynamodb
from tests.conftest import ACCOUNT_A, DAY_MS, NOW_MS, sample_messages
from tests.integration import oracle
from tests.integration.oracle import created_ms, ms_of
from tests.integration.shared_stack import SharedStack, aggregated_stack
from tests.integration.stats_oracle import assert_measures

STATS = "/api/account/request-logs/stats"
LIST = "/api/account/request-logs"
ENHANCED = "/api/account/request-logs/enhanced"
HOUR_MS = 3_600_000

# Windows (UTC) that hold a dense cluster of logs each: the daylight-saving changes and the year end.
CLUSTERS = [
    (datetime(2026, 11, 1, 0, tzinfo=UTC), datetime(2026, 11, 2, 12, tzinfo=UTC)),  # New York, autumn
    (datetime(2026, 10, 24, 20, tzinfo=UTC), datetime(2026, 10, 26, 4, tzinfo=UTC)),  # London, autumn
    (datetime(2026, 10, 3, 10, tzinfo=UTC), datetime(2026, 10, 4, 20, tzinfo=UTC)),  # Lord Howe, spring
    (datetime(2026, 3, 7, 20, tzinfo=UTC), datetime(2026, 3, 9, 12, tzinfo=UTC)),  # New York, spring (old)
    (datetime(2026, 4, 4, 10, tzinfo=UTC), datetime(2026, 4, 5, 20, tzinfo=UTC)),  # Lord Howe, autumn (old)
    (datetime(2025, 12, 26, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC)),  # the year end (old)
]


def _dataset() -> list[dict[str, Any]]:
    base = sample_messages(ACCOUNT_A, count=500, days=40, seed=91, error_rate=0.1)
    rng = random.Random(92)
    extra = []
    for position, (start, end) in enumerate(CLUSTERS):
        span = ms_of(end) - ms_of(start)
        for n in range(150):
            instant = ms_of(start) + rng.randrange(span)
            extra.append(oracle.variant(rng.choice(base), f"req_tz_{position}_{n}", instant))
    return base + extra


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[SharedStack, list[dict[str, Any]]]]:
    messages = _dataset()
    with aggregated_stack(messages) as shared:
        yield shared, messages


# ---------------------------------------------------------------- brute force with zoneinfo


def _local(message: dict[str, Any], zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(created_ms(message) / 1000, UTC).astimezone(zone)


def _key(message: dict[str, Any], group: str, zone: ZoneInfo) -> str:
    local = _local(message, zone)
    if group == "day":
        return local.date().isoformat()
    if group == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    # The wall time keeps the message's fold: a repeated hour's second pass has its own offset; an hour a
    # change shortens starts at the change (PEP 495: a time in the gap is read with the earlier offset).
    start = datetime.fromtimestamp(ms_of(local.replace(minute=0, second=0, microsecond=0)) / 1000, UTC)
    return start.strftime("%Y-%m-%dT%H:00:00Z") if zone.key == "UTC" else start.astimezone(zone).isoformat()


def _local_midnight(day: date, zone: ZoneInfo) -> int:
    return ms_of(datetime(day.year, day.month, day.day, tzinfo=zone))


def _selected(messages: list[dict[str, Any]], start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    return [m for m in messages if m["account_id"] == ACCOUNT_A and start_ms <= created_ms(m) < end_ms]


def _assert_grouped(body: dict[str, Any], selected: list[dict[str, Any]], group: str, zone: ZoneInfo) -> None:
    field = {"hour": "hour", "day": "date", "week": "week"}[group]
    expected: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in selected:
        expected[_key(message, group, zone)].append(message)
    entries = body[f"by_{group}"]
    got = [entry[field] for entry in entries]
    assert sorted(got) == sorted(expected), (group, sorted(set(got) ^ set(expected)))
    for entry in entries:
        assert_measures(entry, expected[entry[field]], what=f"by_{group} {entry[field]} in {zone}")
    assert body["stats"]["total_requests"] == len(selected)


def _stats(shared: SharedStack, params: dict[str, str]) -> dict[str, Any]:
    response = shared.api.get(STATS, params)
    assert response.status == 200, response.body
    return response.body


# ---------------------------------------------------------------- local days, weeks and hours


@pytest.mark.parametrize(
    ("tz", "start_date", "end_date", "group_by"),
    [
        ("America/New_York", "2026-10-30", "2026-11-03", "day"),  # 2026-11-01 has 25 hours
        ("America/New_York", "2026-11-01", "2026-11-01", "hour"),  # 01:00 twice, -04:00 then -05:00
        ("Europe/London", "2026-10-24", "2026-10-26", "day,hour"),  # BST ends on the 25th
        ("Australia/Lord_Howe", "2026-10-03", "2026-10-05", "day,hour"),  # 02:00 → 02:30 on the 4th
        ("Asia/Kathmandu", "2026-11-05", "2026-11-12", "day"),  # +05:45: every day starts at 18:15Z
        ("Asia/Kolkata", "2026-11-10", "2026-11-11", "hour,day"),  # +05:30: every hour starts at :30Z
        ("America/Chicago", "2026-10-12", "2026-11-15", "week,day"),
        ("America/New_York", "2026-03-07", "2026-03-09", "day,hour"),  # 23 hours, past log retention
        ("America/Chicago", "2025-12-22", "2026-01-11", "week,day"),  # 2025-W52, 2026-W01 and W02
        ("UTC", "2026-10-30", "2026-11-03", "day,hour"),
    ],
)
def test_local_buckets_equal_brute_force(world, tz: str, start_date: str, end_date: str, group_by: str) -> None:
    shared, messages = world
    zone = ZoneInfo(tz)
    body = _stats(shared, {"tz": tz, "start_date": start_date, "end_date": end_date, "group_by": group_by})
    start_ms = _local_midnight(date.fromisoformat(start_date), zone)
    end_ms = _local_midnight(date.fromisoformat(end_date) + timedelta(days=1), zone)
    selected = _selected(messages, start_ms, end_ms)
    assert len(selected) > 20, "every case has logs to put in buckets"
    for group in group_by.split(","):
        _assert_grouped(body, selected, group, zone)
    answered = body["range"]
    assert answered["tz"] == tz
    assert oracle.instant_ms(answered["start"]) == start_ms and oracle.instant_ms(answered["end"]) == end_ms
    assert answered["rounded"] is False


def test_a_daylight_saving_day_holds_its_local_hours(world) -> None:
    """New York, 2026-11-01: 25 hours, the 01:00 hour twice; its day total is its hours' sum and the list's
    total for that local date."""
    shared, _ = world
    params = {"tz": "America/New_York", "start_date": "2026-11-01", "end_date": "2026-11-01"}
    body = _stats(shared, {**params, "group_by": "day,hour"})
    hours = [entry["hour"] for entry in body["by_hour"]]
    assert "2026-11-01T01:00:00-04:00" in hours and "2026-11-01T01:00:00-05:00" in hours
    assert all(hour.startswith("2026-11-01T") for hour in hours)
    (day,) = body["by_day"]
    assert day["date"] == "2026-11-01"
    assert day["requests"] == sum(entry["requests"] for entry in body["by_hour"])
    assert body["range"] == {
        "start": "2026-11-01T00:00:00-04:00",
        "end": "2026-11-02T00:00:00-05:00",
        "tz": "America/New_York",
        "rounded": False,
    }
    listed = shared.api.get(LIST, {**params, "limit": 1})
    assert listed.status == 200
    assert listed.body["pagination"]["total"] == day["requests"]


def test_a_local_day_reads_hour_items_not_logs(world) -> None:
    """In New York every local day starts on a UTC hour: the time buckets come from one "all" item per hour
    with logs, by_model from the uncut plan's "all" items (their embedded per-model sketches), and no log is
    read."""
    _, messages = world
    zone = ZoneInfo("America/New_York")
    start_ms = _local_midnight(date(2026, 10, 25), zone)
    end_ms = _local_midnight(date(2026, 11, 8), zone)
    reads = ReadStats()
    get_request_log_stats(ACCOUNT_A, start_ms, end_ms, ("day",), now_ms=NOW_MS, zone=zone, reads=reads)
    logs = [(created_ms(m), m["model"]) for m in _selected(messages, start_ms, end_ms)]
    hours_with_logs = {t - t % HOUR_MS for t, _ in logs}
    by_model = 0
    for piece in plan_stats(start_ms, end_ms, now_ms=NOW_MS, hourly=False).pieces:
        size = {"hour": HOUR_MS, "day": DAY_MS}[piece.source]
        by_model += len({t - t % size for t, _ in logs if piece.start_ms <= t < piece.end_ms})
    assert reads.items_read == len(hours_with_logs) + by_model
    assert reads.items_read < len(logs)


def test_a_half_hour_boundary_past_log_retention_is_exact_from_quarter_hours(world) -> None:
    """Lord Howe, 2026-04-05 and 06, past log retention: the 6th starts at 13:30Z, inside an hour whose logs
    are gone; its quarter-hour items put each half in its day. Only the range's end, an expired edge inside
    an hour, is widened to its hour like any other, and the note says so."""
    shared, messages = world
    zone = ZoneInfo("Australia/Lord_Howe")
    body = _stats(
        shared, {"tz": "Australia/Lord_Howe", "start_date": "2026-04-05", "end_date": "2026-04-06", "group_by": "day"}
    )
    answered = body["range"]
    assert answered["rounded"] is True and "end of this range" in answered["note"]
    assert "counted whole" not in answered["note"]
    start_ms, end_ms = oracle.instant_ms(answered["start"]), oracle.instant_ms(answered["end"])
    assert start_ms == ms_of(datetime(2026, 4, 4, 13, tzinfo=UTC))  # midnight at +11:00, on the hour
    assert end_ms == ms_of(datetime(2026, 4, 6, 14, tzinfo=UTC))  # midnight at +10:30, widened
    sixth = _local_midnight(date(2026, 4, 6), zone)
    assert sixth == ms_of(datetime(2026, 4, 5, 13, 30, tzinfo=UTC))
    assert any(sixth - HOUR_MS // 2 <= created_ms(m) < sixth + HOUR_MS // 2 for m in messages), "both halves hold logs"
    assert [entry["date"] for entry in body["by_day"]] == ["2026-04-05", "2026-04-06"]
    assert_measures(body["by_day"][0], _selected(messages, start_ms, sixth), what="the 5th")
    assert_measures(body["by_day"][1], _selected(messages, sixth, end_ms), what="the 6th")


def test_kathmandu_days_read_quarter_hours_not_logs(world) -> None:
    """+05:45: every local day starts at 18:15Z. Its boundary hour costs its four quarter items and its hour
    item (which proves them complete), not its logs."""
    _, messages = world
    zone = ZoneInfo("Asia/Kathmandu")
    start_ms = _local_midnight(date(2026, 10, 25), zone)
    end_ms = _local_midnight(date(2026, 11, 8), zone)
    reads = ReadStats()
    body = get_request_log_stats(ACCOUNT_A, start_ms, end_ms, ("day",), now_ms=NOW_MS, zone=zone, reads=reads)
    selected = _selected(messages, start_ms, end_ms)
    assert body.stats.total_requests == len(selected)
    boundaries = 13  # the local midnights strictly inside the range
    logs = [(created_ms(m), m["model"]) for m in selected]
    boundary_hours = {cut - cut % HOUR_MS for cut in range(start_ms + DAY_MS, end_ms, DAY_MS)}
    assert len(boundary_hours) == boundaries
    other_hours = {t - t % HOUR_MS for t, _ in logs} - boundary_hours
    edge_logs = [t for t, _ in logs if t < ceil_hour(start_ms) or t >= end_ms - end_ms % HOUR_MS]
    by_model = 0
    for piece in plan_stats(start_ms, end_ms, now_ms=NOW_MS, hourly=False).pieces:
        if piece.source == "raw":
            continue  # the range's own edges: read once, by both plans
        size = {"hour": HOUR_MS, "day": DAY_MS}[piece.source]
        by_model += len({t - t % size for t, _ in logs if piece.start_ms <= t < piece.end_ms})
    assert reads.items_read == len(other_hours) + 5 * boundaries + by_model + len(edge_logs)


def ceil_hour(epoch_ms: int) -> int:
    return -(-epoch_ms // HOUR_MS) * HOUR_MS


def test_hours_aggregated_before_quarter_items_are_read_raw_or_counted_whole(world) -> None:
    """Items written before quarter hours existed: a boundary hour whose quarters do not add up to its hour
    item is read from its logs while they are kept (exact), and past that counted whole in the day it
    starts in, which the note says."""
    shared, messages = world
    table = shared.stack.name("StatsTable")
    recent = ms_of(datetime(2026, 11, 9, 18, tzinfo=UTC))  # Kathmandu's 2026-11-10 starts at 18:15Z
    old = ms_of(datetime(2026, 4, 5, 13, tzinfo=UTC))  # Lord Howe's 2026-04-06 starts at 13:30Z
    removed = []
    for hour in (recent, old):
        for quarter in range(hour, hour + HOUR_MS, HOUR_MS // 4):
            key = {"pk": {"S": keys.stats_pk(ACCOUNT_A, "quarter", "all")}, "sk": {"S": keys.stats_sk(quarter, "")}}
            item = dynamodb().get_item(TableName=table, Key=key).get("Item")
            if item is not None:
                removed.append(item)
                dynamodb().delete_item(TableName=table, Key=key)
    assert len(removed) >= 4, "both hours hold logs"
    try:
        exact = _stats(
            shared, {"tz": "Asia/Kathmandu", "start_date": "2026-11-09", "end_date": "2026-11-10", "group_by": "day"}
        )
        kathmandu = ZoneInfo("Asia/Kathmandu")
        start_ms = _local_midnight(date(2026, 11, 9), kathmandu)
        end_ms = _local_midnight(date(2026, 11, 11), kathmandu)
        _assert_grouped(exact, _selected(messages, start_ms, end_ms), "day", kathmandu)
        assert exact["range"]["rounded"] is False

        whole = _stats(
            shared,
            {"tz": "Australia/Lord_Howe", "start_date": "2026-04-05", "end_date": "2026-04-06", "group_by": "day"},
        )
        assert "counted whole" in whole["range"]["note"] and whole["range"]["rounded"] is True
        fifth_until = old + HOUR_MS  # the whole 13:00Z hour in the 5th
        start_ms, end_ms = oracle.instant_ms(whole["range"]["start"]), oracle.instant_ms(whole["range"]["end"])
        assert_measures(whole["by_day"][0], _selected(messages, start_ms, fifth_until), what="the 5th")
        assert_measures(whole["by_day"][1], _selected(messages, fifth_until, end_ms), what="the 6th")
    finally:
        for item in removed:
            dynamodb().put_item(TableName=table, Item=item)


# ---------------------------------------------------------------- dates read in the zone, and bad zones


@pytest.mark.parametrize("path", [LIST, ENHANCED])
def test_list_dates_are_local_to_tz(world, path: str) -> None:
    shared, messages = world
    zone = ZoneInfo("Asia/Kathmandu")
    params = {"tz": "Asia/Kathmandu", "start_date": "2026-11-10", "end_date": "2026-11-11T12:00:00", "limit": 100}
    response = shared.api.get(path, params)
    assert response.status == 200, response.body
    start_ms = _local_midnight(date(2026, 11, 10), zone)
    end_ms = ms_of(datetime(2026, 11, 11, 12, tzinfo=zone)) + 1
    expected = sorted(_selected(messages, start_ms, end_ms), key=lambda m: (created_ms(m), oracle.log_id(m)))
    assert [entry["id"] for entry in response.body["logs"]] == [oracle.log_id(m) for m in reversed(expected)]
    assert response.body["pagination"]["total"] == len(expected)
    # An instant with its own offset is that instant, whatever tz says.
    explicit = shared.api.get(path, {**params, "end_date": "2026-11-11T06:15:00Z"})
    assert explicit.body["pagination"]["total"] == len(expected)


@pytest.mark.parametrize("path", [STATS, LIST, ENHANCED])
@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "utc", "../../etc/passwd", "America/New_York ", "+05:30"])
def test_an_unknown_zone_is_a_400_naming_tz(world, path: str, tz: str) -> None:
    shared, _ = world
    response = shared.api.get(path, {"tz": tz})
    assert response.status == 400, response.body
    assert response.body["error"]["param"] == "tz"
    assert "IANA" in response.body["error"]["message"]


def test_a_local_grouping_over_more_than_ten_years_is_a_400_naming_end_date(world) -> None:
    shared, _ = world
    params = {"tz": "Europe/Paris", "start_date": "2026-11-01", "end_date": "9000-01-01"}
    response = shared.api.get(STATS, {**params, "group_by": "week"})
    assert response.status == 400, response.body
    assert response.body["error"]["param"] == "end_date"
    # Without a time grouping no local bucket is needed; in UTC buckets start where rollups do.
    assert shared.api.get(STATS, {**params, "group_by": "model"}).status == 200
    assert shared.api.get(STATS, {**params, "tz": "UTC", "group_by": "week"}).status == 200
