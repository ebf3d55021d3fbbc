"""The query parameters of each endpoint, named as in the API, and their encoding into a query string.

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


class StatsParams(TypedDict, total=False):
    """``GET /api/account/request-logs/stats``; ``group_by`` may be a list (sent comma-separated)."""

    start_date: DateLike
    end_date: DateLike
    group_by: str | Sequence[str]
    tz: str
    limit: int


def encode_query(params: Mapping[str, Any], allowed: type) -> list[tuple[str, str]]:
    """Query pairs for ``params`` (``None`` left out); a name ``allowed`` does not declare is a TypeError."""
    known: frozenset[str] = getattr(allowed, "__required_keys__", frozenset()) | getattr(
        allowed, "__optional_keys__", frozenset()
    )
    unknown = sorted(set(params) - known)
    if unknown:
        raise TypeError(f"unknown parameter(s) {', '.join(unknown)}; this endpoint takes: {', '.join(sorted(known))}")
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


def _metadata_pairs(metadata: Any) -> list[tuple[str, str]]:
    if not isinstance(metadata, Mapping):
        raise TypeError("metadata must be a mapping of key to value, e.g. {'feature': 'search'}")
    return [(f"metadata.{key}", str(value)) for key, value in metadata.items() if value is not None]
