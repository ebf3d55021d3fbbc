"""GET /api/account/request-logs/stats against brute force over the very messages that were ingested.

One dataset per module: a few hundred logs over 40 days with errors, gateway-priced, catalog-priced and
unpriced models; dense clusters in the hours where the tests put unaligned range edges (so an edge read
from the wrong source shows); logs past the 90-day retention that only rollups still answer; a second
account. The logs go through the real ingest, then the real stream, read with the stream reader and
handed to the aggregator in batches, as the event-source mapping would.

Percentiles are compared with the exact value at rank ``floor(q × (n − 1))`` (DDSketch's rank definition)
with a tolerance of 1 % relative plus 0.5 ms, since the API rounds latencies to whole milliseconds.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine

from request_logs.domain import rollups
from request_logs.domain.reads import ReadStats
from request_logs.domain.stats_plan import plan_stats
from request_logs.logic.stats import get_request_log_stats
from request_logs.store import stats as stats_store
from tests.conftest import ACCOUNT_A, ACCOUNT_B, DAY_MS, NOW, NOW_MS, exact_quantile, sample_messages
from tests.integration import oracle
from tests.integration.oracle import created_ms, ms_of
from tests.integration.shared_stack import SharedStack, aggregate_stream, aggregated_stack
from tests.integration.stats_oracle import PERCENTILES, assert_close, assert_measures

PATH = "/api/account/request-logs/stats"
HOUR_MS = 3_600_000
MINUTE_MS = 60_000

# Hours holding a dozen logs each, where unaligned range edges fall.
START_EDGE_HOUR = datetime(2026, 11, 3, 9, tzinfo=UTC)
END_EDGE_HOUR = datetime(2026, 11, 14, 17, tzinfo=UTC)
# Within retention now; past it once the clock moves to LATER.
OLD_START_HOUR = datetime(2026, 10, 16, 8, tzinfo=UTC)
OLD_END_HOUR = datetime(2026, 10, 18, 13, tzinfo=UTC)
CLUSTER_HOURS = [START_EDGE_HOUR, START_EDGE_HOUR + timedelta(hours=1), END_EDGE_HOUR, OLD_START_HOUR, OLD_END_HOUR]
LATER = NOW + timedelta(days=60)  # log retention then starts at 2026-10-21T12:00Z
# Past retention already at NOW: moto keeps them (it never runs TTL), the list hides them, stats keep them.
ANCIENT_DAY = datetime(2026, 7, 20, tzinfo=UTC)


# ---------------------------------------------------------------- dataset and pipeline


def _dataset() -> list[dict[str, Any]]:
    a = sample_messages(ACCOUNT_A, count=300, days=40, seed=21, error_rate=0.1)
    b = sample_messages(ACCOUNT_B, count=40, days=40, seed=22)
    rng = random.Random(23)
    extra = []
    for position, hour in enumerate(CLUSTER_HOURS):
        for n in range(12):
            instant = ms_of(hour) + n * 5 * MINUTE_MS + rng.randrange(0, 5 * MINUTE_MS)
            extra.append(oracle.variant(rng.choice(a), f"req_cluster_{position}_{n}", instant))
    for n in range(10):
        instant = ms_of(ANCIENT_DAY) + rng.randrange(0, 2 * DAY_MS)
        extra.append(oracle.variant(rng.choice(a), f"req_ancient_{n}", instant))
    return a + b + extra


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[SharedStack, list[dict[str, Any]]]]:
    messages = _dataset()
    with aggregated_stack(messages) as shared:
        yield shared, messages


# ---------------------------------------------------------------- brute force


def _in_range(messages: list[dict[str, Any]], account: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    return [m for m in messages if m["account_id"] == account and start_ms <= created_ms(m) < end_ms]


def _hour_key(m: dict[str, Any]) -> str:
    return datetime.fromtimestamp(created_ms(m) // 1000, UTC).strftime("%Y-%m-%dT%H:00:00Z")


def _day_key(m: dict[str, Any]) -> str:
    return datetime.fromtimestamp(created_ms(m) // 1000, UTC).date().isoformat()


def _week_key(m: dict[str, Any]) -> str:
    year, week, _ = datetime.fromtimestamp(created_ms(m) // 1000, UTC).isocalendar()
    return f"{year}-W{week:02d}"


KEYS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "hour": ("hour", _hour_key),
    "day": ("date", _day_key),
    "week": ("week", _week_key),
    "model": ("model", lambda m: m["model"]),
    "provider": ("provider", lambda m: m["provider"]),
}


def assert_matches_brute_force(body: dict[str, Any], selected: list[dict[str, Any]], groups: list[str]) -> None:
    """Totals, percentiles and every entry of every by_<group> array against the selected messages."""
    stats = body["stats"]
    latencies = [m["latency_ms"] for m in selected]
    ttfts = [m["time_to_first_token_ms"] for m in selected if m.get("time_to_first_token_ms") is not None]
    successful = sum(m["status"] == "success" for m in selected)
    assert stats["total_requests"] == len(selected)
    assert stats["successful_requests"] == successful
    assert stats["failed_requests"] == len(selected) - successful
    expected_rate = (Decimal(successful * 100) / len(selected)).quantize(Decimal("0.1"), "ROUND_HALF_UP")
    assert Decimal(repr(stats["success_rate"])) == expected_rate
    assert stats["input_tokens"] == sum(m["input_tokens"] for m in selected)
    assert stats["output_tokens"] == sum(m["output_tokens"] for m in selected)
    assert stats["total_tokens"] == stats["input_tokens"] + stats["output_tokens"]
    costs = [oracle.expected_cost(m) for m in selected]
    assert oracle.stated_cost(stats["total_cost"]) == oracle.expected_set_cost(costs)
    assert stats["unpriced_requests"] == sum(c is None for c in costs)
    oracle.assert_components(stats, selected, "stats")
    assert abs(stats["avg_latency_ms"] - sum(latencies) / len(latencies)) <= 0.5
    for name, q in PERCENTILES.items():
        assert_close(stats[f"{name}_latency_ms"], exact_quantile(latencies, q), name)
        if ttfts:
            assert_close(stats[f"{name}_time_to_first_token_ms"], exact_quantile(ttfts, q), f"ttft {name}")
        else:
            assert stats[f"{name}_time_to_first_token_ms"] is None

    expected_arrays = {f"by_{group}" for group in groups} | {"by_model"}
    assert set(body) == {"stats", "range"} | expected_arrays
    for group in sorted({*groups, "model"}):
        key_field, key_of = KEYS[group]
        entries = body[f"by_{group}"]
        by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for message in selected:
            by_key[key_of(message)].append(message)
        assert [entry[key_field] for entry in entries] == _expected_order(group, by_key)
        for entry in entries:
            # Every entry carries the same measures, percentiles included, whatever group_by asked for.
            assert_measures(entry, by_key[entry[key_field]], what=f"by_{group} {entry[key_field]}")
            if group == "week":
                monday = datetime.fromisocalendar(*map(int, entry["week"].split("-W")), 1)
                assert entry["start_date"] == monday.date().isoformat()


def _expected_order(group: str, by_key: dict[str, list[dict[str, Any]]]) -> list[str]:
    if group in ("model", "provider"):
        return sorted(by_key, key=lambda value: (-len(by_key[value]), value))
    if group == "week":
        return sorted(by_key, key=lambda week: (int(week[:4]), int(week[6:])))
    return sorted(by_key)


def _get(shared: SharedStack, params: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    response = shared.api.get(PATH, params, **kwargs)
    assert response.status == 200, response.body
    return response.body


def _range_ms(body: dict[str, Any]) -> tuple[int, int]:
    answered = body["range"]
    assert answered["start"].endswith("Z") and answered["end"].endswith("Z")
    return oracle.instant_ms(answered["start"]), oracle.instant_ms(answered["end"])


# ---------------------------------------------------------------- ranges × groupings


def _at(hour: datetime, minutes: int, seconds: float = 0) -> int:
    return ms_of(hour) + minutes * MINUTE_MS + int(seconds * 1000)


# (query, resolved [start, end) in ms)
RANGES: dict[str, tuple[dict[str, str], tuple[int, int]]] = {
    "default_last_30_days": ({}, (NOW_MS - 30 * DAY_MS, NOW_MS)),
    "bare_dates": (
        {"start_date": "2026-10-20", "end_date": "2026-11-10"},  # the end date's whole day included
        (ms_of(datetime(2026, 10, 20, tzinfo=UTC)), ms_of(datetime(2026, 11, 11, tzinfo=UTC))),
    ),
    "unaligned_both_ends": (
        {"start_date": "2026-11-03T09:27:13.500Z", "end_date": "2026-11-14T17:41:00Z"},
        (_at(START_EDGE_HOUR, 27, 13.5), _at(END_EDGE_HOUR, 41) + 1),  # a date-time end is inclusive
    ),
    "offset_start_bare_end": (
        {"start_date": "2026-11-03T11:27:00+02:00", "end_date": "2026-11-14"},
        (_at(START_EDGE_HOUR, 27), ms_of(datetime(2026, 11, 15, tzinfo=UTC))),
    ),
    "inside_one_hour": (
        {"start_date": "2026-11-14T17:12:00Z", "end_date": "2026-11-14T17:48:00Z"},
        (_at(END_EDGE_HOUR, 12), _at(END_EDGE_HOUR, 48) + 1),
    ),
    "across_one_hour_boundary": (
        {"start_date": "2026-11-03T09:31:00Z", "end_date": "2026-11-03T10:05:00Z"},
        (_at(START_EDGE_HOUR, 31), _at(START_EDGE_HOUR, 65) + 1),
    ),
    "spec_example_start_only": (
        {"start_date": "2025-01-01"},
        (ms_of(datetime(2025, 1, 1, tzinfo=UTC)), NOW_MS),
    ),
    "past_log_retention_whole_days": (
        {"start_date": "2026-07-19", "end_date": "2026-07-22"},
        (ms_of(datetime(2026, 7, 19, tzinfo=UTC)), ms_of(datetime(2026, 7, 23, tzinfo=UTC))),
    ),
}
GROUP_BYS = ["day", "model", "week,provider", "day,model", "hour,day,week,model,provider"]


@pytest.mark.parametrize(
    ("range_name", "group_by"),
    [
        (range_name, group_by)
        for range_name in RANGES
        for group_by in GROUP_BYS
        # Over more than 744 hourly buckets: a 400, tested below.
        if not ("hour" in group_by and range_name == "spec_example_start_only")
    ],
)
def test_stats_match_brute_force(world, range_name: str, group_by: str) -> None:
    shared, messages = world
    query, (start_ms, end_ms) = RANGES[range_name]
    body = _get(shared, {**query, "group_by": group_by})
    assert _range_ms(body) == (start_ms, end_ms)
    assert body["range"]["rounded"] is False
    assert "note" not in body["range"]
    selected = _in_range(messages, ACCOUNT_A, start_ms, end_ms)
    assert selected, "every range of this test holds logs"
    assert_matches_brute_force(body, selected, group_by.split(","))


def test_dataset_puts_logs_on_both_sides_of_every_unaligned_edge(world) -> None:
    _, messages = world
    for name in ("unaligned_both_ends", "offset_start_bare_end", "inside_one_hour", "across_one_hour_boundary"):
        _, (start_ms, end_ms) = RANGES[name]
        for edge in (start_ms, end_ms):
            if edge % HOUR_MS == 0:
                continue
            hour = edge - edge % HOUR_MS
            in_hour = [created_ms(m) for m in messages if m["account_id"] == ACCOUNT_A]
            assert any(hour <= c < edge for c in in_hour), (name, edge)
            assert any(edge <= c < hour + HOUR_MS for c in in_hour), (name, edge)


def test_default_group_by_is_day_and_by_model_has_every_measure(world) -> None:
    shared, messages = world
    body = _get(shared, {})
    assert set(body) == {"stats", "by_day", "by_model", "range"}
    assert_matches_brute_force(body, _in_range(messages, ACCOUNT_A, NOW_MS - 30 * DAY_MS, NOW_MS), ["day"])


@pytest.mark.parametrize("range_name", ["default_last_30_days", "bare_dates", "unaligned_both_ends", "inside_one_hour"])
def test_totals_agree_with_the_list_endpoint(world, range_name: str) -> None:
    shared, _ = world
    query, (start_ms, _) = RANGES[range_name]
    stats = _get(shared, {**query, "group_by": "day,model"})
    # The list's own default range is all 90 retained days: give it the stats' default start.
    listed = shared.api.get("/api/account/request-logs", {"start_date": oracle.iso(start_ms), **query, "limit": 1})
    assert listed.status == 200
    assert stats["stats"]["total_requests"] == listed.body["pagination"]["total"]
    assert sum(entry["requests"] for entry in stats["by_day"]) == stats["stats"]["total_requests"]
    assert sum(entry["requests"] for entry in stats["by_model"]) == stats["stats"]["total_requests"]


def test_reads_grow_with_buckets_not_with_logs(world) -> None:
    """Day items for whole days, hour items for the partial days, raw logs only in the edge hours: one
    "all" item per bucket, whose embedded per-model counters and sketches are by_model, no model item."""
    _, messages = world
    _, (start_ms, end_ms) = RANGES["unaligned_both_ends"]
    reads = ReadStats()
    get_request_log_stats(ACCOUNT_A, start_ms, end_ms, ("day",), now_ms=NOW_MS, reads=reads)
    logs = [(created_ms(m), m["model"]) for m in messages if m["account_id"] == ACCOUNT_A]
    times = [t for t, _ in logs]
    expected = 0
    for piece in plan_stats(start_ms, end_ms, now_ms=NOW_MS, hourly=False).pieces:
        inside = [(t, model) for t, model in logs if piece.start_ms <= t < piece.end_ms]
        bucket = {"raw": 1, "hour": HOUR_MS, "day": DAY_MS}[piece.source]
        if piece.source == "raw":
            expected += len(inside)
        else:
            expected += len({t - t % bucket for t, _ in inside})
    assert reads.items_read == expected
    assert reads.items_read < len([t for t in times if start_ms <= t < end_ms])


def test_a_far_future_end_is_answered_up_to_the_last_plannable_day(world) -> None:
    shared, messages = world
    body = _get(shared, {"start_date": "2026-11-10", "end_date": "9000-01-01", "group_by": "week"})
    start = ms_of(datetime(2026, 11, 10, tzinfo=UTC))
    assert _range_ms(body) == (start, ms_of(datetime(2286, 11, 20, tzinfo=UTC)))
    assert_matches_brute_force(body, _in_range(messages, ACCOUNT_A, start, NOW_MS), ["week"])


# ---------------------------------------------------------------- retention of raw logs vs rollups


def test_an_expired_start_edge_rounds_to_its_hour_and_says_so(world) -> None:
    shared, messages = world
    start, end = _at(OLD_START_HOUR, 27, 30), _at(END_EDGE_HOUR, 41)
    with time_machine.travel(LATER, tick=False):
        body = _get(shared, {"start_date": oracle.iso(start), "end_date": oracle.iso(end), "group_by": "day,model"})
    assert body["range"]["rounded"] is True
    assert "start" in body["range"]["note"] and "90 days" in body["range"]["note"]
    assert _range_ms(body) == (ms_of(OLD_START_HOUR), end + 1)
    selected = _in_range(messages, ACCOUNT_A, ms_of(OLD_START_HOUR), end + 1)
    assert any(ms_of(OLD_START_HOUR) <= created_ms(m) < start for m in selected), "rounding must matter"
    assert_matches_brute_force(body, selected, ["day", "model"])


def test_expired_edges_on_both_sides_round_outward(world) -> None:
    shared, messages = world
    start, end = _at(OLD_START_HOUR, 33), _at(OLD_END_HOUR, 22)
    with time_machine.travel(LATER, tick=False):
        body = _get(shared, {"start_date": oracle.iso(start), "end_date": oracle.iso(end), "group_by": "hour"})
    assert body["range"]["rounded"] is True
    assert "start and end" in body["range"]["note"]
    assert _range_ms(body) == (ms_of(OLD_START_HOUR), ms_of(OLD_END_HOUR) + HOUR_MS)
    assert_matches_brute_force(
        body, _in_range(messages, ACCOUNT_A, ms_of(OLD_START_HOUR), ms_of(OLD_END_HOUR) + HOUR_MS), ["hour"]
    )


def test_stats_outlive_the_logs(world) -> None:
    """At LATER the list shows none of October's logs; whole-day stats of October are still exact."""
    shared, messages = world
    query = {"start_date": "2026-10-12", "end_date": "2026-10-19"}
    with time_machine.travel(LATER, tick=False):
        listed = shared.api.get("/api/account/request-logs", query)
        body = _get(shared, {**query, "group_by": "week,provider"})
    assert listed.body["pagination"]["total"] == 0
    assert body["range"]["rounded"] is False
    start, end = ms_of(datetime(2026, 10, 12, tzinfo=UTC)), ms_of(datetime(2026, 10, 20, tzinfo=UTC))
    assert_matches_brute_force(body, _in_range(messages, ACCOUNT_A, start, end), ["week", "provider"])


