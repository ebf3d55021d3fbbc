"""The stored forms of a log and of a rollup: what DynamoDB bills by the byte is written once, and reads
back to exactly what was written (and items written in an earlier form still read back)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from request_logs.domain.counters import Counters
from request_logs.domain.log import RequestLog
from request_logs.domain.pricing import CURRENT_CATALOG, TokenUsage, catalog_prices_applied, price_request
from request_logs.domain.rollups import Rollup, RollupKey
from request_logs.store import keys
from request_logs.store.dynamo import from_attributes, to_attributes
from request_logs.store.items import log_from_item, log_to_item
from request_logs.store.stats import StoredRollup, from_item, to_item
from tests.unit.test_rollups import log

CATALOG_DIR = Path(__file__).parents[2] / "layers/shared/request_logs/domain/catalogs"
# A catalog, once released, is what its logs' prices are read back from (they store its version, not the
# prices): a change to a released file would change the prices of logs already written. Release a new
# version instead, and add its digest here.
RELEASED_CATALOGS = {
    "2026-11-01": "26ca1db0d2a8ab12eac75b47783b638efd7feee109da3cc66f868f6e442841f8",
    "2026-12-01": "b05967017dcdd13490b5b5990da0d45fef1c32a32a879571ff46d66e42a82652",
}


def _catalog_priced(model: str = "anthropic/claude-sonnet-4", input_tokens: int = 1_000, **usage: int) -> RequestLog:
    tokens = TokenUsage(input=input_tokens, output=200, **usage)
    priced = price_request(model, tokens, None)
    assert priced.cost is not None
    prices = priced.cost.prices
    return log(
        model=model,
        input_tokens=input_tokens,
        output_tokens=200,
        cost_input=priced.cost.input,
        cost_output=priced.cost.output,
        price_input_per_million=prices.input_per_million,
        price_output_per_million=prices.output_per_million,
        price_cached_input_per_million=prices.cached_input_per_million,
        price_cache_creation_input_per_million=prices.cache_creation_input_per_million,
        price_reasoning_per_million=prices.reasoning_per_million,
        price_tier_above_input_tokens=prices.above_input_tokens,
        cost_source="catalog",
        catalog_version=priced.catalog_version,
    )


def _round_trip_log(item: dict[str, Any]) -> RequestLog:
    return log_from_item(from_attributes(to_attributes(item)))


@pytest.mark.parametrize("version", sorted(RELEASED_CATALOGS))
def test_a_released_catalog_never_changes(version: str) -> None:
    digest = hashlib.sha256((CATALOG_DIR / f"{version}.json").read_bytes()).hexdigest()
    assert digest == RELEASED_CATALOGS[version], f"{version} changed: release a new version instead"


def test_every_shipped_catalog_is_pinned_as_released() -> None:
    assert {path.stem for path in CATALOG_DIR.glob("*.json")} == set(RELEASED_CATALOGS)
    assert CURRENT_CATALOG in RELEASED_CATALOGS


@pytest.mark.parametrize("input_tokens", [1_000, 200_000, 200_001])  # the long-context tier starts above 200,000
def test_a_catalog_priced_log_stores_its_prices_by_reference_and_reads_them_back(input_tokens: int) -> None:
    priced = _catalog_priced(input_tokens=input_tokens)
    item = log_to_item(priced)
    assert not [name for name in item if name.startswith("price_")]
    assert item["catalog_version"] == CURRENT_CATALOG
    assert _round_trip_log(item) == priced


def test_prices_the_catalog_does_not_give_back_are_stored() -> None:
    priced = _catalog_priced()
    changed = replace(priced, price_input_per_million=Decimal("123.45"))
    unknown = replace(priced, catalog_version="2020-01-01")
    for stored in (changed, unknown):
        item = log_to_item(stored)
        assert item["price_input_per_million"] == stored.price_input_per_million
        assert _round_trip_log(item) == stored


def test_gateway_priced_logs_keep_their_prices() -> None:
    gateway = replace(_catalog_priced(), cost_source="gateway", catalog_version=None)
    item = log_to_item(gateway)
    assert item["price_output_per_million"] == gateway.price_output_per_million
    assert _round_trip_log(item) == gateway


def test_a_log_item_written_with_its_prices_still_reads_back() -> None:
    priced = _catalog_priced()
    item = log_to_item(priced)
    older = {**item, "price_input_per_million": Decimal("9.99")}  # as an item written before references
    assert log_from_item(older).price_input_per_million == Decimal("9.99")


def test_catalog_prices_of_an_unknown_version_or_model_are_none() -> None:
    assert catalog_prices_applied("2020-01-01", "openai/gpt-4o", 10) is None
    assert catalog_prices_applied(CURRENT_CATALOG, "deepseek/deepseek-r1", 10) is None


def _stored_rollup(value: str = "openai/gpt-4o") -> StoredRollup:
    rollup = Rollup()
    for position in range(5):
        rollup.add_log(log(position, latency_ms=300 + 700 * position, cached_input_tokens=position), groups=("status",))
    key = RollupKey("acct_unit", "hour", 1_794_960_000_000, "model", value)
    applied = {keys.log_pk("acct_unit", shard): 10**21 + shard for shard in range(keys.LOG_SHARDS)}
    return StoredRollup(key, rollup, version=3, applied=applied)


def _as_saved(stored: StoredRollup) -> dict[str, Any]:
    key = stored.key
    item = {
        "pk": keys.stats_pk(key.account_id, key.granularity, key.dimension),
        "sk": keys.stats_sk(key.bucket_ms, key.value),
        **to_item(stored),
    }
    return from_attributes(to_attributes(item))


def _same(a: StoredRollup, b: StoredRollup) -> None:
    assert (a.key, a.version, a.applied) == (b.key, b.version, b.applied)
    assert a.rollup.counters == b.rollup.counters
    assert a.rollup.histograms == b.rollup.histograms and a.rollup.groups == b.rollup.groups
    assert a.rollup.latency.encode() == b.rollup.latency.encode()


def test_a_rollup_item_takes_its_key_from_pk_and_sk_and_names_partitions_by_shard() -> None:
    stored = _stored_rollup()
    item = _as_saved(stored)
    assert not {"account_id", "granularity", "bucket_ms", "dimension", "value"} & set(item)
    assert set(item["applied"]) == {str(shard) for shard in range(keys.LOG_SHARDS)}
    _same(from_item(item), stored)


def test_a_value_too_long_for_the_sort_key_is_kept_as_an_attribute() -> None:
    stored = _stored_rollup("m/" + "é" * 600)
    item = _as_saved(stored)
    assert "sha256:" in item["sk"] and item["value"] == stored.key.value
    _same(from_item(item), stored)


def test_a_rollup_item_in_the_earlier_form_still_reads_back() -> None:
    stored = _stored_rollup("metadata#with#hashes")
    key = stored.key
    item = _as_saved(stored)
    item.update(
        account_id=key.account_id,
        granularity=key.granularity,
        bucket_ms=Decimal(key.bucket_ms),
        dimension=key.dimension,
        value=key.value,
        applied={partition: str(sequence) for partition, sequence in stored.applied.items()},
        histograms=None,
    )
    del item["histograms"]
    stored.rollup.histograms = {}
    _same(from_item(item), stored)


def test_counters_rows_round_trip_and_leave_out_trailing_zeros() -> None:
    counters = Counters()
    counters.add(succeeded=True, input_tokens=10, output_tokens=5, cost=Decimal("0.0000125"), latency_ms=7)
    row = counters.to_row()
    assert row == [1, 1, 0, 10, 5, "0.0000125", 0, 7]
    assert Counters.from_row(row) == counters
    assert Counters.from_row([]) == Counters()
