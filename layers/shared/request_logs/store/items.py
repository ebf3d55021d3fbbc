"""Stored items: how a request log and its content look in DynamoDB, mapped to and from the domain.

A log item is the ``RequestLog``'s fields plus its keys (table, filter and value indexes) and TTL
attribute; the stream aggregator reads the same item back from a stream image, so the attribute names
here are a storage contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from request_logs.domain.counters import CostParts, Counters
from request_logs.domain.filters import METADATA_PREFIX
from request_logs.domain.log import RequestLog
from request_logs.domain.pricing import CostSource, Prices, catalog_prices_applied
from request_logs.domain.retention import log_expiry_s
from request_logs.store import keys
from request_logs.store.indexes import (
    ATTRIBUTION,
    ERROR_VALUE_INDEXES,
    FILTER_INDEXES,
    UNPRICED_RANK,
    USER_INDEX,
    VALUE_INDEXES,
    attribution_value,
    indexed,
    metadata_index,
    metadata_index_value,
)

_INTEGER_FIELDS = (
    "status_code",
    "created_ms",
    "completed_ms",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
    "price_tier_above_input_tokens",
    "ttft_ms",
    "gateway_type",
    "ingested_ms",
)
_LOG_FIELDS = frozenset(field.name for field in fields(RequestLog))
# The token and cost components a summary adds up, in one map attribute: an index may project at most 100
# attributes summed over all of a table's indexes (a DynamoDB limit), so every index projects this one
# (``indexes.LISTED_ATTRIBUTES``) instead of seven. Left out of the map when zero or absent (most logs have
# no cached or reasoning tokens); ``cost_input`` is in it for every priced log (it splits ``cost_rank``).
BREAKDOWN = "breakdown"
_BREAKDOWN_FIELDS = (
    "cost_input",
    "cost_cached_input",
    "cost_cache_creation_input",
    "cost_reasoning",
    "cached_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
)

# The prices a log applied. A catalog-priced log stores them by reference, as its ``catalog_version`` (with
# its model and prompt size), when the catalog gives them back exactly: about 130 bytes less on every log
# item, which keeps most items within the 1 KB DynamoDB bills one write unit for (decisions §32).
_PRICE_FIELDS = (
    "price_input_per_million",
    "price_output_per_million",
    "price_cached_input_per_million",
    "price_cache_creation_input_per_million",
    "price_reasoning_per_million",
    "price_tier_above_input_tokens",
)


def _prices_of(log: RequestLog) -> Prices | None:
    if log.price_input_per_million is None or log.price_output_per_million is None:
        return None
    return Prices(
        log.price_input_per_million,
        log.price_output_per_million,
        cached_input_per_million=log.price_cached_input_per_million,
        cache_creation_input_per_million=log.price_cache_creation_input_per_million,
        reasoning_per_million=log.price_reasoning_per_million,
        above_input_tokens=log.price_tier_above_input_tokens,
    )


def _catalog_gives_prices_back(log: RequestLog) -> bool:
    return (
        log.cost_source == CostSource.CATALOG
        and log.catalog_version is not None
        and _prices_of(log) == catalog_prices_applied(log.catalog_version, log.model, log.input_tokens)
    )


def _prices_by_reference(values: dict[str, Any]) -> dict[str, Any]:
    """The price fields of an item that stores its catalog prices by reference (none otherwise)."""
    if values.get("cost_source") != CostSource.CATALOG or "price_input_per_million" in values:
        return {}
    if not all(name in values for name in ("catalog_version", "model", "input_tokens")):
        return {}  # a projection of the item, not the log
    prices = catalog_prices_applied(values["catalog_version"], values["model"], int(values["input_tokens"]))
    if prices is None:
        return {}
    return {
        "price_input_per_million": prices.input_per_million,
        "price_output_per_million": prices.output_per_million,
        "price_cached_input_per_million": prices.cached_input_per_million,
        "price_cache_creation_input_per_million": prices.cache_creation_input_per_million,
        "price_reasoning_per_million": prices.reasoning_per_million,
        "price_tier_above_input_tokens": prices.above_input_tokens,
    }


def log_to_item(log: RequestLog, metadata_slots: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The item of a log: its fields (None-valued ones left out), table and index keys, TTL attribute.

    ``metadata_slots``: the account's indexed metadata keys → their slot (``store/api_keys``), when the log
    is written: the slot attribute of each such key the log carries puts it in that slot's index.
    """
    item: dict[str, Any] = {name: value for name, value in asdict(log).items() if value is not None}
    if log.metadata is not None:
        item["metadata"] = dict(log.metadata)
    if _catalog_gives_prices_back(log):
        for name in _PRICE_FIELDS:
            item.pop(name, None)
    breakdown = {name: item.pop(name) for name in _BREAKDOWN_FIELDS if name in item}
    # Zeros left out, but not a zero input cost: a priced log always has its split (an unpriced log
    # without components has no map).
    breakdown = {name: value for name, value in breakdown.items() if value or name == "cost_input"}
    if breakdown:
        item[BREAKDOWN] = breakdown
    shard = keys.log_shard(log.id)
    item.update(
        pk=keys.log_pk(log.account_id, shard),
        sk=keys.log_sk(log.created_ms, log.id),
        expires_at=log_expiry_s(log.created_ms),
    )
    for field_name, (_, key_attribute) in FILTER_INDEXES.items():
        value = getattr(log, field_name)
        if indexed(field_name, value):
            item[key_attribute] = keys.index_pk(log.account_id, shard, value)
    attribution = set()
    if log.user is not None:
        item[USER_INDEX[1]] = keys.index_pk(log.account_id, shard, log.user)
        attribution.add(attribution_value("user", log.user))
    for key, slot in (metadata_slots or {}).items():
        if log.metadata is not None and key in log.metadata:
            item[metadata_index(slot)[1]] = metadata_slot_value(log.account_id, shard, key, log.metadata[key])
            attribution.add(attribution_value(METADATA_PREFIX + key, log.metadata[key]))
    if attribution:
        item[ATTRIBUTION] = attribution
    if metadata_slots:
        item[INDEXED_METADATA_ATTRIBUTE] = sorted(metadata_slots)
    cost = log.cost_total
    item.update(value_partitions(log.account_id, log.created_ms, log.ingested_ms, error=log.status == "error"))
    item.update(cost_rank=UNPRICED_RANK if cost is None else cost, total_tokens=log.total_tokens)
    return item


