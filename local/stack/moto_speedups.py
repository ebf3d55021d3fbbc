"""moto's server giving the same DynamoDB answers with less Python per request and per item.

Profiled serving our API (moto 5.1.22, ``partitioned_queries`` on), moto spends its time in:

- per request: finding the backend for the host (it lists its package directory, a stat per service, and
  tries every service's URL patterns), listing the handler's methods with ``inspect.getmembers``, a regex
  over the whole body looking for an XML ``<RequestId>``, and for GetItem/Query/Scan/PutItem/DeleteItem a
  ``json.loads`` + ``json.dumps`` of the response that adds nothing unless ConsumedCapacity was asked for;
- per item walked by a query: ``Item.size()`` (every attribute, in Python) to stop at 1 MB, recomputed on
  each query and twice for each item returned, and ``cast_value`` to sort and compare keys;
- per item returned: ``copy.deepcopy``, an index projection that converts the whole item to Python and
  back once per projected attribute, and a JSON encoder calling back into Python for each attribute;
- and with time: moto keeps every Item it ever creates in ``Item.instances_tracked`` (its dashboard),
  query copies included, so the server grows by ~5 KB per item read and each garbage collection walks
  them all.

``install()`` keeps each of those answers instead of recomputing it, or computes it directly, as the
functions below explain; anything unusual (other attribute types, nested projections, a body the plain
JSON encoder refuses) goes to moto's own code. ``tests/unit/test_moto_speedups.py`` compares every
response byte for byte with moto unpatched on random tables, queries and writes.

Server CPU per call against ``MotoServer`` (5,000 logs shaped like ours; the 10-item query walks its
~625-item partition), with ``partitioned_queries`` alone → with this module too:

    GetItem                                       3.0–3.4 ms  →  1.6–2.2 ms
    Query, sk BETWEEN, 10 items                     38–44 ms  →  9–10 ms
    Query, sk BETWEEN, 300 items                  123–139 ms  →  38–40 ms   (410–460 → 130 µs/item)
    the same with Select=COUNT                      82–95 ms  →  14 ms
    Query on a GSI (INCLUDE), Limit 50              73–74 ms  →  16–18 ms
    Query on a GSI (INCLUDE), 464 items           500–550 ms  →  64–66 ms   (1.1 ms → 140 µs/item)
    BatchGetItem, 100 keys                          19–21 ms  →  15 ms
    server's memory after those calls             545 MB      →  170 MB

Only the local runtime and the tests use it; it changes nothing on AWS.
"""

from __future__ import annotations

import base64
import copy
import functools
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.core import responses as core_responses
from moto.core.common_models import BaseModel
from moto.core.responses import BaseResponse
from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.models import DynamoDBBackend, dynamo_type
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

# What install() replaced: (class or module, attribute) → the attribute as it was in its __dict__, so that
# a staticmethod goes back as a staticmethod.
_originals: dict[tuple[Any, str], Any] = {}

# Every install starts a new epoch: a size cached in an earlier one may predate a write made while the
# patches were off (and nothing then marked the item changed).
_epochs = itertools.count()
_epoch = [next(_epochs)]
# Each in-place change of an item stamps it with a fresh number (next() is atomic under the GIL).
_stamps = itertools.count()

# What this module keeps on moto's objects, in their __dict__. The leading underscore keeps them out of
# moto's /moto-api/data.json, which lists an instance's public attributes.
_SIZE = "_speedups_size"  # on an Item: ((epoch, stamp), size)
_STAMP = "_speedups_stamp"  # on an Item changed in place
_CAST = "_speedups_cast"  # on a number's DynamoType: (its string, its Decimal)
_ROUTES = "_speedups_routes"  # on the dispatcher: (its URL patterns, {host: backend})
# Unsigned requests name their service in the path: hosts are not bounded by the services we use.
_MAX_ROUTES = 1024

