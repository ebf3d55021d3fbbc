"""Key formats: log ids (deterministic, parseable, spread over shards) and sort-key ranges."""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter

import pytest

from request_logs.domain.ids import ACCOUNT_ID_PATTERN, API_KEY_ID_PATTERN, make_log_id
from request_logs.store.keys import (
    FOUR_HOURS,
    FUTURE_BUCKET,
    HALF_DAYS,
    LOG_SHARDS,
    ValueBuckets,
    content_object_key,
    content_pk,
    index_pk,
    log_key,
    log_pk,
    log_sk,
    sk_range,
)

CREATED = 1_795_176_000_123  # 2026-11-20T12:00:00.123Z


def test_log_id_is_created_time_and_a_digest_of_account_and_request() -> None:
    digest = hashlib.sha256(b"acct_alpha\x00req_123").hexdigest()[:16]
    assert make_log_id("acct_alpha", "req_123", CREATED) == f"log_{CREATED:011x}{digest}"
    assert re.fullmatch(r"log_[0-9a-f]{27}", make_log_id("acct_alpha", "req_123", CREATED))


def test_log_id_is_deterministic_and_scoped_to_the_account() -> None:
    assert make_log_id("acct_a", "req_1", CREATED) == make_log_id("acct_a", "req_1", CREATED)
    assert make_log_id("acct_a", "req_1", CREATED) != make_log_id("acct_b", "req_1", CREATED)
    assert make_log_id("acct_a", "req_1", CREATED) != make_log_id("acct_a", "req_2", CREATED)
    # No ambiguity from concatenation: ("acct_a", "b") and ("acct_ab", "") differ.
    assert make_log_id("acct_a", "bc", CREATED) != make_log_id("acct_ab", "c", CREATED)


def test_parse_log_id_round_trips() -> None:
    rng = random.Random(5)
    for position in range(500):
        created = rng.randrange(946_684_800_000, 9_999_999_999_999)
        log_id = make_log_id("acct_alpha", f"req_{position}", created)
        key = log_key(log_id)
        assert key is not None
        assert key.log_id == log_id
        assert key.created_ms == created
        assert key.shard == int(log_id[-16:], 16) % LOG_SHARDS
        assert 0 <= key.shard < LOG_SHARDS


@pytest.mark.parametrize(
    "log_id",
    [
        "",
        "log_",
        "log_abc123",
        "LOG_19a1f610de8577ab599d58ef533",
        "log_19A1F610DE8577AB599D58EF533",
        "log_19a1f610de8577ab599d58ef53",  # one short
        "log_19a1f610de8577ab599d58ef5330",  # one long
        "log_19a1f610de8577ab599d58ef53g",
        "xlog_19a1f610de8577ab599d58ef533",
        "log_19a1f610de8577ab599d58ef533\n",
        "../../etc/passwd",
        "log_١٩a1f610de8577ab599d58ef533",  # non-ASCII digits
    ],
)
def test_parse_log_id_rejects_malformed_ids(log_id: str) -> None:
    assert log_key(log_id) is None


def test_one_accounts_logs_spread_evenly_over_every_shard() -> None:
    count = 8000
    shards = Counter(log_key(make_log_id("acct_alpha", f"req_{n}", CREATED)).shard for n in range(count))
    assert set(shards) == set(range(LOG_SHARDS))
    fair = count / LOG_SHARDS
    assert all(abs(n - fair) < 0.1 * fair for n in shards.values()), shards
    # Logs created in the same millisecond spread too (the shard does not come from the time).
    same_instant = {log_key(make_log_id("acct_alpha", f"req_{n}", CREATED)).shard for n in range(64)}
    assert len(same_instant) == LOG_SHARDS


def test_sort_keys_order_like_created_then_id() -> None:
    rng = random.Random(6)
    pairs = []
    for position in range(500):
        created = rng.choice([CREATED, CREATED + 1, rng.randrange(946_684_800_000, 9_999_999_999_999)])
        pairs.append((created, make_log_id("acct_alpha", f"req_{position}", created)))
    assert sorted(pairs, key=lambda pair: log_sk(*pair)) == sorted(pairs)
    assert log_sk(5, "log_x") == "0000000000005#log_x"