# ---------------------------------------------------------------- tenants and empty ranges


def test_each_account_sees_only_its_own_stats(world) -> None:
    shared, messages = world
    body = _get(shared, {"group_by": "day,provider"}, account=ACCOUNT_B, api_key_id="key_beta1")
    selected = _in_range(messages, ACCOUNT_B, NOW_MS - 30 * DAY_MS, NOW_MS)
    assert selected
    assert_matches_brute_force(body, selected, ["day", "provider"])


def test_an_account_without_requests_gets_zeros_and_nulls(world) -> None:
    shared, _ = world
    body = _get(shared, {"group_by": "hour,week,provider"}, account="acct_gamma", api_key_id="key_gamma1")
    assert body["stats"] == {
        "total_requests": 0,
        "successful_requests": 0,
        "failed_requests": 0,
        "success_rate": None,
        "total_tokens": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "total_cost": None,  # no request was priced: unknown, not free
        "avg_latency_ms": None,
        "p50_latency_ms": None,
        "p95_latency_ms": None,
        "p99_latency_ms": None,
        "p50_time_to_first_token_ms": None,
        "p95_time_to_first_token_ms": None,
        "p99_time_to_first_token_ms": None,
        "unpriced_requests": 0,
        "cached_input_tokens": 0,
        "cache_creation_input_tokens": 0,
        "reasoning_tokens": 0,
        "input_cost": None,
        "output_cost": None,
        "cached_input_cost": None,
        "cache_creation_input_cost": None,
        "reasoning_cost": None,
    }
    assert body["by_hour"] == body["by_week"] == body["by_model"] == body["by_provider"] == []