def value_partitions(account_id: str, created_ms: int, ingested_ms: int | None, *, error: bool) -> dict[str, str]:
    """A log's partition-key attributes in the value indexes (the errors' own too for an error): each
    index's time bucket of its creation instant, spelled by that index's ``keys.ValueBuckets``."""
    indexes = (*VALUE_INDEXES.values(), *(ERROR_VALUE_INDEXES.values() if error else ()))
    return {
        index.partition: index.buckets.pk(account_id, index.buckets.of_log(created_ms, ingested_ms))
        for index in indexes
    }


def metadata_slot_value(account_id: str, shard: int, key: str, value: str) -> str:
    """What a log's metadata slot attribute holds for ``key``: its slot index's partition key."""
    return keys.index_pk(account_id, shard, metadata_index_value(key, value))


# The account's indexed metadata keys when the log was written, carried or not by the log: the stream
# aggregator keeps the log's rollups for exactly these (those without the key under the absent value).
INDEXED_METADATA_ATTRIBUTE = "metadata_indexed"


def indexed_metadata_keys(item: Mapping[str, Any]) -> tuple[str, ...]:
    """The metadata keys the account indexed when a log item was written, sorted (the stream aggregator
    keeps the log's rollups for these: so rollups and indexes agree on every log)."""
    return tuple(sorted(str(key) for key in item.get(INDEXED_METADATA_ATTRIBUTE) or ()))


def cost_of_rank(raw: dict[str, Any]) -> Decimal | None:
    """The total cost an item's ``cost_rank`` holds (in DynamoDB's attribute format); None for a log
    nobody priced."""
    rank = Decimal(raw["cost_rank"]["N"])
    return None if rank == UNPRICED_RANK else rank


# What a summary adds up of a log: every index projects these (``indexes.LISTED_ATTRIBUTES``), so counting
# a range from an index or the table moves a fraction of the log's bytes.
SUMMARY_ATTRIBUTES = ("status", "input_tokens", "output_tokens", "cost_rank", "latency_ms", BREAKDOWN)


def add_to_counters(counters: Counters, raw: dict[str, Any]) -> None:
    """Count one item (in DynamoDB's attribute format, ``SUMMARY_ATTRIBUTES`` at least)."""
    parts = raw.get(BREAKDOWN, {}).get("M")

    def number(name: str) -> Decimal:
        return Decimal(parts[name]["N"]) if parts is not None and name in parts else Decimal(0)

    total = cost_of_rank(raw)
    cost: CostParts | Decimal | None = total
    if total is not None and parts is not None:
        cost = CostParts(
            input=number("cost_input"),
            output=total - number("cost_input"),
            cached_input=number("cost_cached_input"),
            cache_creation_input=number("cost_cache_creation_input"),
            reasoning=number("cost_reasoning"),
        )
    counters.add(
        succeeded=raw["status"]["S"] == "success",
        input_tokens=int(raw["input_tokens"]["N"]),
        output_tokens=int(raw["output_tokens"]["N"]),
        cost=cost,
        latency_ms=int(raw["latency_ms"]["N"]),
        cached_input_tokens=int(number("cached_input_tokens")),
        cache_creation_input_tokens=int(number("cache_creation_input_tokens")),
        reasoning_tokens=int(number("reasoning_tokens")),
    )


def log_from_item(item: dict[str, Any]) -> RequestLog:
    """The log an item (or a stream image) holds; numbers come back from DynamoDB as Decimal."""
    # Logs stored before the breakdown map have the same fields at the top level.
    values = {name: value for name, value in {**item, **item.get(BREAKDOWN, {})}.items() if name in _LOG_FIELDS}
    values.update(_prices_by_reference(values))
    for name in _INTEGER_FIELDS:
        if values.get(name) is not None:
            values[name] = int(values[name])
    return RequestLog(**values)


@dataclass(frozen=True)
class StoredContent:
    """Compressed request and response bodies, inline or as S3 object keys when too big for an item."""

    account_id: str
    log_id: str
    expires_at: int
    request_gz: bytes | None = None
    response_gz: bytes | None = None
    request_s3_key: str | None = None
    response_s3_key: str | None = None
    has_response: bool = True

    def to_item(self) -> dict[str, Any]:
        item = {name: value for name, value in asdict(self).items() if value is not None}
        item["pk"] = keys.content_pk(self.account_id, self.log_id)
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StoredContent:
        fields = cls.__dataclass_fields__
        values = {name: value for name, value in item.items() if name in fields}
        for name in ("request_gz", "response_gz"):
            if values.get(name) is not None:
                values[name] = bytes(values[name])
        values["expires_at"] = int(values["expires_at"])
        return cls(**values)
