"""The rows of ``rlogs export``: one flat row per log, the server-side export's own format, in every file format.

The columns are the service's ``models/export_rows.py`` (names, order and kinds): this package cannot import
the service's, so it keeps its own copy, and ``tests/client/test_one_row_format.py`` holds the two equal
(and a log's row from the enhanced list equal to the service's row of the same log). So a file paged from
the API and one assembled from a server-side export's parts are the same file for the same logs:

- NDJSON: one compact JSON object per line, money as exact bare numbers, ``metadata`` an object;
- CSV: a header line, ``\\r\\n`` line ends, null an empty field, money its digits, booleans ``true``/``false``,
  ``metadata`` (and ``request``/``response``) compact JSON text;
- Parquet: ``string``, ``int64``, ``bool``, money ``decimal128(38, 12)``, JSON columns as strings, zstd.

pyarrow is a dependency of the package but imported only by the Parquet paths (a client that never writes
Parquet never loads it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from request_logs_client import _json

ColumnKind = Literal["string", "int", "bool", "money", "json"]

# The service's models/export_rows.py LOG_COLUMNS, in order (tests/client/test_one_row_format.py).
COLUMNS: tuple[tuple[str, ColumnKind], ...] = (
    ("id", "string"),
    ("request_id", "string"),
    ("created_at", "string"),
    ("completed_at", "string"),
    ("model", "string"),
    ("provider", "string"),
    ("endpoint", "string"),
    ("method", "string"),
    ("status", "string"),
    ("status_code", "int"),
    ("error_type", "string"),
    ("error_code", "string"),
    ("error_message", "string"),
    ("latency_ms", "int"),
    ("time_to_first_token_ms", "int"),
    ("streaming", "bool"),
    ("input_tokens", "int"),
    ("output_tokens", "int"),
    ("total_tokens", "int"),
    ("cached_input_tokens", "int"),
    ("cache_creation_input_tokens", "int"),
    ("reasoning_tokens", "int"),
    ("cost", "money"),
    ("cost_input", "money"),
    ("cost_output", "money"),
    ("cost_cached_input", "money"),
    ("cost_cache_creation_input", "money"),
    ("cost_reasoning", "money"),
    ("price_input_per_million", "money"),
    ("price_output_per_million", "money"),
    ("price_cached_input_per_million", "money"),
    ("price_cache_creation_input_per_million", "money"),
    ("price_reasoning_per_million", "money"),
    ("price_above_input_tokens", "int"),
    ("cost_source", "string"),
    ("catalog_version", "string"),
    ("api_key_id", "string"),
    ("api_key_prefix", "string"),
    ("user_agent", "string"),
    ("ip_address", "string"),
    ("gateway_type", "int"),
    ("gateway_id", "string"),
    ("connection_id", "string"),
    ("user", "string"),
    ("metadata", "json"),
)
# With include_content (server-side exports only: paging the list has no prompts and completions).
CONTENT_COLUMNS: tuple[tuple[str, ColumnKind], ...] = (("request", "json"), ("response", "json"))
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)

# Money and prices: ingest keeps at most 12 decimal places, and 26 digits before the point hold any sum.
MONEY_PRECISION, MONEY_SCALE = 38, 12
ROW_GROUP_ROWS = 10_000
PYARROW_MISSING = "Parquet needs pyarrow, which this installation lacks: pip install pyarrow"


def export_columns(include_content: bool) -> tuple[tuple[str, ColumnKind], ...]:
    return COLUMNS + CONTENT_COLUMNS if include_content else COLUMNS


def flatten_log(log: Mapping[str, Any]) -> dict[str, Any]:
    """An ``/enhanced`` log (as the API sent it, money as Decimal) as the server-side export's row of it."""
    tokens = log.get("tokens") or {}
    cost = log.get("cost") or {}
    pricing = log.get("pricing") or {}
    error = log.get("error") or {}
    resolution = log.get("resolution") or {}
    return {
        "id": log["id"],
        "request_id": log.get("request_id"),
        "created_at": log["created_at"],
        "completed_at": log.get("completed_at"),
        "model": log.get("model"),
        "provider": log.get("provider"),
        "endpoint": log.get("endpoint"),
        "method": log.get("method"),
        "status": log.get("status"),
        "status_code": log.get("status_code"),
        "error_type": error.get("type"),
        "error_code": error.get("code"),
        "error_message": error.get("message"),
        "latency_ms": log.get("latency_ms"),
        "time_to_first_token_ms": log.get("time_to_first_token_ms"),
        "streaming": log.get("streaming"),
        "input_tokens": log.get("input_tokens"),
        "output_tokens": log.get("output_tokens"),
        "total_tokens": log.get("total_tokens"),
        "cached_input_tokens": tokens.get("cached_input"),
        "cache_creation_input_tokens": tokens.get("cache_creation_input"),
        "reasoning_tokens": tokens.get("reasoning"),
        "cost": _money(cost.get("total")),
        "cost_input": _money(cost.get("input")),
        "cost_output": _money(cost.get("output")),
        "cost_cached_input": _money(cost.get("cached_input")),
        "cost_cache_creation_input": _money(cost.get("cache_creation_input")),
        "cost_reasoning": _money(cost.get("reasoning")),
        "price_input_per_million": _money(pricing.get("input_per_million")),
        "price_output_per_million": _money(pricing.get("output_per_million")),
        "price_cached_input_per_million": _money(pricing.get("cached_input_per_million")),
        "price_cache_creation_input_per_million": _money(pricing.get("cache_creation_input_per_million")),
        "price_reasoning_per_million": _money(pricing.get("reasoning_per_million")),
        "price_above_input_tokens": pricing.get("above_input_tokens"),
        "cost_source": log.get("cost_source"),
        "catalog_version": log.get("catalog_version"),
        "api_key_id": log.get("api_key_id"),
        "api_key_prefix": log.get("api_key_prefix"),
        "user_agent": log.get("user_agent"),
        "ip_address": log.get("ip_address"),
        "gateway_type": resolution.get("gateway_type"),
        "gateway_id": resolution.get("gateway_id"),
        "connection_id": resolution.get("connection_id"),
        "user": log.get("user"),
        # Keys sorted, as the service writes them: the same text whatever order the map came in.
        "metadata": dict(sorted((log.get("metadata") or {}).items())),
    }


