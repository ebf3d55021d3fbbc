"""Reads through the value indexes: one account's logs of one time bucket (``keys.ValueBuckets``), ordered by
cost, latency or total tokens (``store/indexes.VALUE_INDEXES``).

- ``ranked_logs``: a page sorted by a value. Each bucket of the range is a stream in the value's order,
  fetched lazily in growing chunks; the streams merge like the table's shards do, so a page reads about
  ``limit`` items plus one chunk per bucket, however many logs the range holds.
- ``bounded_logs``: a page newest (or oldest) first among the logs inside a latency or cost bound. The
  bound is the key condition, so a bucket costs the logs that match it; buckets are read newest first until the
  page is full. When a bound matches much of a bucket, reading by time with a filter is cheaper: past a
  budget of items the function gives up and the caller takes that path.
- ``summarize_bounded``: the counters of every log inside a bound, reading the matching logs only.

Logs with equal values have no order in an index: a stream collects each run of equal values and
returns it sorted by creation instant and id, so every page follows the total order of
``domain/ordering``. A cursor's position narrows each bucket's key condition to its side of the value and
skips the equal values already returned.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from request_logs.config import get_settings
from request_logs.domain.counters import Counters
from request_logs.domain.filters import LogQuery
from request_logs.domain.ordering import Ordering, Position, Sort, sort_value
from request_logs.domain.reads import ReadStats
from request_logs.store import keys
from request_logs.store.dynamo import count_read, dynamodb
from request_logs.store.indexes import (
    ATTRIBUTION,
    ERROR_VALUE_INDEXES,
    UNPRICED_RANK,
    VALUE_INDEXES,
    ValueIndex,
    attribution_value,
    is_attribution,
)
from request_logs.store.items import add_to_counters, cost_of_rank
from request_logs.store.query_pool import MAX_PARALLEL_QUERIES, parallel_map

_DYNAMODB_MAX_LIMIT = 1000
# Above every value a log can hold (ingest caps latencies and tokens at 2^53 each, a cost at 2,000,000).
_ABOVE_ANY_VALUE = Decimal(2**60)
# ``bounded_logs`` reads at most this many items (or four pages' worth) before it leaves the page to the
# time-ordered path: a bound that matches that much of a bucket is not selective.
_BOUNDED_BUDGET = 200
# A bound as a filter: (the value, its expression names' stem, the attribute it compares).
_BOUND_FILTERS: tuple[tuple[Sort, str, str], ...] = (("latency", "lat", "latency_ms"), ("cost", "cost", "cost_rank"))


@dataclass(frozen=True)
class ValueRange:
    """Inclusive bounds on an index's sort key; ``exact`` asks for one value (the unpriced logs)."""

    low: Decimal = Decimal(0)
    high: Decimal = _ABOVE_ANY_VALUE
    exact: Decimal | None = None

    @property
    def empty(self) -> bool:
        return self.exact is None and self.low > self.high


def value_range(query: LogQuery, sort: Sort) -> ValueRange:
    """The query's own bound on the value ``sort`` orders by (the whole axis when it has none)."""
    if sort == "latency":
        return ValueRange(
            Decimal(query.min_latency or 0),
            Decimal(query.max_latency) if query.max_latency is not None else _ABOVE_ANY_VALUE,
        )
    if sort == "cost":
        high = query.max_cost if query.max_cost is not None else _ABOVE_ANY_VALUE
        return ValueRange(query.min_cost or Decimal(0), high)
    return ValueRange()


def bounded_sort(query: LogQuery) -> Sort | None:
    """The value index a bounded query reads: its latency bound, else its cost bound, else None."""
    if query.min_latency is not None or query.max_latency is not None:
        return "latency"
    if query.filters_cost:
        return "cost"
    return None