# The qualified name of the wrapper moto's include_consumed_capacity decorator puts around a handler.
_CAPACITY_WRAPPER = "include_consumed_capacity."
# find_nested_key reads "name[3]" as an element of a list; a projection of such a name is moto's own.
_LIST_ELEMENT = re.compile(r"(.+)\[(\d+)\]$")
# LimitedSizeDict refuses an item above this many bytes (moto's approximation of DynamoDB's 400 KB).
_ITEM_SIZE_LIMIT = 405000


def install() -> None:
    """Patch moto for this process (idempotent)."""
    if _originals:
        return
    _epoch[0] = next(_epochs)
    _memoise_routing()
    _memoise_method_names()
    _skip_request_id_search()
    _skip_capacity_round_trip()
    _cache_item_sizes()
    _cast_values_directly()
    _copy_items_directly()
    _project_top_level_names_directly()
    _forget_read_copies()
    _dump_json_directly()


def uninstall() -> None:
    """moto as it was (the tests compare the two)."""
    for (owner, name), original in _originals.items():
        if original is _ABSENT:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    _originals.clear()
    _method_names.clear()


_ABSENT = object()  # an attribute the class inherited, to delete again on uninstall


def _keep(owner: Any, name: str) -> Any:
    original = vars(owner).get(name, _ABSENT)
    _originals[(owner, name)] = original
    return original


# ---------------------------------------------------------------- routing


def _memoise_routing() -> None:
    """Which backend serves a host: moto lists its package directory (a stat per service) and tries every
    service's URL patterns on each request. The answer depends only on the host moto inferred (service,
    region and, for DynamoDB, tables or streams) and the dispatcher's patterns, so it is kept per host."""
    original = _keep(DomainDispatcherApplication, "get_backend_for_host")

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        kept: tuple[Any, dict[str | None, Any]] | None = self.__dict__.get(_ROUTES)
        if kept is None or kept[0] is not self.backend_url_patterns:
            kept = self.__dict__[_ROUTES] = (self.backend_url_patterns, {})
        routes = kept[1]
        known = routes.get(host)
        if known is not None:
            return known
        backend = original(self, host)
        # A host no backend serves is not kept: moto prints a hint for it each time.
        if backend is not None and len(routes) < _MAX_ROUTES:
            routes[host] = backend
        return backend

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


_method_names: dict[type, tuple[tuple[int, ...], list[str]]] = {}


def _memoise_method_names() -> None:
    """Every request checks its action against the handler class's function names, which moto collects
    with inspect.getmembers (hundreds of getattr calls); kept per class until a class in its MRO gains or
    loses an attribute."""
    original = _keep(core_responses, "method_names_from_class")

    def method_names_from_class(clazz: object) -> list[str]:
        if not isinstance(clazz, type):
            return original(clazz)
        shape = tuple(len(vars(owner)) for owner in clazz.__mro__)
        known = _method_names.get(clazz)
        if known is None or known[0] != shape:
            known = _method_names[clazz] = (shape, original(clazz))
        return list(known[1])

    core_responses.method_names_from_class = method_names_from_class


def _skip_request_id_search() -> None:
    """moto writes the request id into ``<RequestId>`` of XML bodies with a look-behind regex that scans the
    whole body, JSON ones too (a query's 300 items: ~5 % of its time). A body without ``<RequestId>`` is
    left as it is by that substitution, so only the headers' part runs for it."""
    original = _keep(BaseResponse, "_enrich_response").__func__

    def _enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        if isinstance(body, str) and "<RequestId>" not in body:
            headers, _ = original(headers, "")
            return headers, body
        return original(headers, body)

    BaseResponse._enrich_response = staticmethod(_enrich_response)  # type: ignore[method-assign]


def _skip_capacity_round_trip() -> None:
    """moto's ``include_consumed_capacity`` parses each GetItem/Query/Scan/PutItem/DeleteItem response back
    from JSON and dumps it again, to add ``ConsumedCapacity`` when asked for. Without
    ``ReturnConsumedCapacity`` (or with NONE) nothing is added, and ``json.dumps(json.loads(text))`` gives
    back a text ``json.dumps`` made, so the handler's own text is the answer."""
    for name, method in list(vars(DynamoHandler).items()):
        code = getattr(method, "__code__", None)
        inner = getattr(method, "__wrapped__", None)
        if code is None or inner is None or not code.co_qualname.startswith(_CAPACITY_WRAPPER):
            continue
        _keep(DynamoHandler, name)
        setattr(DynamoHandler, name, _without_round_trip(method, inner))


