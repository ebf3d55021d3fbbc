"""Rollup items in the stats table: read, and write conditionally on their version.

Each item carries, besides its counters and sketches, ``applied``: per log partition, the highest stream
sequence number already folded in. The aggregator folds only records above it and writes counters, sketches and
the new high-water mark in one conditional put, so a replayed record can never be counted twice.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from request_logs.config import get_settings
from request_logs.domain.rollups import Counters, Rollup, RollupKey
from request_logs.domain.sketches import Sketch
from request_logs.store import keys
from request_logs.store.dynamo import dynamodb, from_attributes, to_attributes

_BATCH_GET_LIMIT = 100


class VersionConflict(Exception):
    """Someone else wrote the item since it was read: read again and re-apply."""


@dataclass
class StoredRollup:
    key: RollupKey
    rollup: Rollup = field(default_factory=Rollup)
    version: int = 0  # 0: the item does not exist yet
    applied: dict[str, int] = field(default_factory=dict)  # log partition → highest sequence applied

    def applied_through(self, partition: str) -> int:
        return self.applied.get(partition, -1)


def _key_attributes(key: RollupKey) -> dict[str, Any]:
    return {
        "pk": {"S": keys.stats_pk(key.account_id, key.granularity, key.dimension)},
        "sk": {"S": keys.stats_sk(key.bucket_ms, key.value)},
    }


def _encode_groups(groups: dict[str, dict[str, Counters]]) -> bytes:
    plain = {
        group: {value: {**c.to_dict(), "cost": str(c.cost)} for value, c in entries.items()}
        for group, entries in groups.items()
    }
    # UTF-8 rather than \u escapes: an escaped four-byte character takes 12 bytes instead of 4.
    text = json.dumps(plain, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return gzip.compress(text.encode(), mtime=0)


def _decode_groups(blob: bytes | None) -> dict[str, dict[str, Counters]]:
    if not blob:
        return {}
    plain = json.loads(gzip.decompress(blob))
    return {
        group: {value: Counters.from_dict(raw) for value, raw in entries.items()} for group, entries in plain.items()
    }


def to_item(stored: StoredRollup) -> dict[str, Any]:
    rollup, key = stored.rollup, stored.key
    counters = rollup.counters
    item: dict[str, Any] = {
        "account_id": key.account_id,
        "granularity": key.granularity,
        "bucket_ms": key.bucket_ms,
        "dimension": key.dimension,
        "value": key.value,
        "version": stored.version,
        **counters.to_dict(),
        "latency_sketch": rollup.latency.encode(),
        "ttft_sketch": rollup.ttft.encode(),
        # Strings: stream sequence numbers can exceed the 38 digits a DynamoDB number holds.
        "applied": {partition: str(sequence) for partition, sequence in stored.applied.items()},
    }
    if rollup.groups:
        item["groups"] = _encode_groups(rollup.groups)
    if rollup.groups_overflow:
        item["groups_overflow"] = True
    return item


def from_item(item: dict[str, Any]) -> StoredRollup:
    key = RollupKey(
        account_id=item["account_id"],
        granularity=item["granularity"],
        bucket_ms=int(item["bucket_ms"]),
        dimension=item["dimension"],
        value=item["value"],
    )
    rollup = Rollup(
        counters=Counters.from_dict(item),
        latency=Sketch.decode(bytes(item["latency_sketch"]) if "latency_sketch" in item else None),
        ttft=Sketch.decode(bytes(item["ttft_sketch"]) if "ttft_sketch" in item else None),
        groups=_decode_groups(bytes(item["groups"]) if "groups" in item else None),
        groups_overflow=bool(item.get("groups_overflow", False)),
    )
    applied = {partition: int(sequence) for partition, sequence in item.get("applied", {}).items()}
    return StoredRollup(key, rollup, int(item["version"]), applied)


def load_rollups(rollup_keys: Iterable[RollupKey]) -> dict[RollupKey, StoredRollup]:
    """Current items for these keys (missing keys are absent), by BatchGetItem, 100 keys a call."""
    table = get_settings().stats_table
    wanted = sorted(set(rollup_keys))
    found: dict[RollupKey, StoredRollup] = {}
    for start in range(0, len(wanted), _BATCH_GET_LIMIT):
        request: dict[str, Any] = {
            table: {
                "Keys": [_key_attributes(k) for k in wanted[start : start + _BATCH_GET_LIMIT]],
                "ConsistentRead": True,
            }
        }
        while request:
            response = dynamodb().batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(table, []):
                stored = from_item(from_attributes(raw))
                found[stored.key] = stored
            request = response.get("UnprocessedKeys") or {}
    return found


def save_rollup(stored: StoredRollup, expected_version: int) -> None:
    """Put the item if nobody wrote it since ``expected_version`` (0: it must not exist yet)."""
    client = dynamodb()
    item = {**_key_attributes(stored.key), **to_attributes(to_item(stored))}
    condition: dict[str, Any] = (
        {"ConditionExpression": "attribute_not_exists(pk)"}
        if expected_version == 0
        else {
            "ConditionExpression": "#v = :expected",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
        }
    )
    try:
        client.put_item(TableName=get_settings().stats_table, Item=item, **condition)
    except client.exceptions.ConditionalCheckFailedException as exc:
        raise VersionConflict(str(stored.key)) from exc


def delete_rollup(key: RollupKey, expected_version: int) -> None:
    """Delete the item if nobody wrote it since ``expected_version`` (the rebuild's way to drop an item no
    retained log supports)."""
    client = dynamodb()
    try:
        client.delete_item(
            TableName=get_settings().stats_table,
            Key=_key_attributes(key),
            ConditionExpression="#v = :expected",
            ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
        )
    except client.exceptions.ConditionalCheckFailedException as exc:
        raise VersionConflict(str(key)) from exc


def query_rollups(
    account_id: str, granularity: str, dimension: str, start_ms: int, end_ms: int, reads: Any | None = None
) -> list[StoredRollup]:
    """Every item of one account/granularity/dimension whose bucket starts in ``[start_ms, end_ms)``."""
    if start_ms >= end_ms:
        return []
    low, high = keys.stats_sk_range(start_ms, end_ms)
    params: dict[str, Any] = {
        "TableName": get_settings().stats_table,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.stats_pk(account_id, granularity, dimension)},
            ":lo": {"S": low},
            ":hi": {"S": high},
        },
    }
    found: list[StoredRollup] = []
    while True:
        response = dynamodb().query(**params)
        if reads is not None:
            reads.add(response)
        found.extend(from_item(from_attributes(raw)) for raw in response["Items"])
        if "LastEvaluatedKey" not in response:
            return found
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
