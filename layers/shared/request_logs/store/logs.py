"""Request-log reads and writes. Queries merge the account's shards in sort-key order.

Every query is bounded to retained logs by its key condition (expired items DynamoDB has not deleted
yet are outside the range) and, defensively, by a filter on the TTL attribute.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from request_logs.config import get_settings
from request_logs.domain.filters import IndexPlan, LogQuery, plan_index
from request_logs.domain.timeutil import END_OF_TIME_MS, oldest_retained_log_ms
from request_logs.store import keys
from request_logs.store.dynamo import dynamodb, from_attributes, to_attributes
from request_logs.store.items import StoredLog

_DYNAMODB_MAX_LIMIT = 1000


class DuplicateLog(Exception):
    """The log already exists: the message was delivered before."""


def put_log(log: StoredLog) -> None:
    """Write a log once. Raises DuplicateLog if a log with the same key exists (a redelivery)."""
    client = dynamodb()
    try:
        client.put_item(
            TableName=get_settings().logs_table,
            Item=to_attributes(log.to_item()),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except client.exceptions.ConditionalCheckFailedException as exc:
        raise DuplicateLog(log.id) from exc


def get_log(account_id: str, log_id: str, now_ms: int) -> StoredLog | None:
    """The caller's log with this id, or None: unknown, malformed, another account's, or expired."""
    key = keys.parse_log_id(log_id)
    if key is None:
        return None
    response = dynamodb().get_item(
        TableName=get_settings().logs_table,
        Key={"pk": {"S": keys.log_pk(account_id, key.shard)}, "sk": {"S": keys.log_sk(key.created_ms, log_id)}},
    )
    raw = response.get("Item")
    if raw is None:
        return None
    log = StoredLog.from_item(from_attributes(raw))
    if log.expires_at * 1000 <= now_ms or log.account_id != account_id:
        return None
    return log


@dataclass
class ReadStats:
    """DynamoDB items read (ScannedCount) and calls made, for benchmarks and logs."""

    items_read: int = 0
    calls: int = 0

    def add(self, response: dict[str, Any]) -> None:
        self.items_read += int(response.get("ScannedCount", 0))
        self.calls += 1


@dataclass
class LogPage:
    logs: list[StoredLog]
    total: int
    reads: ReadStats = field(default_factory=ReadStats)


@dataclass(frozen=True)
class _QueryShape:
    """The Query parameters shared by every shard of one list request."""

    plan: IndexPlan
    account_id: str
    sk_low: str
    sk_high: str
    filter_expression: str | None
    names: dict[str, str]
    values: dict[str, Any]
    # True when the filter expression drops items inside the key range (residual equality or latency
    # filters), so ``Limit``, which counts items read, says little about how many items come back.
    filters_in_range: bool = False

    def params(self, shard: int) -> dict[str, Any]:
        partition = (
            keys.log_pk(self.account_id, shard)
            if self.plan.value is None
            else keys.index_pk(self.account_id, shard, self.plan.value)
        )
        params: dict[str, Any] = {
            "TableName": get_settings().logs_table,
            "KeyConditionExpression": "#p = :p AND #s BETWEEN :lo AND :hi",
            "ExpressionAttributeNames": {"#p": self.plan.key_attribute, "#s": "sk", **self.names},
            "ExpressionAttributeValues": {
                ":p": {"S": partition},
                ":lo": {"S": self.sk_low},
                ":hi": {"S": self.sk_high},
                **self.values,
            },
        }
        if self.plan.index is not None:
            params["IndexName"] = self.plan.index
        if self.filter_expression:
            params["FilterExpression"] = self.filter_expression
        return params


def _shape(query: LogQuery, now_ms: int) -> _QueryShape | None:
    start_ms = max(query.start_ms, oldest_retained_log_ms(now_ms))
    # Sort keys hold 13-digit epoch ms: a later bound (a date past 2286) would sort before today's keys.
    end_ms = min(query.end_ms, END_OF_TIME_MS)
    if start_ms >= end_ms:
        return None
    plan = plan_index(query)
    clauses = ["#exp > :now"]
    names = {"#exp": "expires_at"}
    values: dict[str, Any] = {":now": {"N": str(now_ms // 1000)}}
    for position, (attribute, value) in enumerate(sorted(plan.residual_filters.items())):
        names[f"#f{position}"] = attribute
        values[f":f{position}"] = {"S": value}
        clauses.append(f"#f{position} = :f{position}")
    if query.min_latency is not None:
        names["#lat"] = "latency_ms"
        values[":minlat"] = {"N": str(query.min_latency)}
        clauses.append("#lat >= :minlat")
    if query.max_latency is not None:
        names["#lat"] = "latency_ms"
        values[":maxlat"] = {"N": str(query.max_latency)}
        clauses.append("#lat <= :maxlat")
    sk_low, sk_high = keys.sk_range(start_ms, end_ms)
    filters_in_range = len(clauses) > 1  # beyond the TTL guard, which keeps everything in a retained range
    return _QueryShape(plan, query.account_id, sk_low, sk_high, " AND ".join(clauses), names, values, filters_in_range)


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=keys.LOG_SHARDS, thread_name_prefix="shard-query")


def count_logs(query: LogQuery, now_ms: int, reads: ReadStats | None = None) -> int:
    """Exact number of retained logs matching the query (shards counted in parallel)."""
    shape = _shape(query, now_ms)
    if shape is None:
        return 0
    reads = reads if reads is not None else ReadStats()

    def count_shard(shard: int) -> tuple[int, list[dict[str, Any]]]:
        params = {**shape.params(shard), "Select": "COUNT"}
        responses, count = [], 0
        while True:
            response = dynamodb().query(**params)
            responses.append(response)
            count += int(response["Count"])
            if "LastEvaluatedKey" not in response:
                return count, responses
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    total = 0
    for count, responses in _pool().map(count_shard, range(keys.LOG_SHARDS)):
        total += count
        for response in responses:
            reads.add(response)
    return total


@dataclass
class _MergeProgress:
    """How many merged items the page still needs: no shard can have to supply more than that."""

    wanted: int
    taken: int = 0

    @property
    def remaining(self) -> int:
        return self.wanted - self.taken


def _shard_stream(
    shape: _QueryShape, shard: int, first_chunk: int, reads: ReadStats, progress: _MergeProgress
) -> Iterator[dict[str, Any]]:
    """Items of one shard, newest first, fetched in growing chunks only as the merge consumes them.

    Without a filter in the range, a refill asks for at most what the page still needs: the merge cannot
    take more than that from any one shard, so an unlucky shard does not read a doubled chunk it will
    mostly not use. With one, ``Limit`` counts items read rather than returned: chunks keep doubling so
    a sparse match costs a few calls, not one call per item.
    """
    params = {**shape.params(shard), "ScanIndexForward": False}
    chunk = first_chunk
    request = first_chunk
    while True:
        response = dynamodb().query(**params, Limit=min(request, _DYNAMODB_MAX_LIMIT))
        reads.add(response)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        chunk *= 2
        request = chunk if shape.filters_in_range else max(1, min(chunk, progress.remaining))


def newest_logs(query: LogQuery, offset: int, limit: int, now_ms: int, reads: ReadStats) -> list[StoredLog]:
    """Logs ``offset .. offset+limit`` of the query, newest first, merged across shards.

    Each shard first reads a little more than its fair share of ``offset + limit`` (hash sharding spreads
    logs evenly), so a page reads about as many items as it returns instead of ``LOG_SHARDS`` times more.
    """
    shape = _shape(query, now_ms)
    if shape is None or limit == 0:
        return []
    wanted = offset + limit
    first_chunk = math.ceil(wanted * 1.25 / keys.LOG_SHARDS) + 1
    progress = _MergeProgress(wanted)
    streams = [_shard_stream(shape, shard, first_chunk, reads, progress) for shard in range(keys.LOG_SHARDS)]
    merged = heapq.merge(*streams, key=lambda item: item["sk"]["S"], reverse=True)
    page: list[StoredLog] = []
    for raw in merged:
        progress.taken += 1
        if progress.taken > offset:
            page.append(StoredLog.from_item(from_attributes(raw)))
        # Stop on the last wanted item: asking the merge for one more would refill a shard for nothing.
        if progress.taken >= wanted:
            break
    return page


def list_logs(query: LogQuery, offset: int, limit: int, now_ms: int) -> LogPage:
    reads = ReadStats()
    total = count_logs(query, now_ms, reads)
    logs = newest_logs(query, offset, limit, now_ms, reads) if offset < total else []
    return LogPage(logs, total, reads)


def logs_in_range(account_id: str, start_ms: int, end_ms: int, now_ms: int, reads: ReadStats) -> list[StoredLog]:
    """Every retained log of the account created in ``[start_ms, end_ms)``, oldest first.

    For the stats endpoint's partial-hour edges, which are short: one query per shard partition over the
    sort-key range, shards read in parallel and merged by sort key.
    """
    shape = _shape(LogQuery(account_id, start_ms, end_ms), now_ms)
    if shape is None:
        return []

    def read_shard(shard: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        params = shape.params(shard)
        responses, items = [], []
        while True:
            response = dynamodb().query(**params)
            responses.append(response)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items, responses
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    per_shard: list[list[dict[str, Any]]] = []
    for items, responses in _pool().map(read_shard, range(keys.LOG_SHARDS)):
        per_shard.append(items)
        for response in responses:
            reads.add(response)
    merged = heapq.merge(*per_shard, key=lambda item: item["sk"]["S"])
    return [StoredLog.from_item(from_attributes(raw)) for raw in merged]
