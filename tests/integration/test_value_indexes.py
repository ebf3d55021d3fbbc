"""Sorts and value bounds through the bucket-partitioned value indexes, against brute force.

The data is built to meet the edges: logs with equal latencies, costs and token counts on one day and
across days, logs nobody priced, logs on the first and last millisecond of a day, days without logs, a
log the gateway dated three days ahead (its own partition) and one dated later today. Every walk is
compared with the order and bounds computed in plain Python over the messages sent; the read counts
compare a small and a four-times-larger account over the same days.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from request_logs.config import get_settings
from request_logs.domain.filters import LogQuery
from request_logs.domain.ordering import Ordering
from request_logs.domain.reads import ReadStats
from request_logs.store import logs as log_store
from request_logs.store.dynamo import dynamodb
from request_logs.store.indexes import VALUE_INDEXES
from request_logs.store.keys import LOG_SHARDS, log_pk
from request_logs.store.value_index import bounded_logs
from tests.conftest import ACCOUNT_A, ACCOUNT_B, DAY_MS, NOW_MS, sample_messages
from tests.integration import oracle
from tests.integration.oracle import created_ms, expected_cost, log_id
from tests.integration.shared_stack import SharedStack, shared_stack

ENHANCED = "/api/account/request-logs/enhanced"
LIST = "/api/account/request-logs"
DAYS = 20


@dataclass
class World:
    shared: SharedStack
    messages: list[dict[str, Any]]


def _edge_cases(base: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rng = random.Random(5)
    extra: list[dict[str, Any]] = []
    today = NOW_MS - NOW_MS % DAY_MS
    # Equal values: copies of a few logs (same model, latency and tokens, so the same cost) on other days
    # and at other instants of the same day.
    for n, template in enumerate(rng.sample(base, 6)):
        for copy in range(4):
            shift = rng.choice([0, 1, 3, 7]) * DAY_MS + rng.randrange(1, 3_600_000)
            extra.append(oracle.variant(template, f"req_tie_{n}_{copy}", created_ms(template) - shift))
    # The first and last millisecond of days, and an empty stretch of days (none created 12..14 days ago).
    for n, day in enumerate((5, 9, 16)):
        start = today - day * DAY_MS
        extra.append(oracle.variant(rng.choice(base), f"req_midnight_{n}", start))
        extra.append(oracle.variant(rng.choice(base), f"req_last_ms_{n}", start + DAY_MS - 1))
    # Dated ahead by the gateway's clock: three days (the future partition) and later today.
    extra.append(oracle.variant(rng.choice(base), "req_future_far", NOW_MS + 3 * DAY_MS))
    extra.append(oracle.variant(rng.choice(base), "req_future_near", NOW_MS + 5 * 3_600_000))
    # Past retention (90 days) but not yet deleted by TTL, and just inside it: their days' partitions
    # hold them, and no read may return or count the first two.
    retention_ms = 90 * DAY_MS
    for n, age in enumerate((retention_ms + DAY_MS, retention_ms + 1, retention_ms - 60_000)):
        extra.append(oracle.variant(rng.choice(base), f"req_retention_{n}", NOW_MS - age))
    return extra


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    base = sample_messages(ACCOUNT_A, count=260, days=DAYS, seed=61, error_rate=0.15)
    a = [m for m in base + _edge_cases(base) if not NOW_MS - 14 * DAY_MS <= created_ms(m) < NOW_MS - 12 * DAY_MS]
    b = sample_messages(ACCOUNT_B, count=4 * 260, days=DAYS, seed=62, error_rate=0.15)
    with shared_stack() as shared:
        assert shared.ingest.messages(a + b) == []
        yield World(shared, a + b)


# ---------------------------------------------------------------- brute force


def _value(message: dict[str, Any], sort: str) -> Decimal | None:
    if sort == "cost":
        return expected_cost(message)
    if sort == "latency":
        return Decimal(message["latency_ms"])
    return Decimal(message["input_tokens"] + message["output_tokens"])


def _expected(world: World, params: dict[str, Any], account: str = ACCOUNT_A, now_ms: int = NOW_MS) -> list[str]:
    """Ids in the documented order: value (unpriced last either way), then creation instant and id."""
    # A walk covers the logs created up to its first page (its snapshot): the ones dated ahead wait.
    matching = [
        m for m in oracle.expected_for_params(world.messages, account, now_ms, params) if created_ms(m) <= now_ms
    ]
    sort, order = params.get("sort", "created_at"), params.get("order", "desc")
    if sort == "created_at":
        ordered = sorted(matching, key=lambda m: (created_ms(m), log_id(m)), reverse=order == "desc")
        return [log_id(m) for m in ordered]

    def key(message: dict[str, Any]) -> tuple[Any, ...]:
        value = _value(message, sort)
        tie = (created_ms(message), log_id(message))
        if order == "desc":
            return (value is not None, value or 0, tie)
        return (value is None, value or 0, tie)

    return [log_id(m) for m in sorted(matching, key=key, reverse=order == "desc")]


def _walk(world: World, path: str, params: dict[str, Any], account: str = ACCOUNT_A) -> list[str]:
    ids: list[str] = []
    cursor = None
    for _ in range(400):
        page_params = {**params, **({"cursor": cursor} if cursor else {})}
        api_key = "key_alpha1" if account == ACCOUNT_A else "key_beta1"
        response = world.shared.api.get(path, page_params, account=account, api_key_id=api_key)
        assert response.status == 200, response.body
        ids.extend(entry["id"] for entry in response.body["logs"])
        cursor = response.body["pagination"]["nextCursor"]
        if cursor is None:
            return ids
    raise AssertionError("the walk does not end")


def _cost_quantiles(world: World) -> list[Decimal]:
    costs = sorted({c for m in world.messages if m["account_id"] == ACCOUNT_A and (c := expected_cost(m)) is not None})
    return [costs[len(costs) * q // 10] for q in range(10)]


def _latencies(world: World) -> list[int]:
    return sorted(m["latency_ms"] for m in world.messages if m["account_id"] == ACCOUNT_A)


# ---------------------------------------------------------------- the data meets its edges


def test_the_data_has_ties_unpriced_logs_empty_days_and_future_logs(world: World) -> None:
    mine = [m for m in world.messages if m["account_id"] == ACCOUNT_A]
    latencies = [m["latency_ms"] for m in mine]
    assert len(latencies) - len(set(latencies)) >= 18
    assert any(expected_cost(m) is None for m in mine)
    assert not [m for m in mine if NOW_MS - 14 * DAY_MS <= created_ms(m) < NOW_MS - 12 * DAY_MS]
    assert max(created_ms(m) for m in mine) == NOW_MS + 3 * DAY_MS


# ---------------------------------------------------------------- sorts: every order, filters and ranges

SORT_CASES: list[dict[str, Any]] = [
    {},
    {"status": "error"},
    {"status": "success"},
    {"model": "openai/gpt-4o"},
    {"provider": "anthropic", "status": "success"},
    {"api_key_id": "key_alpha2"},
    {"start_date": oracle.iso(NOW_MS - 9 * DAY_MS + 3_600_000), "end_date": oracle.iso(NOW_MS - 2 * DAY_MS)},
    {"start_date": oracle.iso(NOW_MS - 5 * DAY_MS - NOW_MS % DAY_MS)},  # a midnight: whole days
]


@pytest.mark.parametrize("order", ["desc", "asc"])
@pytest.mark.parametrize("sort", ["cost", "latency", "tokens"])
@pytest.mark.parametrize("filters", SORT_CASES, ids=lambda f: ",".join(f) or "none")
def test_sorted_walks_equal_brute_force(world: World, sort: str, order: str, filters: dict[str, Any]) -> None:
    params = {**filters, "sort": sort, "order": order, "limit": 40}
    assert _walk(world, ENHANCED, params) == _expected(world, params)


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_sorts_combined_with_value_bounds(world: World, order: str) -> None:
    costs, latencies = _cost_quantiles(world), _latencies(world)
    cases = [
        {"sort": "cost", "min_cost": str(costs[3]), "max_cost": str(costs[7])},
        {"sort": "cost", "min_latency": latencies[len(latencies) // 2]},
        {"sort": "latency", "min_cost": str(costs[5])},
        {"sort": "latency", "min_latency": latencies[40], "max_latency": latencies[-40]},
        {"sort": "tokens", "max_latency": latencies[len(latencies) // 3], "model": "openai/gpt-4o-mini"},
        {"sort": "tokens", "min_cost": "0", "status": "error"},
    ]
    for case in cases:
        params = {**case, "order": order, "limit": 30}
        assert _walk(world, ENHANCED, params) == _expected(world, params), case


def test_offset_pages_equal_cursor_pages(world: World) -> None:
    params = {"sort": "cost", "order": "desc", "limit": 25}
    expected = _expected(world, params)
    got: list[str] = []
    for offset in range(0, len(expected) + 25, 25):
        response = world.shared.api.get(ENHANCED, {**params, "offset": offset})
        assert response.status == 200, response.body
        got.extend(entry["id"] for entry in response.body["logs"])
    assert got == expected


# ---------------------------------------------------------------- value bounds, newest first


@pytest.mark.parametrize("path", [LIST, ENHANCED])
def test_latency_bounds_on_values_present_are_inclusive(world: World, path: str) -> None:
    latencies = _latencies(world)
    for params in (
        {"min_latency": latencies[-30]},  # selective: through the latency index
        {"max_latency": latencies[-30]},  # most logs: by time with a filter
        {"min_latency": latencies[50], "max_latency": latencies[50]},  # one value, equal ones included
        {"min_latency": latencies[100], "max_latency": latencies[120], "status": "success"},
        {"min_latency": latencies[-60], "provider": "openai", "start_date": oracle.iso(NOW_MS - 10 * DAY_MS)},
    ):
        for order in ("desc", "asc"):
            walk = {**params, "limit": 7, **({"order": order} if path == ENHANCED else {})}
            if path == LIST and order == "asc":
                continue
            expected = _expected(world, walk)
            assert expected, params
            assert _walk(world, path, walk) == expected, (params, order)
            total = world.shared.api.get(path, {**walk, "limit": 1}).body["pagination"]["total"]
            assert total == len(expected), params


def test_cost_bounds_newest_first_and_their_summary(world: World) -> None:
    costs = _cost_quantiles(world)
    for params in (
        {"min_cost": str(costs[8])},
        {"max_cost": str(costs[1])},
        {"min_cost": str(costs[2]), "max_cost": str(costs[2])},
        {"min_cost": str(costs[4]), "model": "openai/gpt-4o"},
    ):
        expected = _expected(world, {**params, "limit": 8})
        assert _walk(world, ENHANCED, {**params, "limit": 8}) == expected, params
        summary = world.shared.api.get(ENHANCED, {**params, "limit": 1}).body["summary"]
        by_id = {log_id(m): m for m in world.messages}
        assert summary["requests"] == summary["priced_requests"] == len(expected)
        assert oracle.stated_cost(summary["total_cost"]) == oracle.expected_set_cost(
            [expected_cost(by_id[i]) for i in expected]
        )


def test_a_log_dated_ahead_appears_when_its_time_comes_from_its_own_partition(world: World) -> None:
    far = next(m for m in world.messages if m["request_id"] == "req_future_far")
    assert log_id(far) not in _walk(world, LIST, {"limit": 50})
    later = created_ms(far) + 60_000
    with time_machine.travel(later / 1000, tick=False):  # seconds, as time.time() counts
        assert _walk(world, LIST, {"limit": 3})[0] == log_id(far)
        bound = {"min_latency": far["latency_ms"], "max_latency": far["latency_ms"]}
        for path, params in (
            (LIST, bound),
            (ENHANCED, {"sort": "latency", "order": "asc", **bound}),
            (ENHANCED, {"sort": "tokens", "order": "desc"}),
            (ENHANCED, {"sort": "cost", "order": "asc", "start_date": oracle.iso(NOW_MS + DAY_MS)}),
        ):
            expected = _expected(world, {**params, "limit": 5}, now_ms=later)
            assert log_id(far) in expected
            assert _walk(world, path, {**params, "limit": 5}) == expected, params
        response = world.shared.api.get(LIST, {**bound, "start_date": oracle.iso(NOW_MS + DAY_MS)})
        assert [entry["id"] for entry in response.body["logs"]] == [log_id(far)]
        assert response.body["pagination"]["total"] == 1


# ---------------------------------------------------------------- what a page reads


def _page_reads(account: str, ordering: Ordering, **bounds: Any) -> int:
    reads = ReadStats()
    query = LogQuery(account, NOW_MS - 30 * DAY_MS, NOW_MS + 10 * DAY_MS, **bounds)
    if ordering.by_creation:
        log_store.ordered_logs(query, skip=0, limit=11, reads=reads, now_ms=NOW_MS)
    else:
        log_store.top_logs(query, ordering, skip=0, limit=11, reads=reads, now_ms=NOW_MS)
    return reads.items_read


@pytest.mark.parametrize(
    ("ordering", "bounds"),
    [
        (Ordering("cost", "desc"), {}),
        (Ordering("latency", "asc"), {}),
        (Ordering("tokens", "desc"), {}),
        (Ordering("created_at", "desc"), {"min_latency": 6000}),
    ],
    ids=["cost desc", "latency asc", "tokens desc", "min_latency"],
)
def test_a_page_reads_about_its_size_not_the_account(world: World, ordering: Ordering, bounds: dict[str, Any]) -> None:
    small, large = _page_reads(ACCOUNT_A, ordering, **bounds), _page_reads(ACCOUNT_B, ordering, **bounds)
    logs_of_large = sum(1 for m in world.messages if m["account_id"] == ACCOUNT_B)
    # 11 logs fetched, and a first chunk of two index items per bucket (half day, four hours for latency)
    # of the range holding logs: never the account's logs.
    buckets = (DAYS + 2) * DAY_MS // VALUE_INDEXES[ordering.sort if not bounds else "latency"].buckets.width_ms
    assert large <= 11 + 3 * buckets + 11, (small, large)
    # Well under the account: this small account's four-hour latency buckets hold about 8 logs
    # each, and a sort reads a first chunk of two from each (half-day buckets hold three times as many).
    assert large < logs_of_large / 3
    # Buckets are read in parallel waves, so a page may read a few buckets past the one that fills it.
    assert large <= 2 * small + 40, (small, large)


def test_the_value_index_keeps_a_page_the_time_path_would_read_more_for(world: World) -> None:
    """A bound that matches every log of a rare model: the value index reads whole days for few matches
    and gives up at its own budget, unless reading by time is estimated to cost more still. Either way
    the page is brute force's."""
    counts: dict[str, int] = {}
    for m in world.messages:
        if m["account_id"] == ACCOUNT_B:
            counts[m["model"]] = counts.get(m["model"], 0) + 1
    rare = min(counts, key=lambda model: counts[model])
    query = LogQuery(ACCOUNT_B, NOW_MS - DAYS * DAY_MS, NOW_MS + 1, model=rare, min_latency=0)
    params = {
        "model": rare,
        "min_latency": 0,
        "start_date": oracle.iso(NOW_MS - DAYS * DAY_MS),
        "end_date": oracle.iso(NOW_MS),
    }
    expected = _expected(world, params, account=ACCOUNT_B)[:11]
    assert len(expected) == 11

    def page(time_path_reads: int | None) -> tuple[list[tuple[str, str]] | None, int]:
        reads = ReadStats()
        found = bounded_logs(
            query, skip=0, limit=11, reads=reads, now_ms=NOW_MS, descending=True, time_path_reads=time_path_reads
        )
        return (found.keys[:11] if found is not None else None), reads.items_read

    gave_up, spent = page(None)
    assert gave_up is None, "the case must exceed the value index's own budget"
    kept, read = page(10 * spent)
    assert kept is not None and read > spent
    assert [key[1].split("#")[-1] for key in kept] == expected