def filter_clauses(
    query: LogQuery, equality: Mapping[str, str], *, keyed: Sort | None = None
) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """Filter-expression parts for the ``equality`` filters and the query's latency and cost bounds, but
    the bound the key condition already carries (``keyed``, the sort of the index read).

    A bound is two comparisons, not BETWEEN: the same on DynamoDB, and moto's filter drops a value of 0
    from a BETWEEN (a failed request the gateway billed nothing). A cost bound, never negative, leaves the
    unpriced logs (``cost_rank`` -1) out too.

    A user or metadata filter tests the log's attribution set (``indexes.ATTRIBUTION``) with contains():
    one small attribute every index but the attribution ones (keys only) projects.
    """
    clauses: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for position, (name, value) in enumerate(sorted(equality.items())):
        names[f"#f{position}"] = ATTRIBUTION if is_attribution(name) else name
        if is_attribution(name):
            values[f":f{position}"] = {"S": attribution_value(name, value)}
            clauses.append(f"contains(#f{position}, :f{position})")
            continue
        values[f":f{position}"] = {"S": value}
        clauses.append(f"#f{position} = :f{position}")
    bounded = {"latency": query.filters_latency, "cost": query.filters_cost}
    for sort, name, attribute in _BOUND_FILTERS:
        if sort == keyed or not bounded[sort]:
            continue
        bounds = value_range(query, sort)
        names[f"#{name}"] = attribute
        values[f":min{name}"] = {"N": str(bounds.low)}
        values[f":max{name}"] = {"N": str(bounds.high)}
        clauses.append(f"#{name} >= :min{name} AND #{name} <= :max{name}")
    return clauses, names, values


def value_index(query: LogQuery, sort: Sort) -> ValueIndex:
    """The index a read of ``query`` by ``sort`` goes through: the errors' own with status=error."""
    return (ERROR_VALUE_INDEXES if query.status == "error" else VALUE_INDEXES)[sort]


def _filter_clauses(
    query: LogQuery, sort: Sort, buckets: keys.ValueBuckets, bucket: int
) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """Filter expression parts for one bucket: equality filters, the bounds the key condition does not carry,
    and the query's time range where it cuts the bucket."""
    clauses, names, values = filter_clauses(query, query.equality_filters(), keyed=sort)
    if bucket == keys.FUTURE_BUCKET:
        bucket_start, bucket_end = query.start_ms, query.end_ms
    else:
        bucket_start, bucket_end = buckets.start(bucket), buckets.start(bucket + 1)
    if bucket == keys.FUTURE_BUCKET or query.start_ms > bucket_start or query.end_ms < bucket_end:
        low, high = keys.sk_range(max(query.start_ms, bucket_start), min(query.end_ms, bucket_end))
        names["#sk"] = "sk"
        values[":sklo"] = {"S": low}
        values[":skhi"] = {"S": high}
        clauses.append("#sk BETWEEN :sklo AND :skhi")
    return clauses, names, values


def _bucket_params(query: LogQuery, sort: Sort, bucket: int, bounds: ValueRange, *, descending: bool) -> dict[str, Any]:
    index = value_index(query, sort)
    if query.status == "error":  # the errors' own index: the status is its partition, not a filter
        query = replace(query, status=None)
    clauses, names, values = _filter_clauses(query, sort, index.buckets, bucket)
    names.update({"#p": index.partition, "#v": index.value})
    values[":p"] = {"S": index.buckets.pk(query.account_id, bucket)}
    if bounds.exact is not None:
        condition = "#p = :p AND #v = :v"
        values[":v"] = {"N": str(bounds.exact)}
    else:
        condition = "#p = :p AND #v BETWEEN :lo AND :hi"
        values[":lo"] = {"N": str(bounds.low)}
        values[":hi"] = {"N": str(bounds.high)}
    params: dict[str, Any] = {
        "TableName": get_settings().logs_table,
        "IndexName": index.name,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": not descending,
    }
    if clauses:
        params["FilterExpression"] = " AND ".join(clauses)
    return params


def _position(raw: dict[str, Any], ordering: Ordering) -> Position:
    created_ms, log_id = keys.parse_log_sk(raw["sk"]["S"])
    input_tokens, output_tokens = int(raw["input_tokens"]["N"]), int(raw["output_tokens"]["N"])
    value = sort_value(
        ordering.sort,
        cost=cost_of_rank(raw),
        latency_ms=int(raw["latency_ms"]["N"]),
        total_tokens=input_tokens + output_tokens,
        created_ms=created_ms,
    )
    return ordering.key_of(value, created_ms, log_id)


