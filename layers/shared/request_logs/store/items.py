"""Stored items: how a request log and its content look in DynamoDB, mapped to and from the domain.

A log item is the ``RequestLog``'s fields plus its keys (table, filter and value indexes) and TTL
attribute; the stream aggregator reads the same item back from a stream image, so the attribute names
here are a storage contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from request_logs.domain.log import RequestLog
from request_logs.domain.retention import log_expiry_s
from request_logs.store import keys
from request_logs.store.indexes import (
    BUCKET_PARTITION,
    ERROR_BUCKET_PARTITION,
    FILTER_INDEXES,
    UNPRICED_RANK,
    USER_INDEX,
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
# Token components most logs do not have: left out of the item when zero (the log's default on reading).
_OMITTED_WHEN_ZERO = ("cached_input_tokens", "cache_creation_input_tokens", "reasoning_tokens")


def log_to_item(log: RequestLog, metadata_slots: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The item of a log: its fields (None-valued ones left out), table and index keys, TTL attribute.

    ``metadata_slots``: the account's indexed metadata keys → their slot (``store/api_keys``), when the log
    is written: the slot attribute of each such key the log carries puts it in that slot's index.
    """
    item: dict[str, Any] = {name: value for name, value in asdict(log).items() if value is not None}
    if log.metadata is not None:
        item["metadata"] = dict(log.metadata)
    for name in _OMITTED_WHEN_ZERO:
        if not item[name]:
            del item[name]
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
    if log.user is not None:
        item[USER_INDEX[1]] = keys.index_pk(log.account_id, shard, log.user)
    for key, slot in (metadata_slots or {}).items():
        if log.metadata is not None and key in log.metadata:
            item[metadata_index(slot)[1]] = metadata_slot_value(log.account_id, shard, key, log.metadata[key])
    if metadata_slots:
        item[INDEXED_METADATA_ATTRIBUTE] = sorted(metadata_slots)
    cost = log.cost_total
    bucket_pk = keys.bucket_pk(log.account_id, keys.value_bucket(log.created_ms, log.ingested_ms))
    item[BUCKET_PARTITION] = bucket_pk
    item.update(cost_rank=UNPRICED_RANK if cost is None else cost, total_tokens=log.total_tokens)
    if log.status == "error":
        item[ERROR_BUCKET_PARTITION] = bucket_pk
    return item


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


def log_from_item(item: dict[str, Any]) -> RequestLog:
    """The log an item (or a stream image) holds; numbers come back from DynamoDB as Decimal."""
    values = {name: value for name, value in item.items() if name in _LOG_FIELDS}
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
