"""Attribution (issue 12, part 3): ``user`` and ``metadata`` on logs, filters on list and enhanced, stats
groupings with top N and ``other``, indexed keys declared per account, against brute force.

Account A indexes ``feature`` before its logs arrive and ``env`` after (backfill, then rebuilt rollups);
account B indexes ``feature`` too and sends the same values, so isolation is tested on equal values.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from request_logs.domain.filters import LogQuery, MetadataFilter
from request_logs.domain.reads import ReadStats
from request_logs.domain.rollups import DAY_MS
from request_logs.logic import accounts
from request_logs.logic.read_logs import list_request_logs
from request_logs.logic.rebuild import plan_rebuild, rebuild_stats
from tests.conftest import ACCOUNT_A, ACCOUNT_B, NOW, NOW_MS, ApiCaller, sample_messages
from tests.integration import oracle
from tests.integration.oracle import expected_cost, log_id
from tests.integration.shared_stack import SharedStack, aggregate_stream, shared_stack

LIST = "/api/account/request-logs"
ENHANCED = "/api/account/request-logs/enhanced"
STATS = "/api/account/request-logs/stats"
INGESTED_AT = NOW - timedelta(hours=2)
USERS = ["user_0001", "user_0002", "user_0003", "user_0004", "user_0005", "user_0006"]
FEATURES = ["chat", "search", "summarize", ""]  # "" is a value a customer may send and filter by
ACCOUNT_C = "acct_gamma"
START = oracle.iso(NOW_MS - 45 * DAY_MS)
END = oracle.iso(NOW_MS)


def attributed(messages: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Version-2 copies with a user (a few heavy ones, some none) and metadata (some without a key)."""
    rng = random.Random(seed)
    result = []
    for message in messages:
        # Our own attribution, whatever the demo generator gave the message.
        changed = {**{k: v for k, v in message.items() if k not in ("user", "metadata")}, "version": 2}
        if rng.random() < 0.8:
            changed["user"] = rng.choices(USERS, weights=[8, 5, 3, 2, 1, 1])[0]
        metadata = {}
        if rng.random() < 0.85:
            metadata["feature"] = rng.choice(FEATURES)
        if rng.random() < 0.7:
            metadata["env"] = rng.choice(["prod", "staging"])
        if rng.random() < 0.3:
            metadata["extra"] = "x"
        if metadata:
            changed["metadata"] = metadata
        result.append(changed)
    return result


@dataclass
class World:
    shared: SharedStack
    messages: list[dict[str, Any]]
    backfill: accounts.Backfill


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    a = attributed(sample_messages(ACCOUNT_A, count=220, days=40, seed=71, error_rate=0.15), seed=1)
    b = attributed(sample_messages(ACCOUNT_B, count=60, days=40, seed=72), seed=2)
    with shared_stack() as shared:
        accounts.create_account("Alpha", ACCOUNT_A)
        accounts.create_account("Beta", ACCOUNT_B)
        assert accounts.index_metadata_key(ACCOUNT_A, "feature") == 1
        assert accounts.index_metadata_key(ACCOUNT_B, "feature") == 1
        with time_machine.travel(INGESTED_AT, tick=False):
            assert shared.ingest.messages(a + b) == []
            aggregate_stream(shared.api.functions, shared.stack)
        # Declared once the logs exist: the backfill indexes them, the rebuild adds the key's rollups.
        assert accounts.index_metadata_key(ACCOUNT_A, "env") == 2
        backfill = accounts.backfill_metadata_key(ACCOUNT_A, "env", now_ms=NOW_MS)
        first_day = NOW_MS - NOW_MS % DAY_MS - 41 * DAY_MS
        rebuild_stats(
            plan_rebuild(ACCOUNT_A, first_day, NOW_MS + DAY_MS, now_ms=NOW_MS, settle_seconds=0, force=True),
            now_ms=NOW_MS,
        )
        yield World(shared, a + b, backfill)


# ---------------------------------------------------------------- brute force


