"""Which index answers a list query, and what is left to filter expressions."""

from __future__ import annotations

import itertools

import pytest

from local.stack.template import load_template_document
from request_logs.domain.filters import LogQuery, MetadataFilter, RollupFilter
from request_logs.domain.log import RequestLog
from request_logs.store.indexes import (
    FILTER_INDEXES,
    LISTED_ATTRIBUTES,
    UNPRICED_RANK,
    VALUE_INDEXES,
    is_keys_only,
    plan_index,
)
from request_logs.store.items import log_to_item
from request_logs.store.value_index import filter_clauses


def query(**filters: object) -> LogQuery:
    return LogQuery(account_id="acct_alpha", start_ms=0, end_ms=10, **filters)  # type: ignore[arg-type]


def test_no_equality_filter_reads_the_table() -> None:
    plan = plan_index(query(min_latency=5, max_latency=9))
    assert (plan.index, plan.key_attribute, plan.value, plan.residual_filters) == (None, "pk", None, {})


@pytest.mark.parametrize(
    ("name", "value", "index", "attribute"),
    [
        ("status", "error", "by_status", "status_pk"),
        ("model", "openai/gpt-4o", "by_model", "model_pk"),
        ("provider", "openai", "by_provider", "provider_pk"),
        ("api_key_id", "key_alpha1", "by_api_key", "api_key_pk"),
    ],
)
def test_a_single_filter_reads_its_own_index_with_nothing_left_to_filter(
    name: str, value: str, index: str, attribute: str
) -> None:
    plan = plan_index(query(**{name: value}))
    assert (plan.index, plan.key_attribute, plan.value, plan.residual_filters) == (index, attribute, value, {})


def test_successes_are_not_indexed_and_read_the_table_with_a_filter() -> None:
    plan = plan_index(query(status="success"))
    assert (plan.index, plan.key_attribute, plan.value, plan.residual_filters) == (
        None,
        "pk",
        None,
        {"status": "success"},
    )


@pytest.mark.parametrize(
    ("filters", "chosen"),
    [
        ({"status": "error", "api_key_id": "key_a", "model": "m", "provider": "p"}, "status"),  # errors are rare
        ({"status": "success", "provider": "p"}, "provider"),  # success is most traffic
        ({"status": "success", "api_key_id": "key_a", "model": "m", "provider": "p"}, "api_key_id"),
        ({"model": "m", "provider": "p"}, "model"),
        ({"api_key_id": "key_a", "model": "m"}, "api_key_id"),
        ({"status": "error", "provider": "p"}, "status"),
    ],
)
def test_the_most_selective_filter_is_the_index_and_the_rest_are_residual(filters: dict[str, str], chosen: str) -> None:
    plan = plan_index(query(**filters))
    assert plan.index == FILTER_INDEXES[chosen][0]
    assert plan.value == filters[chosen]
    assert plan.residual_filters == {name: value for name, value in filters.items() if name != chosen}


def test_every_combination_keeps_every_filter_exactly_once() -> None:
    values = {"status": "error", "model": "m", "provider": "p", "api_key_id": "key_a"}
    for size in range(1, 5):
        for names in itertools.combinations(values, size):
            filters = {name: values[name] for name in names}
            plan = plan_index(query(**filters))
            chosen = next(name for name, (index, _) in FILTER_INDEXES.items() if index == plan.index)
            assert {chosen: plan.value, **plan.residual_filters} == filters


def test_equality_filters_and_empty_range() -> None:
    assert query(status="error", model=None).equality_filters() == {"status": "error"}
    assert query().equality_filters() == {}
    assert LogQuery("acct_a", 5, 5).is_empty_range
    assert not LogQuery("acct_a", 5, 6).is_empty_range


def _unpriced_log(status: str, status_code: int) -> RequestLog:
    """A log of account ``acct_a`` created 1 ms after the epoch (day 0), with no price."""
    return RequestLog(
        id="log_19a1f610de8577ab599d58ef533",
        account_id="acct_a",
        request_id="r",
        api_key_id="key_a",
        api_key_prefix="sk-a...",
        model="m",
        provider="p",
        endpoint="/e",
        method="POST",
        status=status,
        status_code=status_code,
        created_ms=1,
        completed_ms=2,
        latency_ms=1,
        input_tokens=1,
        output_tokens=1,
        streaming=False,
    )