# ---------------------------------------------------------------- bad input


def _assert_bad_request(response: Any, param: str) -> None:
    assert response.status == 400, response.body
    assert set(response.body) == {"error"}
    error = response.body["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert param in error["message"], error["message"]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ([("group_by", "minute")], "group_by"),
        ([("group_by", "Day")], "group_by"),
        ([("group_by", "")], "group_by"),
        ([("group_by", "day,")], "group_by"),
        ([("group_by", "day,model,day")], "group_by"),
        ([("group_by", "day"), ("group_by", "model")], "group_by"),
        ([("group_by", "day" * 30)], "group_by"),
        ([("start_date", "yesterday")], "start_date"),
        ([("start_date", "2026-02-30")], "start_date"),
        ([("end_date", "2026-13-01")], "end_date"),
        ([("end_date", "2026-11-10T25:00")], "end_date"),
        ([("start_date", "2026-11-10"), ("end_date", "2026-11-09")], "start_date"),
        ([("start_date", "2026-11-10T12:00:00Z"), ("end_date", "2026-11-10T11:59:59Z")], "start_date"),
        ([("start_date", "2026-12-01")], "start_date"),  # after the default end, now
        ([("limit", "0")], "limit"),  # the top N of a user or metadata grouping: 1..100
        ([("model", "openai/gpt-4o")], "model"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(world, query: list[tuple[str, str]], param: str) -> None:
    shared, _ = world
    _assert_bad_request(shared.api.get(PATH, query), param)


def test_hour_grouping_over_a_long_range_states_the_limit(world) -> None:
    shared, _ = world
    response = shared.api.get(PATH, {"group_by": "day,hour", "start_date": "2026-10-01", "end_date": "2026-11-01"})
    _assert_bad_request(response, "group_by")
    assert "744" in response.body["error"]["message"]
    # A 31-day month is exactly the limit.
    assert (
        shared.api.get(PATH, {"group_by": "hour", "start_date": "2026-10-01", "end_date": "2026-10-31"}).status == 200
    )


# ---------------------------------------------------------------- the spec's Python example


def test_the_spec_python_example_runs_against_the_handler(world, capsys: pytest.CaptureFixture[str]) -> None:
    shared, messages = world
    api_key = "your-api-key"
    base_url = "https://api.langmart.ai"

    class Requests:
        """``requests.get`` as the example calls it, answered by the handler."""

        @staticmethod
        def get(url: str, headers: dict[str, str], params: dict[str, str]) -> SimpleNamespace:
            assert url.startswith(base_url)
            assert headers == {"Authorization": f"Bearer {api_key}"}
            answer = shared.api.get(url.removeprefix(base_url), params)
            return SimpleNamespace(json=lambda: answer.body)

    requests = Requests()

    # From the spec, verbatim but for the constants above.
    def get_usage_stats(start_date, end_date=None, group_by="day"):
        params = {"start_date": start_date, "group_by": group_by}
        if end_date:
            params["end_date"] = end_date

        response = requests.get(
            f"{base_url}/api/account/request-logs/stats",
            headers={"Authorization": f"Bearer {api_key}"},
            params=params,
        )
        return response.json()

    stats = get_usage_stats("2025-01-01", group_by="model")
    # The spec's loop with the one change README.md shows: a model nobody priced has cost null, and
    # printing it as $0.00 would call it free.
    for model_stats in stats["by_model"]:
        cost = model_stats["cost"]
        shown = "no price" if cost is None else f"${cost:.2f}"
        print(f"{model_stats['model']}: {model_stats['requests']} requests, {shown}")

    printed = capsys.readouterr().out.splitlines()
    selected = _in_range(messages, ACCOUNT_A, ms_of(datetime(2025, 1, 1, tzinfo=UTC)), NOW_MS)
    assert len(printed) == len({m["model"] for m in selected}) == len(stats["by_model"])
    unpriced_models = {m["model"] for m in selected} - {
        m["model"] for m in selected if oracle.expected_cost(m) is not None
    }
    assert unpriced_models, "the data must hold a model nobody priced"
    for line, entry in zip(printed, stats["by_model"], strict=True):
        assert isinstance(entry["requests"], int)
        if entry["model"] in unpriced_models:
            assert entry["cost"] is None and line.endswith("requests, no price"), line
        else:
            assert isinstance(entry["cost"], int | float)
            assert line.startswith(f"{entry['model']}: {entry['requests']} requests, $")
    assert_matches_brute_force(stats, selected, ["model"])


# ---------------------------------------------------------------- embedded group maps that overflowed


def test_overflowed_embedded_groups_fall_back_to_the_model_items(world, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the embedded maps bounded at 2 values, by_model must still list every model exactly."""
    shared, _ = world
    account = "acct_overflow"
    messages = sample_messages(account, count=40, days=3, seed=31)
    assert len({m["model"] for m in messages}) > 2
    assert shared.ingest.messages(messages) == []
    monkeypatch.setattr(rollups, "MAX_EMBEDDED_GROUPS", 2)
    assert aggregate_stream(shared.api.functions, shared.stack, account=account) == len(messages)
    day = NOW_MS - NOW_MS % DAY_MS - DAY_MS
    (item,) = stats_store.query_rollups(account, "day", "all", day, day + DAY_MS)
    assert item.rollup.groups_overflow, "the test must exercise the fallback"
    body = _get(shared, {"start_date": "2026-11-17", "group_by": "day"}, account=account, api_key_id="key_beta1")
    selected = _in_range(messages, account, ms_of(datetime(2026, 11, 17, tzinfo=UTC)), NOW_MS)
    assert_matches_brute_force(body, selected, ["day"])


def test_overflowed_embedded_sketches_fall_back_to_the_model_items(world, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the embedded sketches bounded at a few bins, the "all" items drop them and by_model's
    percentiles come from the model items, still exact."""
    shared, _ = world
    account = "acct_sketchoverflow"
    messages = sample_messages(account, count=40, days=3, seed=32)
    assert shared.ingest.messages(messages) == []
    monkeypatch.setattr(rollups, "MAX_EMBEDDED_SKETCH_BINS", 5)
    assert aggregate_stream(shared.api.functions, shared.stack, account=account) == len(messages)
    day = NOW_MS - NOW_MS % DAY_MS - DAY_MS
    (item,) = stats_store.query_rollups(account, "day", "all", day, day + DAY_MS)
    assert item.rollup.sketches_overflow and not item.rollup.group_latency, "the test must exercise the fallback"
    assert item.rollup.group_breakdown("model") is None
    body = _get(shared, {"start_date": "2026-11-17", "group_by": "day,model"}, account=account, api_key_id="key_beta1")
    selected = _in_range(messages, account, ms_of(datetime(2026, 11, 17, tzinfo=UTC)), NOW_MS)
    assert_matches_brute_force(body, selected, ["day", "model"])


def test_items_aggregated_before_sketches_were_embedded_read_their_model_items(
    world, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An "all" item whose sketches cover only the logs added since they were embedded cannot give by_model:
    its buckets (and only those) read the model items, and the answer stays exact."""
    shared, _ = world
    account = "acct_sketchupgrade"
    messages = sample_messages(account, count=60, days=3, seed=33)
    first, second = messages[::2], messages[1::2]
    monkeypatch.setattr(rollups, "SKETCHED_GROUPS", ())  # the aggregator as it was
    assert shared.ingest.messages(first) == []
    assert aggregate_stream(shared.api.functions, shared.stack, account=account) == len(first)
    monkeypatch.undo()
    assert shared.ingest.messages(second) == []
    # The stream is read again from its start: the first half's records are already applied, once.
    assert aggregate_stream(shared.api.functions, shared.stack, account=account) == len(messages)
    start = ms_of(datetime(2026, 11, 17, tzinfo=UTC))
    items = stats_store.query_rollups(account, "day", "all", start, NOW_MS - NOW_MS % DAY_MS)
    partial = [item for item in items if item.rollup.group_breakdown("model") is None]
    assert partial and all(item.rollup.group_latency for item in partial), "the test must exercise the fallback"
    body = _get(shared, {"start_date": "2026-11-17", "group_by": "day,model"}, account=account, api_key_id="key_beta1")
    assert_matches_brute_force(body, _in_range(messages, account, start, NOW_MS), ["day", "model"])
    reads = ReadStats()
    get_request_log_stats(account, start, NOW_MS - NOW_MS % DAY_MS, ("day",), now_ms=NOW_MS, reads=reads)
    model_items = sum(
        len(stats_store.query_rollups(account, "day", "model", item.key.bucket_ms, item.key.bucket_ms + DAY_MS))
        for item in partial
    )
    assert reads.items_read == len(items) + model_items