def matching(messages: list[dict[str, Any]], account: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The logs the account may see for ``params``, attribution filters included, newest first."""
    plain = {name: value for name, value in params.items() if name != "user" and not name.startswith("metadata.")}
    wanted = {name[len("metadata.") :]: value for name, value in params.items() if name.startswith("metadata.")}
    return [
        m
        for m in oracle.expected_for_params(messages, account, NOW_MS, plain)
        if ("user" not in params or m.get("user") == params["user"])
        and all((m.get("metadata") or {}).get(key) == value for key, value in wanted.items())
    ]


def walk(api: ApiCaller, path: str, params: dict[str, Any], account: str = ACCOUNT_A) -> tuple[list[dict], dict]:
    """Every page through the cursor: the logs in order, and the first page's body."""
    key = "key_alpha1" if account == ACCOUNT_A else "key_beta1"
    first = api.get(path, {**params, "limit": 7}, account=account, api_key_id=key)
    assert first.status == 200, first.body
    logs, body = list(first.body["logs"]), first.body
    while body["pagination"]["nextCursor"]:
        body = api.get(
            path, {**params, "limit": 7, "cursor": body["pagination"]["nextCursor"]}, account=account, api_key_id=key
        ).body
        logs += body["logs"]
    return logs, first.body


FILTERS: list[dict[str, Any]] = [
    {"user": "user_0002"},
    {"metadata.feature": "search"},
    {"metadata.feature": ""},
    {"metadata.env": "staging"},  # backfilled
    {"metadata.feature": "chat", "metadata.env": "prod"},
    {"user": "user_0001", "metadata.feature": "chat"},
    {"user": "user_0001", "status": "error"},
    {"metadata.feature": "summarize", "model": "openai/gpt-4o"},
    {"metadata.feature": "chat", "min_latency": 900},
    {"user": "user_0003", "start_date": oracle.iso(NOW_MS - 20 * DAY_MS), "end_date": oracle.iso(NOW_MS - DAY_MS)},
]


@pytest.mark.parametrize("params", FILTERS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_list_and_enhanced_filter_by_user_and_metadata_like_brute_force(world: World, params: dict[str, Any]) -> None:
    expected = matching(world.messages, ACCOUNT_A, params)
    assert expected, "the case must match something"
    for path in (LIST, ENHANCED):
        logs, first = walk(world.shared.api, path, params)
        assert [entry["id"] for entry in logs] == [log_id(m) for m in expected], path
        assert first["pagination"]["total"] == len(expected)
    _, enhanced = walk(world.shared.api, ENHANCED, params)
    assert enhanced["summary"]["requests"] == len(expected)
    assert oracle.stated_cost(enhanced["summary"]["total_cost"]) == oracle.expected_set_cost(
        [expected_cost(m) for m in expected]
    )


@pytest.mark.parametrize("sort", ["cost", "latency", "tokens"])
def test_attribution_filters_with_a_sort_return_exactly_the_matches_in_order(world: World, sort: str) -> None:
    params = {"metadata.feature": "chat", "user": "user_0001", "sort": sort, "order": "desc"}
    expected = matching(world.messages, ACCOUNT_A, params)
    logs, first = walk(world.shared.api, ENHANCED, params)
    assert sorted(entry["id"] for entry in logs) == sorted(log_id(m) for m in expected)
    assert first["pagination"]["total"] == len(expected)
    values = {
        "cost": lambda e: -1 if e["cost"] is None else e["cost"]["total"],
        "latency": lambda e: e["latency_ms"],
        "tokens": lambda e: e["total_tokens"],
    }[sort]
    ranked = [values(entry) for entry in logs if sort != "cost" or entry["cost"] is not None]
    assert ranked == sorted(ranked, reverse=True)


def test_logs_show_user_and_metadata(world: World) -> None:
    api = world.shared.api
    with_both = next(m for m in world.messages if m["account_id"] == ACCOUNT_A and "user" in m and "metadata" in m)
    without = next(
        m for m in world.messages if m["account_id"] == ACCOUNT_A and "user" not in m and "metadata" not in m
    )
    shown = api.get(f"{LIST}/{log_id(with_both)}").body
    assert (shown["user"], shown["metadata"]) == (with_both["user"], with_both["metadata"])
    shown = api.get(f"{LIST}/{log_id(without)}").body
    assert (shown["user"], shown["metadata"]) == (None, {})
    enhanced = {entry["id"]: entry for entry in walk(api, ENHANCED, {"start_date": START})[0]}
    for message in (with_both, without):
        entry = enhanced[log_id(message)]
        assert (entry["user"], entry["metadata"]) == (message.get("user"), message.get("metadata", {}))


def test_a_single_attribution_filter_reads_about_its_page(world: World) -> None:
    """Through the slot's index: items read follow the page, not the account's logs."""
    query = LogQuery(ACCOUNT_A, NOW_MS - 45 * DAY_MS, NOW_MS, metadata=(MetadataFilter("feature", "search"),))
    reads = ReadStats()
    page = list_request_logs(query, limit=5, offset=0, cursor=None, now_ms=NOW_MS, reads=reads)
    assert len(page.logs) == 5
    matched = len(matching(world.messages, ACCOUNT_A, {"metadata.feature": "search", "start_date": START}))
    # Its logs were all ingested late, so the total comes from the matching logs (rollups answer it once
    # settled: bench metadata_filter_read_amplification); plus the page's candidates, the page from the
    # table and the account: in proportion to the matches, never to the account's other logs.
    assert reads.items_read <= 2 * matched + 2 * 8
    assert matched < sum(1 for m in world.messages if m["account_id"] == ACCOUNT_A) / 3


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("params", "param", "says"),
    [
        ({"metadata.extra": "x"}, "metadata.extra", "Indexed keys: env, feature."),
        ({"metadata.bad!key": "x"}, "metadata.bad!key", "metadata key"),
        ({"metadata.feature": "x" * 257}, "metadata.feature", "256"),
        ({"user": ""}, "user", ""),
        ({"metadatafeature": "x"}, "metadatafeature", "Unknown query parameter"),
    ],
)
def test_bad_attribution_filters_are_400_naming_the_parameter(
    world: World, params: dict[str, str], param: str, says: str
) -> None:
    for path in (LIST, ENHANCED):
        response = world.shared.api.get(path, params)
        assert response.status == 400, response.body
        assert response.body["error"]["type"] == "invalid_request_error"
        assert response.body["error"]["param"] == param
        assert says in response.body["error"]["message"]


def test_grouping_by_an_undeclared_key_is_400_listing_the_indexed_keys(world: World) -> None:
    api = world.shared.api
    response = api.get(STATS, {"group_by": "metadata.extra"})
    assert response.status == 400
    assert response.body["error"]["param"] == "group_by"
    assert "Indexed keys: env, feature." in response.body["error"]["message"]
    # B indexes feature alone: A's env is not B's.
    response = api.get(STATS, {"group_by": "metadata.env"}, account=ACCOUNT_B, api_key_id="key_beta1")
    assert response.status == 400 and "Indexed keys: feature." in response.body["error"]["message"]
    for bad in ({"group_by": "metadata.a=b"}, {"group_by": "user", "limit": 0}, {"group_by": "user", "limit": 101}):
        assert api.get(STATS, bad).status == 400, bad


# ---------------------------------------------------------------- stats


def _group_truth(messages: list[dict[str, Any]], value_of: Any) -> dict[Any, list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for message in messages:
        groups.setdefault(value_of(message), []).append(message)
    return groups


def _check_entry(entry: dict[str, Any], logs: list[dict[str, Any]]) -> None:
    assert entry["requests"] == len(logs)
    assert entry["failed"] == sum(1 for m in logs if m["status"] == "error")
    assert entry["input_tokens"] == sum(m["input_tokens"] for m in logs)
    assert oracle.stated_cost(entry["cost"]) == oracle.expected_set_cost([expected_cost(m) for m in logs])


@pytest.mark.parametrize(
    ("group", "key_of", "limit"),
    [
        ("user", lambda m: m.get("user"), 2),
        ("user", lambda m: m.get("user"), None),
        ("metadata.feature", lambda m: (m.get("metadata") or {}).get("feature"), 2),
        ("metadata.feature", lambda m: (m.get("metadata") or {}).get("feature"), None),
        ("metadata.env", lambda m: (m.get("metadata") or {}).get("env"), 1),
    ],
)
@pytest.mark.parametrize(
    "window",
    [
        {"start_date": START, "end_date": END},
        # Edges inside hours (raw logs) and local days.
        {"start_date": "2026-10-25T03:17:00Z", "end_date": "2026-11-18T19:41:00Z", "tz": "Asia/Kathmandu"},
    ],
    ids=["whole", "edges"],
)
def test_group_by_attribution_gives_top_n_then_absent_then_other_adding_up_to_the_totals(
    world: World, group: str, key_of: Any, limit: int | None, window: dict[str, str]
) -> None:
    params: dict[str, Any] = {**window, "group_by": group}
    if limit is not None:
        params["limit"] = limit
    response = world.shared.api.get(STATS, params)
    assert response.status == 200, response.body
    start, end = oracle.instant_ms(response.body["range"]["start"]), oracle.instant_ms(response.body["range"]["end"])
    logs = [
        m
        for m in world.messages
        if m["account_id"] == ACCOUNT_A and start <= oracle.created_ms(m) < end and oracle.retained(m, NOW_MS)
    ]
    truth = _group_truth(logs, key_of)
    ranked = sorted((value for value in truth if value is not None), key=lambda v: (-len(truth[v]), v))
    top = ranked[: limit or 10]
    entries = response.body["by_user" if group == "user" else "by_metadata"]
    name = "user" if group == "user" else "value"
    shown = [(entry[name], entry["other"]) for entry in entries]
    expected = [(value, False) for value in top]
    if None in truth:
        expected.append((None, False))
    if len(ranked) > len(top):
        expected.append((None, True))
    assert shown == expected
    for entry in entries:
        if entry["other"]:
            rest = ranked[len(top) :]
            assert entry["other_groups"] == len(rest)
            _check_entry(entry, [m for value in rest for m in truth[value]])
        else:
            assert "other_groups" not in entry
            _check_entry(entry, truth[entry[name]])
        if group != "user":
            assert entry["key"] == group.removeprefix("metadata.")
    assert sum(entry["requests"] for entry in entries) == response.body["stats"]["total_requests"] == len(logs)


def test_attribution_grouping_reads_buckets_times_groups_not_logs(world: World) -> None:
    from request_logs.logic.stats import get_request_log_stats

    reads = ReadStats()
    get_request_log_stats(
        ACCOUNT_A,
        NOW_MS - NOW_MS % DAY_MS - 30 * DAY_MS,
        NOW_MS - NOW_MS % DAY_MS,
        ("user",),
        now_ms=NOW_MS,
        reads=reads,
    )
    # 30 day items per user (6 and the absent) and per model (by_model is always answered), the account's
    # progress: never the logs.
    models = len({m["model"] for m in world.messages if m["account_id"] == ACCOUNT_A})
    assert reads.items_read <= 30 * (len(USERS) + 1 + models) + 2


# ---------------------------------------------------------------- isolation


def test_another_account_never_sees_equal_metadata_values(world: World) -> None:
    api = world.shared.api
    params = {"metadata.feature": "chat", "start_date": START}
    mine = {log_id(m) for m in matching(world.messages, ACCOUNT_B, params)}
    assert mine and {log_id(m) for m in matching(world.messages, ACCOUNT_A, params)}
    for path in (LIST, ENHANCED):
        logs, first = walk(api, path, params, account=ACCOUNT_B)
        assert {entry["id"] for entry in logs} == mine
        assert first["pagination"]["total"] == len(mine)
    stats = api.get(
        STATS, {"group_by": "metadata.feature", "start_date": START}, account=ACCOUNT_B, api_key_id="key_beta1"
    ).body
    counts = Counter(
        (m.get("metadata") or {}).get("feature") for m in matching(world.messages, ACCOUNT_B, {"start_date": START})
    )
    assert {entry["value"]: entry["requests"] for entry in stats["by_metadata"]} == dict(counts)
    by_user = api.get(STATS, {"group_by": "user", "start_date": START}, account=ACCOUNT_B, api_key_id="key_beta1")
    assert sum(entry["requests"] for entry in by_user.body["by_user"]) == sum(counts.values())


# ---------------------------------------------------------------- declaring keys


def test_declaring_a_key_after_its_logs_backfills_them_once(world: World) -> None:
    carrying = [m for m in world.messages if m["account_id"] == ACCOUNT_A and "env" in (m.get("metadata") or {})]
    assert world.backfill.carrying == world.backfill.written == len(carrying)
    again = accounts.backfill_metadata_key(ACCOUNT_A, "env", now_ms=NOW_MS)
    assert (again.carrying, again.written) == (len(carrying), 0)


def test_a_sixth_key_is_refused_and_a_reused_slot_never_matches_the_old_key(
    world: World, ingest_c: list[dict[str, Any]]
) -> None:
    api = world.shared.api
    for position in range(1, 5):
        accounts.index_metadata_key(ACCOUNT_C, f"k{position}")
    with pytest.raises(accounts.MetadataKeyRefused, match="already indexes 5 metadata keys"):
        accounts.index_metadata_key(ACCOUNT_C, "k6")
    assert accounts.unindex_metadata_key(ACCOUNT_C, "old") == 1
    assert accounts.index_metadata_key(ACCOUNT_C, "k6") == 1  # the old key's slot
    # The logs indexed under "old" in slot 1 hold "old=v" in their key: k6=v matches none of them.
    response = api.get(LIST, {"metadata.k6": "v", "start_date": START}, account=ACCOUNT_C)
    assert response.status == 200 and response.body["logs"] == []
    response = api.get(LIST, {"metadata.old": "v"}, account=ACCOUNT_C)
    assert response.status == 400 and "k1, k2, k3, k4, k6" in response.body["error"]["message"]
    with pytest.raises(accounts.MetadataKeyRefused, match="does not index"):
        accounts.unindex_metadata_key(ACCOUNT_C, "old")
    with pytest.raises(accounts.MetadataKeyRefused, match="not a metadata key"):
        accounts.index_metadata_key(ACCOUNT_C, "a.b")


@pytest.fixture
def ingest_c(world: World) -> list[dict[str, Any]]:
    """Account C, indexing ``old`` in slot 1, with logs carrying old=v."""
    accounts.create_account("Gamma", ACCOUNT_C)
    assert accounts.index_metadata_key(ACCOUNT_C, "old") == 1
    messages = [
        {**m, "account_id": ACCOUNT_C, "version": 2, "metadata": {"old": "v", "k6": "w"}}
        for m in sample_messages(ACCOUNT_B, count=10, days=5, seed=73)
    ]
    assert world.shared.ingest.messages(messages) == []
    assert len(walk(world.shared.api, LIST, {"metadata.old": "v"}, account=ACCOUNT_C)[0]) == 10
    return messages