def test_sk_range_includes_start_and_excludes_end() -> None:
    start, end = CREATED, CREATED + 60_000
    low, high = sk_range(start, end)

    def inside(created: int) -> bool:
        return low <= log_sk(created, make_log_id("acct_alpha", "req_range", created)) <= high

    assert not inside(start - 1)
    assert inside(start)
    assert inside(end - 1)
    assert not inside(end)


@pytest.mark.parametrize("buckets", [HALF_DAYS, FOUR_HOURS], ids=["half days", "four hours"])
def test_value_buckets_cover_a_range_with_every_bucket_holding_its_logs(buckets: ValueBuckets) -> None:
    rng = random.Random(11)
    for _ in range(200):
        start = CREATED + rng.randrange(-5 * buckets.width_ms, 5 * buckets.width_ms)
        end = start + rng.randrange(0, 4 * buckets.width_ms)
        covering = buckets.between(start, end)
        for created in (start, end - 1, rng.randrange(start, end) if end > start else start):
            if start <= created < end:
                assert buckets.of(created) in covering
                assert buckets.start(buckets.of(created)) <= created < buckets.start(buckets.of(created) + 1)
        assert all(buckets.start(b) < end and buckets.start(b + 1) > start for b in covering)
    assert len(buckets.between(CREATED, CREATED)) == 0 and buckets.partitions(CREATED, CREATED, now_ms=CREATED) == []


def test_value_bucket_partitions_are_spelled_apart_and_take_far_future_logs_aside() -> None:
    bucket = HALF_DAYS.of(CREATED)
    assert HALF_DAYS.pk("acct_a", bucket) == f"acct_a#b{bucket}"
    assert FOUR_HOURS.pk("acct_a", FOUR_HOURS.of(CREATED)) == f"acct_a#l{FOUR_HOURS.of(CREATED)}"
    assert FOUR_HOURS.pk("acct_a", FUTURE_BUCKET) == "acct_a#lfuture" != HALF_DAYS.pk("acct_a", FUTURE_BUCKET)
    assert {HALF_DAYS.pk("acct_a", b) for b in range(50)}.isdisjoint({FOUR_HOURS.pk("acct_a", b) for b in range(50)})
    # A gateway clock a day or less ahead keeps its bucket; further ahead, the future partition.
    day = 86_400_000
    assert FOUR_HOURS.of_log(CREATED + day, CREATED) == FOUR_HOURS.of(CREATED + day)
    assert FOUR_HOURS.of_log(CREATED + day + 1, CREATED) == FUTURE_BUCKET
    assert FOUR_HOURS.of_log(CREATED + 10 * day, None) == FOUR_HOURS.of(CREATED + 10 * day)
    # A read up to now opens the buckets up to a day ahead, then the future partition.
    partitions = FOUR_HOURS.partitions(CREATED - day, CREATED + 30 * day, now_ms=CREATED)
    assert partitions[-1] == FUTURE_BUCKET
    assert partitions[:-1] == list(FOUR_HOURS.between(CREATED - day, CREATED + day + 1))


def test_partition_keys_cannot_collide_across_accounts() -> None:
    # Account ids cannot hold '#', so "<account>#<shard>#<value>" is unambiguous even when value has one.
    assert re.fullmatch(ACCOUNT_ID_PATTERN, "acct_a#1") is None
    assert re.fullmatch(ACCOUNT_ID_PATTERN, "acct_alpha")
    assert re.fullmatch(API_KEY_ID_PATTERN, "key_alpha1")
    assert re.fullmatch(API_KEY_ID_PATTERN, "key_") is None
    assert index_pk("acct_a", 3, "openai/gpt-4o#x") == "acct_a#3#openai/gpt-4o#x"
    assert log_pk("acct_a", 3) != index_pk("acct_a", 3, "")
    assert content_pk("acct_a", "log_1") != content_pk("acct_b", "log_1")


def test_content_objects_live_under_the_account_and_log() -> None:
    assert content_object_key("acct_a", "log_1", "request") == "content/acct_a/log_1/request.json.gz"
