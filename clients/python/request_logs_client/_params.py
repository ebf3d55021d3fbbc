"""The parameters of each endpoint, named as in the API, and their encoding into a query string (or the
JSON body of the one POST).

The TypedDicts are the keyword arguments of the client's methods (``Unpack``): a type checker catches a
misspelt or mistyped parameter, and the client refuses an unknown one before sending it (the API would
answer 400). ``tests/client/test_params.py`` checks them against docs/openapi.json.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypedDict

Status = Literal["success", "error"]
Sort = Literal["created_at", "cost", "latency", "tokens"]
Order = Literal["asc", "desc"]
DateLike = str | date | datetime
Number = int | float | Decimal | str


class ListParams(TypedDict, total=False):
    """``GET /api/account/request-logs``: the spec's parameters, then ``cursor``, ``tz``, ``user`` and
    ``metadata`` (``{"feature": "search"}`` is sent as ``metadata.feature=search``)."""

    limit: int
    offset: int
    model: str
    provider: str
    status: Status
    start_date: DateLike
    end_date: DateLike
    min_latency: int
    max_latency: int
    api_key_id: str
    cursor: str
    tz: str
    user: str
    metadata: Mapping[str, str]


class EnhancedParams(ListParams, total=False):
    """``GET /api/account/request-logs/enhanced``: the list's parameters plus cost bounds and the order."""

    min_cost: Number
    max_cost: Number
    sort: Sort
    order: Order


ExportFormat = Literal["ndjson", "csv", "parquet"]


class ExportFilters(TypedDict, total=False):
    """The filters an export takes: the enhanced list's, without paging and order (an export is newest first)."""

    model: str
    provider: str
    status: Status
    start_date: DateLike
    end_date: DateLike
    tz: str
    min_latency: int
    max_latency: int
    api_key_id: str
    min_cost: Number
    max_cost: Number
    user: str
    metadata: Mapping[str, str]


class ExportParams(ExportFilters, total=False):
    """``POST /api/account/request-logs/exports``: the filters, the file format (default ndjson) and whether
    to add each log's prompt and completion (default false). Sent as a JSON body, ``metadata`` as an object."""

    format: ExportFormat
    include_content: bool


class ExportListParams(TypedDict, total=False):
    """``GET /api/account/request-logs/exports``: paged like the logs."""

    limit: int
    offset: int
    cursor: str


class StatsParams(TypedDict, total=False):
    """``GET /api/account/request-logs/stats``; ``group_by`` may be a list (sent comma-separated)."""

    start_date: DateLike
    end_date: DateLike
    group_by: str | Sequence[str]
    tz: str
    limit: int


# The one boolean of any request (a query parameter never is one: ``encode_value`` refuses them).
_BOOLEAN_MEMBERS = frozenset({"include_content"})


def _check_names(params: Mapping[str, Any], allowed: type) -> None:
    """A name ``allowed`` does not declare is a TypeError, before anything is sent."""
    known: frozenset[str] = getattr(allowed, "__required_keys__", frozenset()) | getattr(
        allowed, "__optional_keys__", frozenset()
    )
    unknown = sorted(set(params) - known)
    if unknown:
        raise TypeError(f"unknown parameter(s) {', '.join(unknown)}; this endpoint takes: {', '.join(sorted(known))}")


def encode_body(params: Mapping[str, Any], allowed: type) -> dict[str, Any]:
    """A JSON body for ``params`` (``None`` left out): dates as ISO 8601 text, money as exact numbers (a
    ``Decimal``, written digit for digit by ``_json.dumps``) or decimal text, ``metadata`` an object."""
    _check_names(params, allowed)
    body: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        if name == "metadata":
            body[name] = dict(_metadata_pairs(value, prefix=""))
        elif isinstance(value, bool):
            if name not in _BOOLEAN_MEMBERS:
                raise TypeError(f"unexpected boolean value {value!r} for {name}")
            body[name] = value
        elif isinstance(value, datetime | date):
            body[name] = value.isoformat()
        elif isinstance(value, int | Decimal | str):
            body[name] = value
        elif isinstance(value, float):
            body[name] = Decimal(repr(value))  # the float's shortest repr, not its binary expansion
        else:
            raise TypeError(f"unexpected value {value!r} for {name}")
    return body


def encode_query(params: Mapping[str, Any], allowed: type) -> list[tuple[str, str]]:
    """Query pairs for ``params`` (``None`` left out); a name ``allowed`` does not declare is a TypeError."""
    _check_names(params, allowed)
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if name == "metadata":
            pairs.extend(_metadata_pairs(value))
        elif name == "group_by" and not isinstance(value, str):
            pairs.append((name, ",".join(value)))
        else:
            pairs.append((name, encode_value(value)))
    return pairs


def encode_value(value: Any) -> str:
    if isinstance(value, bool):  # no parameter of the API is a boolean: refuse rather than send "True"
        raise TypeError(f"unexpected boolean parameter value {value!r}")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _metadata_pairs(metadata: Any, prefix: str = "metadata.") -> list[tuple[str, str]]:
    if not isinstance(metadata, Mapping):
        raise TypeError("metadata must be a mapping of key to value, e.g. {'feature': 'search'}")
    return [(f"{prefix}{key}", str(value)) for key, value in metadata.items() if value is not None]
