"""Rollups: which items a log belongs to, folding logs, merging folds, and the bounded embedded groups."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest

from request_logs.domain import rollups
from request_logs.domain.ids import make_log_id
from request_logs.domain.log import RequestLog
from request_logs.domain.rollups import (
    DAY_MS,
    EMBEDDED_GROUPS,
    HOUR_MS,
    MAX_EMBEDDED_GROUP_BYTES,
    MAX_EMBEDDED_GROUPS,
    SKETCHED_GROUPS,
    Counters,
    Rollup,
    RollupKey,
    bucket_start,
    embedded_sketches,
    rollup_keys_for,
)
from request_logs.domain.sketches import Sketch

T0 = 1_794_960_000_000  # 2026-11-19T00:00:00Z


def log(position: int = 0, **changes: object) -> RequestLog:
    created = T0 + 13 * HOUR_MS + position * 60_000
    base = RequestLog(
        id=make_log_id("acct_unit", f"req_{position}", created),
        account_id="acct_unit",
        request_id=f"req_{position}",
        api_key_id="key_unit1",
        api_key_prefix="sk-UNIT...",
        model="openai/gpt-4o",
        provider="openai",
        endpoint="/v1/chat/completions",
        method="POST",
        status="success",
        status_code=200,
        created_ms=created,
        completed_ms=created + 900,
        latency_ms=900,
        input_tokens=100,
        output_tokens=50,
        streaming=True,
        ttft_ms=120,
        cost_input=Decimal("0.00025"),
        cost_output=Decimal("0.0005"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_bucket_start_floors_to_the_hour_and_the_utc_day() -> None:
    instant = T0 + 13 * HOUR_MS + 59 * 60_000 + 999
    assert bucket_start(instant, "hour") == T0 + 13 * HOUR_MS
    assert bucket_start(instant, "day") == T0
    assert bucket_start(T0, "day") == T0


def test_a_log_belongs_to_eleven_items_hour_and_day_by_every_dimension_and_its_quarter_hour() -> None:
    entry = log(model="anthropic/claude-sonnet-4", provider="anthropic", api_key_id="key_unit2")
    hour = T0 + 13 * HOUR_MS
    quarter = entry.created_ms - entry.created_ms % (HOUR_MS // 4)
    assert hour <= quarter < hour + HOUR_MS
    assert sorted(rollup_keys_for(entry)) == sorted(
        [
            *(
                RollupKey("acct_unit", granularity, bucket, dimension, value)
                for granularity, bucket in (("hour", hour), ("day", T0))
                for dimension, value in (
                    ("all", ""),
                    ("model", "anthropic/claude-sonnet-4"),
                    ("provider", "anthropic"),
                    ("api_key", "key_unit2"),
                    ("user", ""),  # no user: the absent value, so user entries add up to the totals
                )
            ),
            RollupKey("acct_unit", "quarter", quarter, "all", ""),
        ]
    )


def test_counters_fold_success_failure_tokens_cost_and_the_unpriced() -> None:
    counters = Counters()
    counters.add_log(log(0))
    counters.add_log(log(1, status="error", status_code=429, output_tokens=0, latency_ms=30, ttft_ms=None))
    counters.add_log(log(2, cost_input=None, cost_output=None, model="deepseek/deepseek-r1"))
    cached = log(
        3,
        cached_input_tokens=60,
        cache_creation_input_tokens=10,
        reasoning_tokens=20,
        cost_input=Decimal("0.0002"),
        cost_cached_input=Decimal("0.00006"),
        cost_cache_creation_input=Decimal("0.00003"),
        cost_reasoning=Decimal("0.0001"),
    )
    counters.add_log(cached)
    assert counters == Counters(
        requests=4,
        successful=3,
        failed=1,
        input_tokens=400,
        output_tokens=150,
        cost=Decimal("0.0022"),
        unpriced=1,
        latency_sum=2730,
        cached_input_tokens=60,
        cache_creation_input_tokens=10,
        reasoning_tokens=20,
        input_cost=Decimal("0.0007"),
        output_cost=Decimal("0.0015"),
        cached_input_cost=Decimal("0.00006"),
        cache_creation_input_cost=Decimal("0.00003"),
        reasoning_cost=Decimal("0.0001"),
    )
    assert counters.total_tokens == 550
    assert counters.cost_split_known
    assert counters.priced_part("reasoning") == Decimal("0.0001")
    assert Counters.from_dict(counters.to_dict()) == counters


def test_a_cost_without_its_split_leaves_the_components_unknown() -> None:
    counters = Counters()
    counters.add_log(log(0))
    # A log stored before components were: its cost is known, its input/output split is not.
    counters.add(succeeded=True, input_tokens=1, output_tokens=1, cost=Decimal("0.5"), latency_ms=1)
    assert counters.cost == Decimal("0.50075")
    assert not counters.cost_split_known
    assert counters.priced_part("input") is None and counters.priced_part("cached_input") is None


def test_stored_counters_leave_out_components_that_are_zero() -> None:
    counters = Counters()
    counters.add_log(log(0))
    stored = counters.to_dict()
    assert "reasoning_tokens" not in stored and "cached_input_cost" not in stored
    assert stored["input_cost"] == Decimal("0.00025")
    assert Counters.from_dict(stored) == counters


def test_folding_then_merging_equals_folding_everything() -> None:
    rng = random.Random(3)
    logs = [
        log(
            position,
            model=rng.choice(["openai/gpt-4o", "groq/llama", "google/gemini"]),
            provider=rng.choice(["openai", "groq", "google"]),
            latency_ms=rng.randrange(0, 90_000),
            ttft_ms=rng.choice([None, rng.randrange(0, 3_000)]),
            status=rng.choice(["success", "error"]),
        )
        for position in range(200)
    ]
    whole = Rollup()
    for entry in logs:
        whole.add_log(entry, groups=EMBEDDED_GROUPS)
    parts = [Rollup(), Rollup(), Rollup()]
    for position, entry in enumerate(logs):
        parts[position % 3].add_log(entry, groups=EMBEDDED_GROUPS)
    merged = Rollup()
    for part in parts:
        merged.merge(part)
    assert merged == whole
    assert whole.latency == Sketch.of(entry.latency_ms for entry in logs)
    assert whole.ttft == Sketch.of(entry.ttft_ms for entry in logs if entry.ttft_ms is not None)
    assert set(whole.groups["model"]) == {entry.model for entry in logs}
    assert sum(c.requests for c in whole.groups["provider"].values()) == 200
    assert not whole.groups_overflow


def test_only_the_all_dimension_embeds_groups() -> None:
    rollup = Rollup()
    rollup.add_log(log(), groups=())
    assert rollup.groups == {}
    rollup.add_log(log(), groups=EMBEDDED_GROUPS)
    assert rollup.groups["model"]["openai/gpt-4o"].requests == 1
    assert rollup.groups["provider"]["openai"].requests == 1
    assert rollup.groups["status"]["success"].requests == 1


def test_the_embedded_status_counters_add_up_to_the_item_even_when_another_map_overflowed() -> None:
    """Readers trust the status map only when its requests add up to the item's: they must, whatever the
    model map does (status has no per-dimension items to fall back on)."""
    rollup = Rollup()
    for position in range(MAX_EMBEDDED_GROUPS + 20):
        failed = position % 7 == 0
        entry = log(position, model=f"m{position}", status="error" if failed else "success", output_tokens=position)
        rollup.add_log(entry, groups=EMBEDDED_GROUPS)
    assert rollup.groups_overflow
    status = rollup.groups["status"]
    assert sum(counters.requests for counters in status.values()) == rollup.counters.requests
    assert status["error"].requests == len(range(0, MAX_EMBEDDED_GROUPS + 20, 7)) == rollup.counters.failed
    assert status["success"].successful == status["success"].requests == rollup.counters.successful
    combined = Counters()
    for counters in status.values():
        combined.merge(counters)
    assert combined == rollup.counters


def test_embedded_groups_stop_at_the_entry_bound_and_say_so() -> None:
    rollup = Rollup()
    for position in range(MAX_EMBEDDED_GROUPS + 5):
        rollup.add_log(log(position, model=f"m{position}"), groups=EMBEDDED_GROUPS)
    assert len(rollup.groups["model"]) == MAX_EMBEDDED_GROUPS
    assert rollup.groups_overflow
    # Values already embedded keep counting after the overflow.
    rollup.add_log(log(999, model="m0"), groups=EMBEDDED_GROUPS)
    assert rollup.groups["model"]["m0"].requests == 2
    assert "m300" not in rollup.groups["model"]


def test_embedded_groups_stop_at_the_byte_bound_and_say_so() -> None:
    """A name may be 256 four-byte characters: the bound on bytes overflows long before the count does."""
    longest = [chr(0x10000 + n) * 256 for n in range(40)]
    rollup = Rollup()
    for position, name in enumerate(longest):
        rollup.add_log(log(position, provider=name), groups=EMBEDDED_GROUPS)
    embedded = rollup.groups["provider"]
    assert rollup.groups_overflow
    assert len(embedded) == MAX_EMBEDDED_GROUP_BYTES // 1024
    assert sum(len(name.encode()) for name in embedded) <= MAX_EMBEDDED_GROUP_BYTES


@pytest.mark.parametrize("overflowed", [False, True])
def test_overflow_survives_merging(overflowed: bool) -> None:
    source = Rollup(groups_overflow=overflowed)
    target = Rollup()
    target.merge(source)
    assert target.groups_overflow is overflowed
    target.merge(Rollup())
    assert target.groups_overflow is overflowed


def test_a_day_is_the_merge_of_its_hours() -> None:
    logs = [log(position * 4) for position in range(150)]  # 150 logs over the last ten hours of a day
    assert len({bucket_start(entry.created_ms, "hour") for entry in logs}) == 10
    assert {bucket_start(entry.created_ms, "day") for entry in logs} == {T0}
    hours: dict[int, Rollup] = {}
    day = Rollup()
    for entry in logs:
        hours.setdefault(bucket_start(entry.created_ms, "hour"), Rollup()).add_log(entry, groups=EMBEDDED_GROUPS)
        day.add_log(entry, groups=EMBEDDED_GROUPS)
    merged = Rollup()
    for hour in hours.values():
        merged.merge(hour)
    assert merged == day
    assert DAY_MS == 24 * HOUR_MS


def test_attribution_dimensions_mark_values_and_count_the_absent() -> None:
    entry = replace(log(), user="user_1", metadata={"feature": "", "env": "prod"})
    keys = {(key.dimension, key.value) for key in rollup_keys_for(entry, ("feature", "team"))}
    # "" is a real metadata value: stored marked, never as the absent value (the logs without the key).
    assert {("user", "=user_1"), ("metadata.feature", "="), ("metadata.team", "")} <= keys
    # Only indexed keys have a dimension, hours and days only.
    assert not any(dimension == "metadata.env" for dimension, _ in keys)
    assert {key.granularity for key in rollup_keys_for(entry, ("feature",)) if key.dimension != "all"} == {
        "hour",
        "day",
    }


# ---------------------------------------------------------------- embedded per-model sketches


def _models(count: int, per_model: int, *, spread: int = 1) -> list[RequestLog]:
    return [
        log(n * count + m, model=f"vendor/m{m}", latency_ms=100 + (n * 37 + m * 11) * spread)
        for n in range(per_model)
        for m in range(count)
    ]


def test_only_all_hour_and_day_items_embed_model_sketches() -> None:
    for granularity in ("hour", "day"):
        assert embedded_sketches(RollupKey("acct_unit", granularity, T0, "all", "")) == SKETCHED_GROUPS
    assert embedded_sketches(RollupKey("acct_unit", "quarter", T0, "all", "")) == ()
    assert embedded_sketches(RollupKey("acct_unit", "day", T0, "model", "openai/gpt-4o")) == ()


def test_the_model_breakdown_equals_each_models_own_fold() -> None:
    logs = _models(count=6, per_model=40)
    whole = Rollup()
    for entry in logs:
        whole.add_log(entry, groups=EMBEDDED_GROUPS, sketched=SKETCHED_GROUPS)
    breakdown = whole.group_breakdown("model")
    assert breakdown is not None and set(breakdown) == {entry.model for entry in logs}
    for model, rollup in breakdown.items():
        own = Rollup()
        for entry in logs:
            if entry.model == model:
                own.add_log(entry, groups=())
        assert rollup.counters == own.counters
        assert rollup.latency == own.latency


def test_merged_parts_give_the_same_breakdown_as_one_fold() -> None:
    logs = _models(count=4, per_model=30)
    whole, parts = Rollup(), [Rollup(), Rollup()]
    for position, entry in enumerate(logs):
        whole.add_log(entry, groups=EMBEDDED_GROUPS, sketched=SKETCHED_GROUPS)
        parts[position % 2].add_log(entry, groups=EMBEDDED_GROUPS, sketched=SKETCHED_GROUPS)
    merged = Rollup()
    for part in parts:
        merged.merge(part)
    assert merged.group_breakdown("model") == whole.group_breakdown("model")


def test_sketches_covering_fewer_logs_than_the_counters_give_no_breakdown() -> None:
    """An item aggregated before sketches were embedded: its later sketches miss the earlier logs."""
    earlier, later = _models(count=3, per_model=5), _models(count=3, per_model=5)[:4]
    rollup = Rollup()
    for entry in earlier:
        rollup.add_log(entry, groups=EMBEDDED_GROUPS)
    assert rollup.group_breakdown("model") is None
    for entry in later:
        rollup.add_log(entry, groups=EMBEDDED_GROUPS, sketched=SKETCHED_GROUPS)
    assert rollup.group_latency and rollup.group_breakdown("model") is None


def test_sketches_past_their_bin_bound_are_dropped_for_good(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rollups, "MAX_EMBEDDED_SKETCH_BINS", 50)
    rollup = Rollup()
    for entry in _models(count=3, per_model=40, spread=50):  # latencies far apart: a bin each
        rollup.add_log(entry, groups=EMBEDDED_GROUPS, sketched=SKETCHED_GROUPS)
    assert rollup.sketches_overflow and rollup.group_latency == {}
    assert rollup.group_breakdown("model") is None
    later = Rollup()
    later.add_log(log(0), groups=EMBEDDED_GROUPS, sketched=SKETCHED_GROUPS)
    later.merge(rollup)
    assert later.sketches_overflow and later.group_latency == {}


def test_an_overflowed_group_map_drops_the_sketches() -> None:
    rollup = Rollup()
    for position in range(MAX_EMBEDDED_GROUPS + 1):
        rollup.add_log(log(position, model=f"m{position}"), groups=EMBEDDED_GROUPS, sketched=SKETCHED_GROUPS)
    assert rollup.groups_overflow and rollup.sketches_overflow and rollup.group_latency == {}