class _BucketStream:
    """One bucket's logs in an order, as (position, item) pairs, fetched in chunks that double as they are
    consumed. The first chunk can be fetched ahead (``prefetch``, on a pool thread) so that the buckets of a
    merge start in parallel."""

    def __init__(self, params: dict[str, Any], first_limit: int, ordering: Ordering) -> None:
        self._params = params
        self._limit = first_limit
        self._ordering = ordering
        self._first: dict[str, Any] | None = None

    def _query(self) -> dict[str, Any]:
        return dynamodb().query(**self._params, Limit=min(self._limit, _DYNAMODB_MAX_LIMIT))

    def prefetch(self) -> None:
        self._first = self._query()

    def positions(self, reads: ReadStats) -> Iterator[tuple[Position, dict[str, Any]]]:
        response = self._first if self._first is not None else self._query()
        self._first = None
        run: list[tuple[Position, dict[str, Any]]] = []  # equal values, in no particular order yet
        while True:
            count_read(reads, response)
            for raw in response.get("Items", []):
                position = _position(raw, self._ordering)
                if run and run[-1][0][:2] != position[:2]:
                    yield from sorted(run, key=lambda pair: pair[0], reverse=self._ordering.descending)
                    run = []
                run.append((position, raw))
            if "LastEvaluatedKey" not in response:
                break
            self._params = {**self._params, "ExclusiveStartKey": response["LastEvaluatedKey"]}
            self._limit *= 2
            response = self._query()
        yield from sorted(run, key=lambda pair: pair[0], reverse=self._ordering.descending)


def _start_streams(streams: list[_BucketStream]) -> None:
    parallel_map(lambda stream: stream.prefetch(), streams)


def _after_bounds(bounds: ValueRange, after: Position, *, descending: bool) -> ValueRange:
    """A priced cursor's position narrows the key condition to its side, equal values included."""
    if descending:
        return ValueRange(bounds.low, min(bounds.high, after.value))
    return ValueRange(max(bounds.low, after.value), bounds.high)


def ranked_logs(
    query: LogQuery,
    ordering: Ordering,
    *,
    skip: int,
    limit: int,
    reads: ReadStats,
    now_ms: int,
    after: Position | None = None,
) -> list[tuple[str, str]]:
    """Table keys (pk, sk) of logs ``skip .. skip+limit`` of the query in ``ordering`` (by cost, latency
    or tokens), strictly after the position ``after`` when a cursor gives one.

    Logs with a value come first in both orders; the unpriced ones (cost only) follow in creation order,
    read only once the priced ones are exhausted.
    """
    wanted = skip + limit
    sort, descending = ordering.sort, ordering.descending
    buckets = value_index(query, sort).buckets.partitions(query.start_ms, query.end_ms, now_ms=now_ms)
    if wanted == 0 or not buckets:
        return []
    bounds = value_range(query, sort)
    unpriced_phase = ordering.sort == "cost" and not query.filters_cost
    # A priced position says ranked == descending (``Ordering.key_of``).
    after_unpriced = after is not None and after.ranked != ordering.descending
    phases: list[ValueRange] = []
    if not after_unpriced:
        phases.append(bounds if after is None else _after_bounds(bounds, after, descending=ordering.descending))
    if unpriced_phase:
        phases.append(ValueRange(exact=UNPRICED_RANK))
    first_limit = 1 + math.ceil(wanted / len(buckets))
    chosen: list[tuple[str, str]] = []
    taken = 0
    for phase in phases:
        if phase.empty:
            continue
        streams = [
            _BucketStream(_bucket_params(query, sort, bucket, phase, descending=descending), first_limit, ordering)
            for bucket in buckets
        ]
        _start_streams(streams)
        merged = heapq.merge(
            *(stream.positions(reads) for stream in streams), key=lambda pair: pair[0], reverse=ordering.descending
        )
        for position, raw in merged:
            if after is not None and not ordering.comes_after(position, after):
                continue
            taken += 1
            if taken > skip:
                chosen.append((raw["pk"]["S"], raw["sk"]["S"]))
            if taken >= wanted:
                return chosen
    return chosen


@dataclass(frozen=True)
class BoundedPage:
    """Table keys of a bounded page in walk order, one more than the page when more follow; and ``rest``,
    the ids of the logs after the page's last one in its bucket (in walk order), which a cursor carries
    so that the next page need not read that bucket again: None when there are more than
    ``MAX_CARRIED_IDS`` of them, or when the page is the walk's last."""

    keys: list[tuple[str, str]]
    rest: tuple[str, ...] | None = None


# A cursor carries at most this many ids of its bucket's rest (25 characters each, packed by
# ``logic/cursors``): about 1.2 KB of cursor at most, what 24 ids took as JSON strings.
MAX_CARRIED_IDS = 48