def _without_round_trip(decorated: Callable[..., Any], handler_method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(decorated)
    def method(*args: Any, **kwargs: Any) -> Any:
        body = getattr(args[0], "body", None) if len(args) == 1 and not kwargs else None
        if not isinstance(body, dict) or body.get("ReturnConsumedCapacity", "NONE") != "NONE":
            return decorated(*args, **kwargs)
        response = handler_method(*args)
        if isinstance(response, str):
            return response
        # What moto's wrapper does with anything else (and the error it raises on the way, if any).
        return dynamodb_responses.dynamo_json_dump(json.loads(response))

    return method


# ---------------------------------------------------------------- items


def _cache_item_sizes() -> None:
    """A query adds up ``Item.size()`` (every attribute's name and value, in Python) for each item it walks,
    twice for the ones it returns, to stop at 1 MB; a batch get does the same. The size is kept on the item
    until the item changes. moto changes a stored item in place only in UpdateItem (update expressions or
    AttributeUpdates); every other write stores a new Item. Both in-place paths stamp the item before and
    after the change, so a size computed while one runs is never reused."""
    original_size = _keep(Item, "size")
    original_execute = _keep(UpdateExpressionExecutor, "execute")
    original_attribute_updates = _keep(Item, "update_with_attribute_updates")

    def size(self: Item) -> int:
        state = self.__dict__
        stamp = (_epoch[0], state.get(_STAMP))
        cached = state.get(_SIZE)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        computed: int = original_size(self)
        state[_SIZE] = (stamp, computed)
        return computed

    def execute(self: UpdateExpressionExecutor, node: Any = None) -> None:
        _changing(self.item)
        try:
            original_execute(self, node)
        finally:
            _changing(self.item)

    def update_with_attribute_updates(self: Item, attribute_updates: dict[str, Any]) -> None:
        _changing(self)
        try:
            original_attribute_updates(self, attribute_updates)
        finally:
            _changing(self)

    Item.size = size  # type: ignore[method-assign]
    UpdateExpressionExecutor.execute = execute  # type: ignore[method-assign]
    Item.update_with_attribute_updates = update_with_attribute_updates  # type: ignore[method-assign]


def _changing(item: Any) -> None:
    if isinstance(item, Item):  # anything else is moto's to fail on
        item.__dict__[_STAMP] = next(_stamps)


# The types whose cast_value is the value itself (moto's last branch).
_CAST_AS_IS = frozenset(("S", "B", "BOOL"))


def _cast_values_directly() -> None:
    """Sorting a partition, matching its hash key and comparing its range keys go through
    ``DynamoType.cast_value``, which asks is_number, is_set, is_list, is_map and is_null before handing back
    a string, and builds a new Decimal for a number every time. A string, binary or boolean is its value
    (moto's last branch); a number's Decimal is kept next to the exact string it was made from."""
    original = _keep(DynamoType, "cast_value")
    slow = original.fget

    def cast_value(self: DynamoType) -> Any:
        kind = self.type
        if kind in _CAST_AS_IS:
            return self.value
        if kind == "N":
            raw = self.value
            cached = self.__dict__.get(_CAST)
            if cached is not None and cached[0] is raw:
                return cached[1]
            number = slow(self)
            self.__dict__[_CAST] = (raw, number)
            return number
        return slow(self)

    DynamoType.cast_value = property(cast_value)  # type: ignore[method-assign,assignment]


def _copy_items_directly() -> None:
    """A query deep-copies the items it returns before projecting and serialising them: for every attribute
    value, ``copy.deepcopy`` dispatches to ``DynamoType.__deepcopy__``, which asks ``is_list``, ``is_map``,
    ``is_set`` in turn and makes a new object around the same string. moto never changes a string, number,
    binary, boolean or null value in place (an update puts a new value in its container), so the copy can
    share those and make new containers only: the item, its attribute dict, lists, maps and sets (through
    moto's own copy, memo included, so that values shared in the item stay shared in the copy)."""
    _keep(Item, "__deepcopy__")

    def deepcopy_item(self: Item, memo: dict[int, Any]) -> Item:
        if id(self) in memo:
            return memo[id(self)]
        result: Item = self.__class__.__new__(self.__class__)  # type: ignore[assignment]
        memo[id(self)] = result
        result.hash_key = _copy_value(self.hash_key, memo)
        result.range_key = _copy_value(self.range_key, memo)
        attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        # dict.update, not LimitedSizeDict's __setitem__: the source passed the size check (as moto's copy
        # says). _copy_value inline: a call per attribute is what this saves.
        dict.update(
            attrs,
            {
                key: memo.get(id(value), value)
                if type(value) is DynamoType and value.type in _SCALARS
                else copy.deepcopy(value, memo)
                for key, value in self.attrs.items()
            },
        )
        result.attrs = attrs
        return result

    Item.__deepcopy__ = deepcopy_item  # type: ignore[method-assign]


# Attribute types whose DynamoType moto never changes after building it.
_SCALARS = frozenset(("S", "N", "B", "BOOL", "NULL"))


def _copy_value(value: Any, memo: dict[int, Any]) -> Any:
    """A value for the copy: a string, number, binary, boolean or null shared (or the copy this deepcopy
    already made of it), anything else deep-copied by moto."""
    if type(value) is DynamoType and value.type in _SCALARS:
        return memo.get(id(value), value)
    return copy.deepcopy(value, memo)


def _project_top_level_names_directly() -> None:
    """Projecting an item (an index's INCLUDE or KEYS_ONLY projection, a ProjectionExpression) converts the
    whole item to Python values once per projected name, picks the name, and converts the picks back, each
    into a new size-checked dict (70 % of a GSI query's time). For top-level names on an item of strings,
    numbers, booleans and nulls, the result of that round trip is known: the same string or boolean, a
    null, the number as boto3 normalises it (which is the same code, cached). Anything else is moto's."""
    original_project = _keep(Item, "project")

    def project(self: Item, projection_expressions: list[list[str]]) -> Item:
        projected = _project_plain(self, projection_expressions)
        return projected if projected is not None else original_project(self, projection_expressions)

    Item.project = project  # type: ignore[method-assign]


def _project_plain(item: Item, projection_expressions: list[list[str]]) -> Item | None:
    """moto's projection of ``item``, or None when it is not a plain one."""
    names: dict[str, None] = {}  # in the order moto's result dict gets them, each once
    for path in projection_expressions:
        if len(path) != 1 or _LIST_ELEMENT.match(path[0]):
            return None
        names[path[0]] = None
    values: dict[str, DynamoType] = {}
    # moto converts every attribute (projected or not) on the way, so one it cannot convert is moto's case.
    for name, value in item.attrs.items():
        if type(value) is not DynamoType:
            return None
        kind, raw = value.type, value.value
        converted: Any
        if kind == "S" and type(raw) is str:
            converted = raw
        elif kind == "N" and type(raw) is str:
            try:
                converted = _normal_number(raw)
            except Exception:
                return None
        elif kind == "BOOL" and type(raw) is bool:
            converted = raw
        elif kind == "NULL":
            converted = True
        else:
            return None
        if name in names:
            copied = DynamoType.__new__(DynamoType)
            copied.type, copied.value = kind, converted
            values[name] = copied
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(attrs)
    total = 0
    for name in names:
        value = values.get(name)
        if value is not None:
            dict.__setitem__(attrs, name, value)
            total += len(name.encode("utf-8")) + value.size()
    if total > _ITEM_SIZE_LIMIT:
        return None  # moto raises ItemSizeTooLarge building it
    result: Item = Item.__new__(Item)  # type: ignore[assignment]
    result.hash_key = item.hash_key
    result.range_key = item.range_key
    result.attrs = attrs
    return result


@functools.lru_cache(maxsize=65536)
def _normal_number(number: str) -> str:
    """What moto's projection makes of a stored number: boto3's Decimal of it, written back by boto3."""
    serialized: str = dynamo_type.serializer.serialize(dynamo_type.deserializer.deserialize({"N": number}))["N"]
    return serialized


# ---------------------------------------------------------------- what a read makes


class _Reads(threading.local):
    depth = 0  # reads under way on this thread


_reads = _Reads()


def _forget_read_copies() -> None:
    """moto's BaseModel appends every Item it creates to ``Item.instances_tracked`` (for /moto-api/data.json)
    and never lets go, copies and projections included: each item a query returns stays in memory (~5 KB
    for one of our logs), and every garbage collection walks them all again, so the server grows by
    megabytes per API request and slows down as it does. The copies and projections a Query, Scan or
    GetItem/BatchGetItem makes are never stored; made during one of those reads, they are left out of that
    list and freed once answered. Stored items, and items of any other call, are tracked as before."""
    for name in ("query", "scan", "get_item"):
        setattr(DynamoDBBackend, name, _reading(_keep(DynamoDBBackend, name)))
    _keep(Item, "__new__")
    tracked_new = BaseModel.__new__

    def new_item(cls: type[Item], *args: Any, **kwargs: Any) -> Item:
        if _reads.depth:
            return object.__new__(cls)
        return tracked_new(cls, *args, **kwargs)  # type: ignore[return-value]

    Item.__new__ = staticmethod(new_item)  # type: ignore[assignment,method-assign]


def _reading(read: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(read)
    def method(*args: Any, **kwargs: Any) -> Any:
        with _read_scope():
            return read(*args, **kwargs)

    return method


@contextmanager
def _read_scope() -> Iterator[None]:
    _reads.depth += 1
    try:
        yield
    finally:
        _reads.depth -= 1


# ---------------------------------------------------------------- serialising


class _NotPlain(Exception):
    """Something moto's JSON encoder would hand to its ``default`` in a way this module does not mirror."""


def _dump_json_directly() -> None:
    """moto serialises a response with a JSON encoder whose ``default`` turns each attribute value into
    ``{type: value}`` when the C encoder meets it: one Python call back per attribute (~20 % of a 300-item
    query). The same dicts built first in one pass give the C encoder nothing to call back for, hence the
    same text. Anything but dicts, lists, tuples, strings, numbers, booleans, None, bytes and moto's
    attribute values goes to moto's encoder, as does anything the plain encoder refuses."""
    original = _keep(dynamodb_responses, "dynamo_json_dump")

    def dynamo_json_dump(dynamo_object: Any) -> str:
        try:
            return json.dumps(_plain(dynamo_object))
        except Exception:
            return original(dynamo_object)

    dynamodb_responses.dynamo_json_dump = dynamo_json_dump


def _plain(value: Any) -> Any:
    """``value`` with every DynamoType and bytes as moto's ``DynamoJsonEncoder.default`` would write it."""
    kind = type(value)
    if kind is DynamoType:
        inner = value.value
        inner_kind = type(inner)
        if inner_kind is str or inner_kind is bool:
            return {value.type: inner}
        if value.type == "B" and isinstance(inner, bytes):  # DynamoType.to_json
            return {value.type: base64.b64encode(inner).decode("utf-8")}
        return {value.type: _plain(inner)}
    if kind is dict or kind is LimitedSizeDict:
        return {
            # The commonest attribute value, a string or number, inline: a call per attribute is what this saves.
            key: {element.type: element.value}
            if type(element) is DynamoType and type(element.value) is str
            else _plain(element)
            for key, element in value.items()
        }
    if kind is list or kind is tuple:
        return [_plain(element) for element in value]
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is bytes:  # DynamoJsonEncoder.default
        return base64.b64encode(value).decode("utf-8")
    raise _NotPlain(kind)