def test_filter_indexes_match_the_template_and_the_stored_item() -> None:
    resources = load_template_document()["Resources"]
    tables = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    indexes = {index["IndexName"]: index for table in tables for index in table.get("GlobalSecondaryIndexes", [])}
    item = log_to_item(_unpriced_log("error", 500))
    for name, (index, attribute) in FILTER_INDEXES.items():
        schema = {key["KeyType"]: key["AttributeName"] for key in indexes[index]["KeySchema"]}
        assert schema == {"HASH": attribute, "RANGE": "sk"}, index
        assert item[attribute].startswith("acct_a#") and item[attribute].endswith(f"#{item[name]}")
    for sort, index in VALUE_INDEXES.items():
        schema = {key["KeyType"]: key["AttributeName"] for key in indexes[index.name]["KeySchema"]}
        assert schema == {"HASH": index.partition, "RANGE": index.value}, index
        assert index.value in item, sort
    assert item["bucket_pk"] == "acct_a#b0" and item["latency_bucket_pk"] == "acct_a#l0"
    assert item["total_tokens"] == 2 and item["cost_rank"] == UNPRICED_RANK
    # Every index projects what the lists filter on and the summaries add up (its own keys come anyway).
    # The attribution indexes hold keys only (``indexes.is_keys_only``: DynamoDB's 100 projected attributes).
    for index in indexes.values():
        keys = {key["AttributeName"] for key in index["KeySchema"]}
        if is_keys_only(index["IndexName"]):
            assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}, index["IndexName"]
            continue
        assert index["Projection"]["ProjectionType"] == "INCLUDE", index["IndexName"]
        assert set(index["Projection"]["NonKeyAttributes"]) == set(LISTED_ATTRIBUTES) - keys, index["IndexName"]


def test_successes_leave_the_sparse_status_index_out() -> None:
    success = log_to_item(_unpriced_log("success", 200))
    assert "status_pk" not in success and "model_pk" in success


def test_an_attribution_filter_alone_reads_its_keys_only_index_else_it_is_a_residual() -> None:
    pairs = (MetadataFilter("env", "prod", slot=4), MetadataFilter("feature", "chat", slot=2))
    plan = plan_index(query(metadata=pairs[:1]))
    assert (plan.index, plan.key_attribute, plan.value, plan.residual_filters) == (
        "by_metadata_4",
        "metadata_4_pk",
        "env=prod",
        {},
    )
    assert (plan_index(query(user="u1")).index, plan_index(query(user="u1")).value) == ("by_user", "u1")
    # The keys-only index cannot evaluate another filter: a projected index reads, the pairs are residual.
    plan = plan_index(query(metadata=pairs, model="openai/gpt-4o"))
    assert (plan.index, plan.value) == ("by_model", "openai/gpt-4o")
    assert plan.residual_filters == {"metadata.env": "prod", "metadata.feature": "chat"}
    assert plan_index(query(metadata=pairs)).index is None
    assert plan_index(query(user="u1", min_latency=5)).index is None
    assert plan_index(query(user="u1"), needs_attributes=True).index is None  # a sum reads attributes


def test_a_residual_attribution_filter_tests_the_attribution_set() -> None:
    q = query(metadata=(MetadataFilter("feature", "chat", slot=2),), user="u1")
    clauses, names, values = filter_clauses(q, q.equality_filters())
    assert clauses == ["contains(#f0, :f0)", "contains(#f1, :f1)"]
    assert set(names.values()) == {"attribution"}
    assert {value["S"] for value in values.values()} == {"m:feature=chat", "u=u1"}


def test_one_attribution_filter_is_answered_by_its_rollups_with_values_marked() -> None:
    assert query(user="u1").rollup_filter() == RollupFilter("user", "=u1")
    assert query(metadata=(MetadataFilter("feature", ""),), status="error").rollup_filter() == RollupFilter(
        "metadata.feature", "=", "error"
    )
    assert query(user="u1", model="m").rollup_filter() is None


def test_the_api_reads_metadata_keys_as_ingest_accepts_them() -> None:
    from request_logs.api.params import _METADATA_KEY
    from request_logs.models.messages import METADATA_KEY_PATTERN

    assert f"^{_METADATA_KEY.pattern}$" == METADATA_KEY_PATTERN