def bounded_logs(
    query: LogQuery,
    *,
    skip: int,
    limit: int,
    reads: ReadStats,
    now_ms: int,
    descending: bool,
    after_sk: str | None = None,
    carried: tuple[str, ...] | None = None,
    time_path_reads: int | None = None,
) -> BoundedPage | None:
    """Table keys of logs ``skip .. skip+limit`` of a query with a latency or cost bound, and of one more
    when more follow, in creation order (newest first when ``descending``), after the table sort key
    ``after_sk`` of a cursor. ``carried``: the rest of the cursor's bucket as the previous page found it
    (``BoundedPage.rest``), which then is not read again.

    None when the bound is not selective enough for this path (more items read before the page is full
    than the budget: what reading by time is estimated to cost, ``time_path_reads``, and never less than a
    few pages): the caller reads by time with the bound as a filter instead.
    """
    sort = bounded_sort(query)
    assert sort is not None, "bounded_logs needs a latency or cost bound"
    wanted = skip + limit + 1  # one more than the page: whether more follow
    scheme = value_index(query, sort).buckets
    partitions = scheme.partitions(query.start_ms, query.end_ms, now_ms=now_ms)
    if not partitions:
        return BoundedPage([])
    budget = max(_BOUNDED_BUDGET, 4 * wanted, time_path_reads or 0)
    spent = ReadStats()

    def matching(bucket: int) -> tuple[list[tuple[str, str]] | None, ReadStats]:
        """Every (pk, sk) of the bucket inside the bound, or None past what is left of the budget."""
        allowance, bucket_reads = budget - spent.items_read, ReadStats()
        if bucket == keys.FUTURE_BUCKET or bucket in partitions:
            params = _bucket_params(query, sort, bucket, value_range(query, sort), descending=descending)
            found: list[tuple[str, str]] = []
            for _, raw in _BucketStream(params, allowance + 1, Ordering(sort)).positions(bucket_reads):
                found.append((raw["pk"]["S"], raw["sk"]["S"]))
                if bucket_reads.items_read > allowance:
                    return None, bucket_reads
            return found, bucket_reads
        return [], bucket_reads

    def walked(sk: str) -> bool:
        return after_sk is None or (sk < after_sk if descending else sk > after_sk)

    # Future-dated logs have a partition of their own: read it first, and slot them into their buckets.
    future, future_reads = matching(keys.FUTURE_BUCKET)
    spent.add(future_reads.items_read, future_reads.calls)
    if future is None:
        reads.add(spent.items_read, spent.calls)
        return None
    by_bucket: dict[int, list[tuple[str, str]]] = {}
    for key in future:
        by_bucket.setdefault(scheme.of(keys.parse_log_sk(key[1])[0]), []).append(key)
    buckets = sorted({*partitions[:-1], *by_bucket}, reverse=descending)

    def covered_ms(bucket: int, start_ms: int | None = None, end_ms: int | None = None) -> int:
        """The time of ``bucket`` inside the query and up to now (or inside ``start_ms .. end_ms``)."""
        start = max(scheme.start(bucket), query.start_ms, start_ms or 0)
        end = min(scheme.start(bucket + 1), query.end_ms, now_ms, end_ms if end_ms is not None else now_ms)
        return max(0, end - start)

    # page: keys in walk order, each bucket's unseen matches sorted by creation; page_buckets: their buckets.
    page: list[tuple[str, str]] = []
    page_buckets: list[int] = []
    matched, covered = 0, 0
    if after_sk is not None:
        cursor_ms = keys.parse_log_sk(after_sk)[0]
        cursor_bucket = scheme.of(cursor_ms)

        def ahead(bucket: int) -> bool:  # the cursor's own bucket is read again unless it was carried
            if bucket == cursor_bucket:
                return carried is None
            return bucket < cursor_bucket if descending else bucket > cursor_bucket

        buckets = [bucket for bucket in buckets if ahead(bucket)]
        if carried is not None:
            # The previous page read this bucket whole: its rest comes from the cursor, the rate from the
            # rest over the part of the bucket it spans.
            for log_id in carried:
                carried_key = keys.log_table_key(query.account_id, log_id)
                if carried_key is not None and query.start_ms <= keys.parse_log_sk(carried_key[1])[0] < query.end_ms:
                    page.append(carried_key)
                    page_buckets.append(cursor_bucket)
            matched = len(carried)
            span = (None, cursor_ms) if descending else (cursor_ms, None)
            covered = covered_ms(cursor_bucket, *span)

    # Buckets in parallel waves: the first bucket alone, then twice the last wave, or fewer when the
    # matches seen so far say fewer buckets fill the page; at most one per thread. A selective bound
    # spends one short call per bucket; a dense one reads about the page, not a wave of full buckets.
    # Never more than doubling: traffic has quiet hours, and a rate taken from them would send a wide
    # wave into the busy hours ahead (four-hour latency buckets swing several-fold over a day). The rate
    # counts every match of the buckets read, those a cursor already walked past included (the cursor's
    # own bucket is mostly walked), per the time the buckets cover inside the query and up to now: the
    # newest bucket is only partly elapsed. After a carried rest the first wave is one bucket too.
    start, wave = 0, 1
    while start < len(buckets) and len(page) < wanted:
        if start:
            per_bucket = matched * scheme.width_ms / covered if covered else 0
            wave = 2 * wave if per_bucket == 0 else min(2 * wave, math.ceil((wanted - len(page)) / per_bucket))
            wave = max(1, min(wave, MAX_PARALLEL_QUERIES))
        batch = buckets[start : start + wave]
        for bucket, (bucket_keys, bucket_reads) in zip(batch, parallel_map(matching, batch), strict=True):
            spent.add(bucket_reads.items_read, bucket_reads.calls)
            if bucket_keys is None or spent.items_read > budget:
                reads.add(spent.items_read, spent.calls)
                return None
            in_bucket = bucket_keys + by_bucket.get(bucket, [])
            matched += len(in_bucket)
            covered += covered_ms(bucket)
            if len(page) < wanted:
                unseen = [key for key in in_bucket if walked(key[1])]
                unseen.sort(key=lambda key: key[1], reverse=descending)
                page.extend(unseen)
                page_buckets.extend([bucket] * len(unseen))
        start += len(batch)
    reads.add(spent.items_read, spent.calls)
    return BoundedPage(page[skip:wanted], _rest(page, page_buckets, skip + limit - 1))