def _money(value: Any) -> Decimal | None:
    # The API writes money as bare numbers: one without a fraction ("0") reads back as an int.
    return None if value is None else Decimal(value)


def ndjson_lines(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(_json.dumps(row) + "\n" for row in rows).encode()


def csv_lines(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def csv_header(columns: Sequence[tuple[str, ColumnKind]]) -> bytes:
    return csv_lines([[name for name, _ in columns]])


def csv_cells(row: Mapping[str, Any], columns: Sequence[tuple[str, ColumnKind]]) -> list[str]:
    return [csv_cell(kind, row[name]) for name, kind in columns]


def csv_cell(kind: ColumnKind, value: Any) -> str:
    if value is None:
        return ""
    if kind == "money":
        return format(Decimal(value), "f")
    if kind == "bool":
        return "true" if value else "false"
    if kind == "json":
        return _json.dumps(value)
    return str(value)


# --- Parquet --------------------------------------------------------------------------------------------


def has_pyarrow() -> bool:
    """Asked before any work: a Parquet export without pyarrow fails at once, not after paging or downloading."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def parquet_schema(columns: Sequence[tuple[str, ColumnKind]]) -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int": pa.int64(),
        "bool": pa.bool_(),
        "money": pa.decimal128(MONEY_PRECISION, MONEY_SCALE),
        "json": pa.string(),
    }
    return pa.schema([pa.field(name, types[kind]) for name, kind in columns])


def parquet_value(kind: ColumnKind, value: Any) -> Any:
    if value is None:
        return None
    if kind == "money":
        return Decimal(value)
    if kind == "json":
        return _json.dumps(value)
    return value


def batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