# ---------------------------------------------------------------- a bounded walk's cursor carries its bucket's rest


def _dense_bound(world: World) -> int:
    """A latency most of account B's latency buckets hold several logs above: a page ends inside a bucket."""
    latencies = sorted(m["latency_ms"] for m in world.messages if m["account_id"] == ACCOUNT_B)
    return latencies[len(latencies) * 7 // 10]


@pytest.mark.parametrize("limit", [2, 5])
def test_bounded_walks_carrying_their_buckets_rest_equal_brute_force(world: World, limit: int) -> None:
    bound = _dense_bound(world)
    for params in ({"min_latency": bound}, {"min_latency": bound, "order": "asc"}):
        walk = {**params, "limit": limit}
        assert _walk(world, ENHANCED, walk, account=ACCOUNT_B) == _expected(world, walk, account=ACCOUNT_B), params


def test_a_cursor_page_with_the_carried_rest_reads_less_for_the_same_logs(world: World) -> None:
    """The rest of the bucket the first page ended in comes with the cursor: the second page does not read
    that bucket's matches again, and finds the same logs as a page that does."""
    query = LogQuery(ACCOUNT_B, NOW_MS - DAYS * DAY_MS, NOW_MS + 1, min_latency=_dense_bound(world))
    first = log_store.ordered_logs(query, skip=0, limit=2, reads=ReadStats(), now_ms=NOW_MS)
    assert first.has_more and first.bucket_rest, "the first page must end inside a bucket with more matches"
    after = Ordering("created_at", "desc").key(first.logs[-1])
    carried, again = ReadStats(), ReadStats()
    with_rest = log_store.ordered_logs(
        query, skip=0, limit=2, reads=carried, now_ms=NOW_MS, after=after, bucket_rest=first.bucket_rest
    )
    without = log_store.ordered_logs(query, skip=0, limit=2, reads=again, now_ms=NOW_MS, after=after)
    assert [log.id for log in with_rest.logs] == [log.id for log in without.logs]
    assert with_rest.has_more == without.has_more
    assert carried.items_read < again.items_read, (carried.items_read, again.items_read)


def test_a_bounded_walk_while_logs_arrive_returns_every_log_of_its_start_once_in_order(world: World) -> None:
    """Logs ingested between the pages, inside the bound, at any instant of the snapshot: every log present
    at the start exactly once, in order; a newcomer the walk meets is in its place (one landing in the
    rest of the bucket a cursor carries is not met: decisions §15)."""
    account, key = "acct_epsilon", "key_beta1"
    rng = random.Random(78)
    base = [{**m, "account_id": account} for m in sample_messages(ACCOUNT_B, count=400, days=DAYS, seed=65)]
    assert world.shared.ingest.messages(base) == []
    bound = sorted(m["latency_ms"] for m in base)[len(base) // 2]
    params = {"min_latency": bound, "limit": 3}
    ids: list[str] = []
    arrived: list[dict[str, Any]] = []
    cursor = None
    for page in range(200):
        response = world.shared.api.get(
            LIST, {**params, **({"cursor": cursor} if cursor else {})}, account=account, api_key_id=key
        )
        assert response.status == 200, response.body
        ids.extend(entry["id"] for entry in response.body["logs"])
        cursor = response.body["pagination"]["nextCursor"]
        if cursor is None:
            break
        newcomer = oracle.variant(
            rng.choice(base), f"req_bounded_arrival_{page}", NOW_MS - rng.randrange(DAYS * DAY_MS), latency_ms=bound + 1
        )
        assert world.shared.ingest.messages([newcomer]) == []
        arrived.append(newcomer)
    assert cursor is None, "the walk does not end"
    assert len(ids) == len(set(ids)), "a log was returned twice"
    present = {log_id(m) for m in base if m["latency_ms"] >= bound}
    assert present <= set(ids), "a log present at the start was skipped"
    met = [m for m in base + arrived if log_id(m) in set(ids)]
    assert ids == _expected(World(world.shared, met), params, account=account)


# ---------------------------------------------------------------- a walk while logs arrive


def test_logs_arriving_during_a_sorted_walk_are_neither_repeated_nor_skipped(world: World) -> None:
    """Logs ingested between the pages of a walk, at any value and any creation instant inside its
    snapshot: the walk returns every log present at its start exactly once, in order, and whichever of
    the newcomers it meets in their place (an account of its own: the module's data stays as it was)."""
    account, key = "acct_delta", "key_beta1"
    rng = random.Random(77)
    base = [{**m, "account_id": account} for m in sample_messages(ACCOUNT_B, count=60, days=DAYS, seed=64)]
    assert world.shared.ingest.messages(base) == []
    arrived: list[dict[str, Any]] = []
    for sort, order in (("cost", "desc"), ("latency", "asc"), ("tokens", "desc")):
        params = {"sort": sort, "order": order, "limit": 7}
        present = {log_id(m) for m in base + arrived}  # the earlier walks' newcomers are here to stay
        ids: list[str] = []
        cursor = None
        for page in range(40):
            response = world.shared.api.get(
                ENHANCED, {**params, **({"cursor": cursor} if cursor else {})}, account=account, api_key_id=key
            )
            assert response.status == 200, response.body
            ids.extend(entry["id"] for entry in response.body["logs"])
            cursor = response.body["pagination"]["nextCursor"]
            if cursor is None:
                break
            newcomers = [
                oracle.variant(
                    rng.choice(base), f"req_arrival_{sort}_{page}_{n}", NOW_MS - rng.randrange(DAYS * DAY_MS)
                )
                for n in range(2)
            ]
            assert world.shared.ingest.messages(newcomers) == []
            arrived += newcomers
        assert len(ids) == len(set(ids)), "a log was returned twice"
        assert present <= set(ids), "a log present at the start was skipped"
        met = [m for m in base + arrived if log_id(m) in set(ids)]
        assert ids == _expected(World(world.shared, met), params, account=account), (sort, order)


# ---------------------------------------------------------------- logs written before an index was partitioned anew


def test_logs_written_before_a_value_index_was_partitioned_anew_are_back_after_the_backfill(world: World) -> None:
    """Logs stored without a value index's partition attribute (written before the index was partitioned
    anew, decisions §35) are in none of its partitions: latency sorts and bounds miss them. The backfill
    gives them their partitions; a second run writes nothing (an account of its own: the module's data
    stays as it was)."""
    account = "acct_zeta"
    messages = [{**m, "account_id": account} for m in sample_messages(ACCOUNT_B, count=80, days=DAYS, seed=66)]
    assert world.shared.ingest.messages(messages) == []
    table, client = get_settings().logs_table, dynamodb()
    stored = [
        item
        for shard in range(LOG_SHARDS)
        for item in client.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": log_pk(account, shard)}},
        )["Items"]
    ]
    assert len(stored) == len(messages)
    stripped = stored[::3]
    for item in stripped:  # as a log written before latency_bucket_pk existed
        removed = ["latency_bucket_pk", *(["error_bucket_pk"] if item["status"]["S"] == "error" else [])]
        client.update_item(
            TableName=table, Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="REMOVE " + ", ".join(removed)
        )
    params = {"sort": "latency", "order": "asc", "limit": 9}
    expected = _expected(World(world.shared, messages), params, account=account)

    def walk() -> list[str]:
        return _walk(world, ENHANCED, params, account=account)

    assert len(walk()) == len(expected) - len(stripped)
    reads = ReadStats()
    first = log_store.backfill_value_partitions(account, NOW_MS - 90 * DAY_MS, NOW_MS + DAY_MS, reads)
    assert (first.logs, first.written) == (len(messages), len(stripped))
    assert reads.items_read == len(messages)  # one read of the account's logs
    assert walk() == expected
    for errors in ({"status": "error", "min_latency": 0}, {"status": "error", "sort": "latency", "order": "desc"}):
        walk_params = {**errors, "limit": 5}
        got = _walk(world, ENHANCED, walk_params, account=account)
        assert got == _expected(World(world.shared, messages), walk_params, account=account), errors
    again = log_store.backfill_value_partitions(account, NOW_MS - 90 * DAY_MS, NOW_MS + DAY_MS, ReadStats())
    assert (again.logs, again.written) == (len(messages), 0)
