"""Request-log reads and writes. Queries merge the account's shards in sort-key order.

Every read takes the query's range as given: the use cases narrow it to what retention leaves visible
(``domain/ranges.visible_query``) before they call here, so expired items DynamoDB has not deleted yet
lie outside every key condition.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from request_logs.config import get_settings
from request_logs.domain.counters import Counters
from request_logs.domain.filters import METADATA_PREFIX, LogQuery
from request_logs.domain.log import RequestLog
from request_logs.domain.ordering import Ordering, Position
from request_logs.domain.reads import ReadStats
from request_logs.domain.rollups import DAY_MS
from request_logs.store import keys
from request_logs.store.dynamo import BATCH_GET_LIMIT, count_read, dynamodb, from_attributes, to_attributes
from request_logs.store.indexes import (
    ATTRIBUTION,
    ERROR_VALUE_INDEXES,
    VALUE_INDEXES,
    IndexPlan,
    attribution_value,
    metadata_index,
    plan_index,
)
from request_logs.store.items import (
    SUMMARY_ATTRIBUTES,
    add_to_counters,
    log_from_item,
    log_to_item,
    metadata_slot_value,
    value_partitions,
)
from request_logs.store.query_pool import parallel_map
from request_logs.store.value_index import (
    bounded_logs,
    bounded_sort,
    filter_clauses,
    ranked_logs,
    summarize_bounded,
)

_DYNAMODB_MAX_LIMIT = 1000


class DuplicateLog(Exception):
    """The log already exists: the message was delivered before."""


def put_log(log: RequestLog, metadata_slots: Mapping[str, int] | None = None) -> None:
    """Write a log once. Raises DuplicateLog if a log with the same key exists (a redelivery).
    ``metadata_slots``: the account's indexed metadata keys and their slots (``items.log_to_item``)."""
    client = dynamodb()
    try:
        client.put_item(
            TableName=get_settings().logs_table,
            Item=to_attributes(log_to_item(log, metadata_slots)),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except client.exceptions.ConditionalCheckFailedException as exc:
        raise DuplicateLog(log.id) from exc


def get_log(account_id: str, log_id: str, reads: ReadStats | None = None) -> RequestLog | None:
    """The caller's log with this id, or None: unknown, malformed or another account's (retention is the
    caller's check, like every read's)."""
    table_key = keys.log_table_key(account_id, log_id)
    if table_key is None:
        return None
    pk, sk = table_key
    response = dynamodb().get_item(TableName=get_settings().logs_table, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    raw = response.get("Item")
    if reads is not None:
        reads.add(1 if raw is not None else 0)
    if raw is None:
        return None
    log = log_from_item(from_attributes(raw))
    return log if log.account_id == account_id else None


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
    # True when a filter drops items inside the key range (residual equality, latency or cost filters),
    # so ``Limit``, which counts items read, says little about how many items come back.
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


def _shape(
    query: LogQuery, *, after: Position | None = None, descending: bool = True, needs_attributes: bool = False
) -> _QueryShape | None:
    """The Query parameters of ``query``, or None when its key range is empty.

    ``after`` (a cursor's position) narrows the key range to the side the walk goes on, inclusively:
    BETWEEN has no open bound, and only the one shard holding that log reads it again (and skips it).
    """
    if query.start_ms >= query.end_ms:
        return None
    plan = plan_index(query, needs_attributes=needs_attributes)
    clauses, names, values = filter_clauses(query, plan.residual_filters)
    sk_low, sk_high = keys.sk_range(query.start_ms, query.end_ms)
    if after is not None:
        after_sk = keys.log_sk(after.created_ms, after.log_id)
        if descending:
            sk_high = min(sk_high, after_sk)
        else:
            sk_low = max(sk_low, after_sk)
        if sk_low > sk_high:
            return None  # DynamoDB rejects a BETWEEN whose bounds are reversed
    # Residual equality, latency and cost filters drop items inside the key range.
    filters_in_range = bool(clauses)
    return _QueryShape(
        plan, query.account_id, sk_low, sk_high, " AND ".join(clauses) or None, names, values, filters_in_range
    )


def _read_shards(
    shape: _QueryShape,
    reads: ReadStats,
    consume: Callable[[int, dict[str, Any]], None],
    *,
    projection: tuple[str, ...] = (),
    count_only: bool = False,
) -> None:
    """Every page of every shard's query (shards in parallel), each response handed to
    ``consume(shard, response)`` on the shard's thread; reads are tallied once all are done."""

    def read_shard(shard: int) -> list[dict[str, Any]]:
        params = shape.params(shard)
        if count_only:
            params["Select"] = "COUNT"
        if projection:
            projected = {f"#a{position}": name for position, name in enumerate(projection)}
            params["ProjectionExpression"] = ", ".join(projected)
            params["ExpressionAttributeNames"] = {**params["ExpressionAttributeNames"], **projected}
        responses = []
        while True:
            response = dynamodb().query(**params)
            responses.append(response)
            consume(shard, response)
            if "LastEvaluatedKey" not in response:
                return responses
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    for responses in parallel_map(read_shard, range(keys.LOG_SHARDS)):
        for response in responses:
            count_read(reads, response)


def count_logs(query: LogQuery, reads: ReadStats | None = None, *, now_ms: int) -> int:
    """Exact number of logs matching the query (shards counted in parallel)."""
    reads = reads if reads is not None else ReadStats()
    if bounded_sort(query) is not None:
        return summarize_bounded(query, reads, now_ms=now_ms).requests
    shape = _shape(query)
    if shape is None:
        return 0
    counts = [0] * keys.LOG_SHARDS

    def consume(shard: int, response: dict[str, Any]) -> None:
        counts[shard] += int(response["Count"])

    _read_shards(shape, reads, consume, count_only=True)
    return sum(counts)


def summarize_logs(query: LogQuery, reads: ReadStats | None = None, *, now_ms: int) -> Counters:
    """Exact counters (requests, tokens, cost, unpriced) of the logs matching the query, by reading them:
    those inside its latency or cost bound when it has one, else those of its range and filters."""
    reads = reads if reads is not None else ReadStats()
    if bounded_sort(query) is not None:
        return summarize_bounded(query, reads, now_ms=now_ms)
    shape = _shape(query, needs_attributes=True)
    if shape is None:
        return Counters()
    per_shard = [Counters() for _ in range(keys.LOG_SHARDS)]

    def consume(shard: int, response: dict[str, Any]) -> None:
        counters = per_shard[shard]
        for raw in response.get("Items", []):
            add_to_counters(counters, raw)

    _read_shards(shape, reads, consume, projection=SUMMARY_ATTRIBUTES)
    total = Counters()
    for counters in per_shard:
        total.merge(counters)
    return total


def shards_with_logs(visible: LogQuery, reads: ReadStats) -> frozenset[int]:
    """The account's log shards holding at least one log in the range of ``visible`` (every visible log,
    when the caller passes the account's whole visible range): one single-item read per shard."""
    shape = _shape(visible)
    if shape is None:
        return frozenset()

    def probe(shard: int) -> tuple[int, dict[str, Any]]:
        return shard, dynamodb().query(**shape.params(shard), Select="COUNT", Limit=1)

    found = set()
    for shard, response in parallel_map(probe, range(keys.LOG_SHARDS)):
        count_read(reads, response)
        if response["Count"] or "LastEvaluatedKey" in response:
            found.add(shard)
    return frozenset(found)


@dataclass
class _MergeProgress:
    """How many merged items the page still needs: no shard can have to supply more than that."""

    wanted: int
    taken: int = 0

    @property
    def remaining(self) -> int:
        return self.wanted - self.taken


def _shard_stream(
    shape: _QueryShape, shard: int, first_chunk: int, reads: ReadStats, progress: _MergeProgress, *, descending: bool
) -> Iterator[dict[str, Any]]:
    """Items of one shard in sort-key order, fetched in chunks only as the merge consumes them.

    A refill asks for the shard's fair share of what the page still needs: the merge takes no more than
    that from an average shard, so an unlucky shard does not read a large chunk it will mostly not use.
    With a filter in the range, ``Limit`` counts items read rather than returned: the share is divided
    by the share of its items the shard's filter has kept so far, and capped by doubling the previous
    chunk, so a sparse match costs a few calls and a common one does not read twice what it needs.
    """
    params = {**shape.params(shard), "ScanIndexForward": not descending}
    chunk = first_chunk
    request = first_chunk
    scanned = kept = 0
    while True:
        response = dynamodb().query(**params, Limit=min(request, _DYNAMODB_MAX_LIMIT))
        count_read(reads, response)
        items = response.get("Items", [])
        scanned += response.get("ScannedCount", len(items))
        kept += len(items)
        yield from items
        if "LastEvaluatedKey" not in response:
            return
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        chunk *= 2
        # A refill asks for no more than the shard's fair share of what the page still needs: a shard that
        # ran short early would otherwise fetch the whole remainder alone and over-read on deep pages.
        fair_share = math.ceil(progress.remaining * 1.25 / keys.LOG_SHARDS) + 1
        if not shape.filters_in_range:
            request = max(1, min(chunk, progress.remaining, fair_share))
        elif kept:
            request = max(1, min(chunk, math.ceil(fair_share * scanned / kept)))
        else:
            request = chunk  # nothing kept yet: no rate to go by, keep doubling


def _time_path_reads(wanted: int, bound_selectivity: float | None) -> int | None:
    """About what reading by time with a residual filter costs for ``wanted`` matches: each shard's chunks
    double until it has its share of matches (up to twice the items needed), from a first chunk each."""
    if not bound_selectivity:
        return None
    return 2 * math.ceil(wanted / bound_selectivity) + keys.LOG_SHARDS * _first_chunk(wanted)


def _first_chunk(wanted: int) -> int:
    """A shard's first chunk of a merged walk: its fair share of the page and a quarter more, plus one."""
    return math.ceil(wanted * 1.25 / keys.LOG_SHARDS) + 1


@dataclass(frozen=True)
class LogPage:
    """One page of logs, and whether the query holds more after it: known from the key of one log more
    than the page, which is read from the index but never fetched from the table."""

    logs: list[RequestLog]
    has_more: bool
    # Ids after the page's last log in its value-index bucket, for the cursor (``BoundedPage.rest``).
    bucket_rest: tuple[str, ...] | None = None


def _page_of(table_keys: list[tuple[str, str]], limit: int, reads: ReadStats) -> LogPage:
    """The page of ``limit`` logs whose keys start ``table_keys`` (one key more says there is more)."""
    return LogPage(_logs_by_key(table_keys[:limit], reads), len(table_keys) > limit)


def ordered_logs(
    query: LogQuery,
    *,
    skip: int,
    limit: int,
    reads: ReadStats,
    now_ms: int,
    descending: bool = True,
    after: Position | None = None,
    bucket_rest: tuple[str, ...] | None = None,
    bound_selectivity: float | None = None,
) -> LogPage:
    """Logs ``skip .. skip+limit`` of the query in creation order (newest first unless ascending),
    strictly after the position ``after`` when a cursor gives one.

    A latency or cost bound is read through its value index while that costs less than reading by time
    with the bound as a filter would (``bounded_logs``; ``bound_selectivity``, the share of the unbounded
    query's logs the bound keeps, prices the other way); otherwise the table or the best filter index is
    read by time and its shards merged. ``bucket_rest``: what the previous page of a bounded walk left of
    its bucket (``LogPage.bucket_rest``), carried by the cursor.
    """
    wanted = skip + limit + 1  # one more than the page: whether there is more
    after_sk = keys.log_sk(after.created_ms, after.log_id) if after is not None else None
    if bounded_sort(query) is not None:
        found = bounded_logs(
            query,
            skip=skip,
            limit=limit,
            reads=reads,
            now_ms=now_ms,
            descending=descending,
            after_sk=after_sk,
            carried=bucket_rest,
            time_path_reads=_time_path_reads(wanted, bound_selectivity),
        )
        if found is not None:
            # ``found.rest`` is None when nothing follows the page.
            return replace(_page_of(found.keys, limit, reads), bucket_rest=found.rest)
    shape = _shape(query, after=after, descending=descending)
    if shape is None:
        return LogPage([], has_more=False)
    first_chunk = _first_chunk(wanted)
    progress = _MergeProgress(wanted)
    streams = [
        _shard_stream(shape, shard, first_chunk, reads, progress, descending=descending)
        for shard in range(keys.LOG_SHARDS)
    ]
    merged = heapq.merge(*streams, key=lambda item: item["sk"]["S"], reverse=descending)
    page: list[dict[str, Any]] = []
    for raw in merged:
        if raw["sk"]["S"] == after_sk:
            continue  # the cursor's own log, read again because BETWEEN bounds are inclusive
        progress.taken += 1
        if progress.taken > skip:
            page.append(raw)
        # Stop on the last wanted item: asking the merge for one more would refill a shard for nothing.
        if progress.taken >= wanted:
            break
    if shape.plan.index is None:
        logs = [log_from_item(from_attributes(raw)) for raw in page]
        return LogPage(logs[:limit], len(logs) > limit)
    # An index projects what filters and sums need, not the whole log: the page comes from the table.
    return _page_of([(raw["pk"]["S"], raw["sk"]["S"]) for raw in page], limit, reads)


def top_logs(
    query: LogQuery,
    ordering: Ordering,
    *,
    skip: int,
    limit: int,
    reads: ReadStats,
    now_ms: int,
    after: Position | None = None,
) -> LogPage:
    """Logs ``skip .. skip+limit`` of the query in ``ordering`` (by cost, latency or tokens), strictly
    after the position ``after`` when a cursor gives one: the page's keys from the value index, merged
    across the range's days, then the page's logs from the table."""
    ranked = ranked_logs(query, ordering, skip=skip, limit=limit + 1, reads=reads, now_ms=now_ms, after=after)
    return _page_of(ranked, limit, reads)


def _logs_by_key(table_keys: list[tuple[str, str]], reads: ReadStats) -> list[RequestLog]:
    """The logs with these (pk, sk) keys, in the order given (BatchGetItem returns them in any order)."""
    table = get_settings().logs_table
    found: dict[tuple[str, str], RequestLog] = {}
    for start in range(0, len(table_keys), BATCH_GET_LIMIT):
        request: dict[str, Any] = {
            table: {
                "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in table_keys[start : start + BATCH_GET_LIMIT]]
            }
        }
        while request:
            response = dynamodb().batch_get_item(RequestItems=request)
            items = response.get("Responses", {}).get(table, [])
            reads.add(len(items))
            for raw in items:
                found[(raw["pk"]["S"], raw["sk"]["S"])] = log_from_item(from_attributes(raw))
            request = response.get("UnprocessedKeys") or {}
    # A log that expired and was deleted between the two reads is simply not on the page.
    return [found[key] for key in table_keys if key in found]


def logs_in_range(account_id: str, start_ms: int, end_ms: int, reads: ReadStats) -> list[RequestLog]:
    """Every log of the account created in ``[start_ms, end_ms)``, oldest first.

    For the stats endpoint's partial-hour edges, which are short: one query per shard partition over the
    sort-key range, shards read in parallel and merged by sort key.
    """
    shape = _shape(LogQuery(account_id, start_ms, end_ms))
    if shape is None:
        return []

    per_shard: list[list[dict[str, Any]]] = [[] for _ in range(keys.LOG_SHARDS)]
    _read_shards(shape, reads, lambda shard, response: per_shard[shard].extend(response.get("Items", [])))
    merged = heapq.merge(*per_shard, key=lambda item: item["sk"]["S"])
    return [log_from_item(from_attributes(raw)) for raw in merged]


def _update_logs(updates_by_shard: list[list[dict[str, Any]]]) -> int:
    """Apply conditional ``UpdateItem`` requests to log items, each shard's in turn and the shards in
    parallel; how many were written. A failed condition is not an error: the log already holds the value
    (a second run of a backfill), or TTL deleted it meanwhile and it must not be written back."""

    def write_shard(updates: list[dict[str, Any]]) -> int:
        written = 0
        client = dynamodb()
        for update in updates:
            try:
                client.update_item(TableName=get_settings().logs_table, **update)
                written += 1
            except client.exceptions.ConditionalCheckFailedException:
                pass
        return written

    return sum(parallel_map(write_shard, updates_by_shard))


@dataclass(frozen=True)
class SlotBackfill:
    carrying: int  # logs carrying the key
    written: int  # of those, given the slot attribute by this run
    days: tuple[int, ...]  # the UTC days (start ms) holding any log of the range: what a rebuild must cover


def backfill_metadata_slot(
    account_id: str, key: str, slot: int, start_ms: int, end_ms: int, reads: ReadStats
) -> SlotBackfill:
    """Give every log of the account created in ``[start_ms, end_ms)`` that carries metadata ``key`` the
    attribute of ``slot`` (``items.log_to_item`` writes it for new logs). Idempotent: a log that already
    holds the value is left alone (its conditional update fails), and a log deleted meanwhile is not
    written back.

    An admin operation: it reads every log of the range (shards in parallel), the key projected only.
    Updates reach the stream as MODIFY records, which the aggregator never sees (its filter takes INSERT).
    """
    attribute = metadata_index(slot)[1]
    shape = _shape(LogQuery(account_id, start_ms, end_ms))
    if shape is None:
        return SlotBackfill(0, 0, ())
    carrying: list[list[tuple[str, str, str]]] = [[] for _ in range(keys.LOG_SHARDS)]
    days: list[set[int]] = [set() for _ in range(keys.LOG_SHARDS)]

    def collect(shard: int, response: dict[str, Any]) -> None:
        for raw in response.get("Items", []):
            created_ms = keys.parse_log_sk(raw["sk"]["S"])[0]
            days[shard].add(created_ms - created_ms % DAY_MS)
            value = raw.get("metadata", {}).get("M", {}).get(key, {}).get("S")
            if value is not None:
                carrying[shard].append((raw["pk"]["S"], raw["sk"]["S"], value))

    # Every log, not only those carrying the key: the others count under the key's absent value, so
    # their days need rebuilding too. A filter would not make the read cheaper anyway.
    _read_shards(shape, reads, collect, projection=("pk", "sk", "metadata"))

    def update(shard: int, pk: str, sk: str, value: str) -> dict[str, Any]:
        return {
            "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
            "UpdateExpression": "SET #slot = :v ADD #attribution :pair",
            "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(#slot) OR #slot <> :v)",
            "ExpressionAttributeNames": {"#slot": attribute, "#attribution": ATTRIBUTION},
            "ExpressionAttributeValues": {
                ":v": {"S": metadata_slot_value(account_id, shard, key, value)},
                ":pair": {"SS": [attribution_value(METADATA_PREFIX + key, value)]},
            },
        }

    written = _update_logs([[update(shard, *found) for found in carrying[shard]] for shard in range(keys.LOG_SHARDS)])
    return SlotBackfill(sum(len(found) for found in carrying), written, tuple(sorted(set().union(*days))))


@dataclass(frozen=True)
class PartitionBackfill:
    logs: int  # logs of the range
    written: int  # of those, given value-index partition attributes they lacked by this run


def backfill_value_partitions(account_id: str, start_ms: int, end_ms: int, reads: ReadStats) -> PartitionBackfill:
    """Give every log of the account created in ``[start_ms, end_ms)`` the value-index partition attributes
    it lacks (``items.value_partitions``, which new logs get when written): after an index is partitioned
    anew (decisions §35), the logs written before are in none of its partitions until this runs.
    Idempotent: a log that holds them is not written, and a log deleted meanwhile is not written back.

    An admin operation: it reads every log of the range (shards in parallel), the keys, status, ingest
    stamp and partition attributes projected. Updates reach the stream as MODIFY records, which the
    aggregator never sees (its filter takes INSERT).
    """
    shape = _shape(LogQuery(account_id, start_ms, end_ms))
    if shape is None:
        return PartitionBackfill(0, 0)
    attributes = sorted({index.partition for index in (*VALUE_INDEXES.values(), *ERROR_VALUE_INDEXES.values())})
    lacking: list[list[tuple[str, str, dict[str, str]]]] = [[] for _ in range(keys.LOG_SHARDS)]
    seen = [0] * keys.LOG_SHARDS

    def collect(shard: int, response: dict[str, Any]) -> None:
        for raw in response.get("Items", []):
            seen[shard] += 1
            created_ms = keys.parse_log_sk(raw["sk"]["S"])[0]
            ingested_ms = int(raw["ingested_ms"]["N"]) if "ingested_ms" in raw else None
            error = raw.get("status", {}).get("S") == "error"
            wanted = value_partitions(account_id, created_ms, ingested_ms, error=error)
            missing = {name: value for name, value in wanted.items() if name not in raw}
            if missing:
                lacking[shard].append((raw["pk"]["S"], raw["sk"]["S"], missing))

    _read_shards(shape, reads, collect, projection=("pk", "sk", "status", "ingested_ms", *attributes))

    def update(pk: str, sk: str, missing: dict[str, str]) -> dict[str, Any]:
        names = {f"#a{position}": name for position, name in enumerate(missing)}
        return {
            "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
            "UpdateExpression": "SET " + ", ".join(f"{name} = :{name[1:]}" for name in names),
            "ConditionExpression": " AND ".join(
                ["attribute_exists(pk)", *(f"attribute_not_exists({name})" for name in names)]
            ),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                f":a{position}": {"S": value} for position, value in enumerate(missing.values())
            },
        }

    written = _update_logs([[update(*found) for found in lacking[shard]] for shard in range(keys.LOG_SHARDS)])
    return PartitionBackfill(sum(seen), written)