def _rest(page: list[tuple[str, str]], page_buckets: list[int], last: int) -> tuple[str, ...] | None:
    """The ids after ``page[last]`` in its bucket, when a cursor carries them (see ``BoundedPage``)."""
    if last + 1 >= len(page):
        return None  # the walk ends here (or the page is short): no cursor
    bucket = page_buckets[last]
    after_last = zip(page[last + 1 :], page_buckets[last + 1 :], strict=True)
    rest = [keys.parse_log_sk(sk)[1] for (_, sk), of in after_last if of == bucket]
    return tuple(rest) if len(rest) <= MAX_CARRIED_IDS else None


def summarize_bounded(query: LogQuery, reads: ReadStats, *, now_ms: int) -> Counters:
    """Exact counters of the logs matching a query with a latency or cost bound: the buckets are read in
    parallel through the bound's value index, each costing the logs inside the bound."""
    sort = bounded_sort(query)
    assert sort is not None, "summarize_bounded needs a latency or cost bound"
    return summarize_value_range(query, sort, value_range(query, sort), reads, now_ms=now_ms)


def summarize_value_range(
    query: LogQuery, sort: Sort, bounds: ValueRange, reads: ReadStats, *, now_ms: int
) -> Counters:
    """Exact counters of the logs of ``query`` whose ``sort`` value is inside ``bounds`` (inclusive), read
    from the value index bucket by bucket in parallel (the rollups' cut bins, ``logic/totals``)."""
    buckets = value_index(query, sort).buckets.partitions(query.start_ms, query.end_ms, now_ms=now_ms)
    if bounds.empty or not buckets:
        return Counters()

    def read_bucket(bucket: int) -> tuple[Counters, ReadStats]:
        counters, bucket_reads = Counters(), ReadStats()
        params = _bucket_params(query, sort, bucket, bounds, descending=False)
        while True:
            response = dynamodb().query(**params)
            count_read(bucket_reads, response)
            for raw in response.get("Items", []):
                add_to_counters(counters, raw)
            if "LastEvaluatedKey" not in response:
                return counters, bucket_reads
            params = {**params, "ExclusiveStartKey": response["LastEvaluatedKey"]}

    total = Counters()
    for counters, bucket_reads in parallel_map(read_bucket, buckets):
        total.merge(counters)
        reads.add(bucket_reads.items_read, bucket_reads.calls)
    return total
