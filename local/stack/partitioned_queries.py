"""moto's Query reading one partition, as DynamoDB's does, instead of every item of the table.

moto answers each Query (on the table or on a secondary index) by walking every item of the table
and keeping the ones whose partition key matches, so a query's time grows with the table even when
its answer is ten items. DynamoDB reads only the queried partition. With 100,000 logs a bounded
read of ours takes moto seconds per call; the benchmarks at two data sizes and the tests of the
ordered indexes would spend most of their time in that walk.

``install()`` hands moto's own ``Table.query`` the queried partition instead of the whole table:

- a table query gets the partition's items straight from moto's ``items[hash_key]``;
- an index query gets them from a map ``partition key value → items``, built once per table and
  index key attribute with one walk and reused until the next write to any table.

Everything after that (key conditions, sort order, ``ExclusiveStartKey``, ``Limit``, the 1 MB page,
projections, filter expressions, ``ScannedCount``) is moto's unchanged code on the same items, so
answers and counts are the same as without it (``tests/unit/test_partitioned_queries.py`` compares
the two on random tables). Only the local runtime and the tests use it; it changes nothing on AWS.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

# Backend calls that can add, remove or change an item; each one makes every partition map stale.
_WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)

_generation = itertools.count()  # next() is atomic under the interpreter lock
_current_generation = [next(_generation)]
_queried = threading.local()  # the partition handed to moto's query on this thread
_originals: dict[tuple[type, str], Any] = {}

# Per table: index key attribute → (generation it was built at, value → items in moto's order).
_PartitionMaps = dict[str, tuple[int, dict[DynamoType, list[Item]]]]


def install() -> None:
    """Patch moto for this process (idempotent)."""
    if _originals:
        return
    original_query = _keep(Table, "query")
    original_all_items = _keep(Table, "all_items")

    def all_items(self: Table) -> list[Item]:
        handed = getattr(_queried, "partition", None)
        if handed is not None and handed[0] is self:
            return list(handed[1])
        return original_all_items(self)

    def query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        partition = _partition(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
        if partition is None:
            return original_query(self, hash_key, *args, **kwargs)
        _queried.partition = (self, partition)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _queried.partition = None

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    for name in _WRITES:
        _mark_stale_after(name)


def uninstall() -> None:
    """moto as it was (the test that compares the two needs both)."""
    for (owner, name), original in _originals.items():
        setattr(owner, name, original)
    _originals.clear()


def _keep(owner: type, name: str) -> Any:
    _originals[(owner, name)] = getattr(owner, name)
    return _originals[(owner, name)]


def _mark_stale_after(name: str) -> None:
    original = _keep(DynamoDBBackend, name)

    def write(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        finally:
            _current_generation[0] = next(_generation)

    setattr(DynamoDBBackend, name, write)


def _partition(
    table: Table,
    hash_key: DynamoType | None,
    index_name: str | None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None,
) -> list[Item] | None:
    """The items moto's walk would keep for this partition key, or None to let moto walk."""
    if index_name is None:
        if hash_key is None:
            return None
        stored: Any = table.items.get(hash_key)  # {range key: item}, or the item when there is no range key
        if stored is None:
            return []
        return list(stored.values()) if table.range_key_attr else [stored]
    if not hash_key_conditions or len(hash_key_conditions) != 1:
        return None  # multi-attribute partition keys: moto's own walk
    ((attribute, value),) = hash_key_conditions
    return _partition_map(table, attribute).get(value, [])


def _partition_map(table: Table, attribute: str) -> dict[DynamoType, list[Item]]:
    maps: _PartitionMaps = table.__dict__.setdefault("_partition_maps", {})
    generation = _current_generation[0]
    cached = maps.get(attribute)
    if cached is not None and cached[0] == generation:
        return cached[1]
    by_value: dict[DynamoType, list[Item]] = defaultdict(list)
    for item in table.all_items():
        value = item.attrs.get(attribute)
        if value is not None:
            by_value[value].append(item)
    built = dict(by_value)
    maps[attribute] = (generation, built)
    return built
