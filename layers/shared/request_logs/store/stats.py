"""Rollup items in the stats table: read, and write conditionally on their version. Beside them, one
progress item per account holds the freshness marks (``domain/freshness.Progress``).

Each item carries, besides its counters and sketches, ``applied``: per log partition, the highest stream
sequence number already folded in. The aggregator folds only records above it and writes counters, sketches and
the new high-water mark in one conditional put, so a replayed record can never be counted twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from request_logs.config import get_settings
from request_logs.domain.counters import Counters
from request_logs.domain.freshness import Progress
from request_logs.domain.reads import ReadStats
from request_logs.domain.rollups import Rollup, RollupKey
from request_logs.domain.sketches import Sketch
from request_logs.store import keys
from request_logs.store.dynamo import BATCH_GET_LIMIT, count_read, dynamodb, from_attributes, to_attributes


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


def _key_strings(key: RollupKey) -> tuple[str, str]:
    return keys.stats_pk(key.account_id, key.granularity, key.dimension), keys.stats_sk(key.bucket_ms, key.value)


def _key_attributes(key: RollupKey) -> dict[str, Any]:
    pk, sk = _key_strings(key)
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _gzip_json(plain: dict[str, Any]) -> bytes:
    """The embedded maps' encoding: compact JSON, keys sorted (an unchanged map writes the same bytes), gzip."""
    # UTF-8 rather than \u escapes: an escaped four-byte character takes 12 bytes instead of 4.
    text = json.dumps(plain, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    import gzip  # here, not at the top: the list functions read rollups but rarely their group maps

    return gzip.compress(text.encode(), mtime=0)


def _gunzip_json(blob: bytes) -> Any:
    import gzip

    return json.loads(gzip.decompress(blob))


def _encode_groups(groups: dict[str, dict[str, Counters]]) -> bytes:
    return _gzip_json({group: {value: c.to_row() for value, c in entries.items()} for group, entries in groups.items()})


def _decode_groups(blob: bytes | None) -> dict[str, dict[str, Counters]]:
    if not blob:
        return {}
    plain = _gunzip_json(blob)
    return {group: {value: _counters(raw) for value, raw in entries.items()} for group, entries in plain.items()}


def _encode_sketches(sketches: dict[str, dict[str, Sketch]]) -> bytes:
    """Group → value → sketch, each as the base64 of its ``Sketch.encode``."""
    import base64

    return _gzip_json(
        {
            group: {value: base64.b64encode(sketch.encode()).decode() for value, sketch in entries.items()}
            for group, entries in sketches.items()
        }
    )


def _decode_sketches(blob: bytes | None) -> dict[str, dict[str, Sketch]]:
    if not blob:
        return {}
    import base64

    plain = _gunzip_json(blob)
    return {
        group: {value: Sketch.decode(base64.b64decode(text)) for value, text in entries.items()}
        for group, entries in plain.items()
    }


def _counters(raw: list[int | str] | dict[str, Any]) -> Counters:
    return Counters.from_dict(raw) if isinstance(raw, dict) else Counters.from_row(raw)  # dict: written before rows


# ``applied`` names a log partition by what follows its account (the item's own): the account id repeated
# for each of the eight shards was a sixth of an item's bytes.
def _partition_name(partition: str, key: RollupKey) -> str:
    prefix = f"{key.account_id}#"
    return partition[len(prefix) :] if partition.startswith(prefix) else partition


def _partition_of(name: str, key: RollupKey) -> str:
    return name if "#" in name else f"{key.account_id}#{name}"  # "#": written whole, before names were short


def to_item(stored: StoredRollup) -> dict[str, Any]:
    rollup, key = stored.rollup, stored.key
    counters = rollup.counters
    item: dict[str, Any] = {
        "version": stored.version,
        **counters.to_dict(),
        "latency_sketch": rollup.latency.encode(),
        "ttft_sketch": rollup.ttft.encode(),
        # Strings: stream sequence numbers can exceed the 38 digits a DynamoDB number holds.
        "applied": {_partition_name(partition, key): str(sequence) for partition, sequence in stored.applied.items()},
    }
    if keys.rollup_key_parts(*_key_strings(key))[4] is None:
        item["value"] = key.value  # its sort key holds a digest
    if rollup.groups:
        item["groups"] = _encode_groups(rollup.groups)
    if rollup.histograms:
        item["histograms"] = _encode_groups(rollup.histograms)
    if rollup.groups_overflow:
        item["groups_overflow"] = True
    if rollup.group_latency:
        item["group_sketches"] = _encode_sketches(rollup.group_latency)
    if rollup.sketches_overflow:
        item["sketches_overflow"] = True
    return item


def _rollup_key(item: dict[str, Any]) -> RollupKey:
    if "account_id" in item:  # written before the key was read from pk and sk alone
        return RollupKey(
            item["account_id"], item["granularity"], int(item["bucket_ms"]), item["dimension"], item["value"]
        )
    account_id, granularity, dimension, bucket_ms, value = keys.rollup_key_parts(item["pk"], item["sk"])
    return RollupKey(account_id, granularity, bucket_ms, dimension, item["value"] if value is None else value)


def from_item(item: dict[str, Any]) -> StoredRollup:
    """The rollup of a stored item: its key from ``pk`` and ``sk`` (and ``value`` where the sort key holds a
    digest), so no attribute repeats what the keys say (every byte of an item is billed on each write)."""
    key = _rollup_key(item)
    rollup = Rollup(
        counters=Counters.from_dict(item),
        latency=Sketch.decode(bytes(item["latency_sketch"]) if "latency_sketch" in item else None),
        ttft=Sketch.decode(bytes(item["ttft_sketch"]) if "ttft_sketch" in item else None),
        groups=_decode_groups(bytes(item["groups"]) if "groups" in item else None),
        groups_overflow=bool(item.get("groups_overflow", False)),
        histograms=_decode_groups(bytes(item["histograms"]) if "histograms" in item else None),
        group_latency=_decode_sketches(bytes(item["group_sketches"]) if "group_sketches" in item else None),
        sketches_overflow=bool(item.get("sketches_overflow", False)),
    )
    applied = {_partition_of(name, key): int(sequence) for name, sequence in item.get("applied", {}).items()}
    return StoredRollup(key, rollup, int(item["version"]), applied)


def load_rollups(rollup_keys: Iterable[RollupKey], reads: ReadStats | None = None) -> dict[RollupKey, StoredRollup]:
    """Current items for these keys (missing keys are absent), by BatchGetItem, 100 keys a call.

    ``reads`` counts every key asked for, found or not: DynamoDB charges a BatchGetItem for each.
    """
    table = get_settings().stats_table
    wanted = sorted(set(rollup_keys))
    found: dict[RollupKey, StoredRollup] = {}
    for start in range(0, len(wanted), BATCH_GET_LIMIT):
        request: dict[str, Any] = {
            table: {
                "Keys": [_key_attributes(k) for k in wanted[start : start + BATCH_GET_LIMIT]],
                "ConsistentRead": True,
            }
        }
        if reads is not None:
            reads.add(len(request[table]["Keys"]), calls=0)
        while request:
            response = dynamodb().batch_get_item(RequestItems=request)
            if reads is not None:
                reads.calls += 1
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
    account_id: str, granularity: str, dimension: str, start_ms: int, end_ms: int, reads: ReadStats | None = None
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
            count_read(reads, response)
        found.extend(from_item(from_attributes(raw)) for raw in response["Items"])
        if "LastEvaluatedKey" not in response:
            return found
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


# ---------------------------------------------------------------- freshness marks
_APPLIED_PREFIX = "applied_"


def _progress_key(account_id: str) -> dict[str, Any]:
    return {"pk": {"S": keys.progress_pk(account_id)}, "sk": {"S": keys.PROGRESS_SK}}


def _move_mark(account_id: str, attribute: str, value: int, beyond: str) -> bool:
    """Set the mark to ``value`` unless it already lies ``beyond`` it (update expressions have no max());
    False when it did (a later batch, or a concurrent one, got there)."""
    client = dynamodb()
    try:
        client.update_item(
            TableName=get_settings().stats_table,
            Key=_progress_key(account_id),
            UpdateExpression="SET #mark = :value",
            ConditionExpression=f"attribute_not_exists(#mark) OR #mark {beyond} :value",
            ExpressionAttributeNames={"#mark": attribute},
            ExpressionAttributeValues={":value": {"N": str(value)}},
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def raise_settle_due(account_id: str, due_ms: int) -> bool:
    """Raise the account's ``settle_due`` to ``due_ms``; False when it is already there or later (a request
    for that instant exists, and the caller must not send another)."""
    return _move_mark(account_id, "settle_due", due_ms, "<")


def raise_late_marks(account_id: str, created_min: int, ingested_max: int) -> None:
    """Announce late logs before they are written: ``late_ingested_max`` only rises, ``late_created_min``
    only falls. Two updates, since one condition cannot let one mark move while the other stays; a failure
    between them leaves one mark moved, which only makes readers more careful. Raises botocore errors:
    the caller must then not write the logs these marks announce."""
    _move_mark(account_id, "late_ingested_max", ingested_max, "<")
    _move_mark(account_id, "late_created_min", created_min, ">")


def record_applied_stamps(account_id: str, stamps: dict[int, int]) -> None:
    """Per log shard, the stamp of a log whose record and every earlier one of its partition are applied.

    Unconditional: any such stamp is a valid bound, so a lower one written by a replay only makes the
    horizon more careful, and no read or condition is needed. One update per account and batch, of at
    most ``LOG_SHARDS`` clauses, far below the expression limits.
    """
    if not stamps:
        return
    shards = sorted(stamps)
    dynamodb().update_item(
        TableName=get_settings().stats_table,
        Key=_progress_key(account_id),
        UpdateExpression="SET " + ", ".join(f"{_APPLIED_PREFIX}{shard} = :s{shard}" for shard in shards),
        ExpressionAttributeValues={f":s{shard}": {"N": str(stamps[shard])} for shard in shards},
    )


def load_progress(account_id: str, reads: ReadStats | None = None) -> Progress:
    """The account's marks, read consistently: a missing item (nothing ingested or applied yet) is empty."""
    response = dynamodb().get_item(
        TableName=get_settings().stats_table, Key=_progress_key(account_id), ConsistentRead=True
    )
    if reads is not None:
        reads.add(1)
    item = from_attributes(response.get("Item") or {})
    applied = {
        int(name.removeprefix(_APPLIED_PREFIX)): int(value)
        for name, value in item.items()
        if name.startswith(_APPLIED_PREFIX)
    }
    late_ingested_max = item.get("late_ingested_max")
    late_created_min = item.get("late_created_min")
    settle_due = item.get("settle_due")
    return Progress(
        applied_stamps=applied,
        late_ingested_max=None if late_ingested_max is None else int(late_ingested_max),
        late_created_min=None if late_created_min is None else int(late_created_min),
        settle_due=None if settle_due is None else int(settle_due),
    )
