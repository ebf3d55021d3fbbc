"""One exported row per log: the same flat columns in every format (NDJSON, CSV, Parquet).

Flat, so that CSV and Parquet need no nesting and the three formats read back alike: every field of the
single log (``GET …/{id}``), its token and cost components as their own columns, ``metadata`` as a JSON
object (keys sorted), and, with ``include_content``, ``request`` and ``response`` (the prompt and the completion, as
``/details`` returns them), null for a log whose content is past its 30 days. Money is exact: Decimal in
memory, a bare JSON number in NDJSON, the decimal's digits in CSV, ``decimal128(38, 12)`` in Parquet
(ingest keeps at most 12 decimal places).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from request_logs.domain.counters import CostParts
from request_logs.domain.log import RequestLog
from request_logs.domain.timeutil import format_ms

ColumnKind = Literal["string", "int", "bool", "money", "json"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind


_COLUMNS: tuple[tuple[str, ColumnKind], ...] = (
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
LOG_COLUMNS: tuple[Column, ...] = tuple(Column(name, kind) for name, kind in _COLUMNS)
CONTENT_COLUMNS: tuple[Column, ...] = (Column("request", "json"), Column("response", "json"))


def export_columns(include_content: bool) -> tuple[Column, ...]:
    return LOG_COLUMNS + CONTENT_COLUMNS if include_content else LOG_COLUMNS


@dataclass(frozen=True)
class Content:
    """A log's prompt and completion as ``/details`` returns them (``response`` None when it had none)."""

    request: Any
    response: Any


def export_row(log: RequestLog, content: Content | None, *, include_content: bool) -> dict[str, Any]:
    """The row of ``log`` (``content`` None: past retention or gone, exported as nulls)."""
    parts = CostParts.of(log)
    row: dict[str, Any] = {
        "id": log.id,
        "request_id": log.request_id,
        "created_at": format_ms(log.created_ms),
        "completed_at": format_ms(log.completed_ms),
        "model": log.model,
        "provider": log.provider,
        "endpoint": log.endpoint,
        "method": log.method,
        "status": log.status,
        "status_code": log.status_code,
        "error_type": log.error_type if log.status == "error" else None,
        "error_code": log.error_code if log.status == "error" else None,
        "error_message": log.error_message if log.status == "error" else None,
        "latency_ms": log.latency_ms,
        "time_to_first_token_ms": log.ttft_ms,
        "streaming": log.streaming,
        "input_tokens": log.input_tokens,
        "output_tokens": log.output_tokens,
        "total_tokens": log.total_tokens,
        "cached_input_tokens": log.cached_input_tokens,
        "cache_creation_input_tokens": log.cache_creation_input_tokens,
        "reasoning_tokens": log.reasoning_tokens,
        "cost": parts.total if parts is not None else None,
        "cost_input": parts.input if parts is not None else None,
        "cost_output": parts.output if parts is not None else None,
        "cost_cached_input": parts.cached_input if parts is not None else None,
        "cost_cache_creation_input": parts.cache_creation_input if parts is not None else None,
        "cost_reasoning": parts.reasoning if parts is not None else None,
        "price_input_per_million": log.price_input_per_million,
        "price_output_per_million": log.price_output_per_million,
        "price_cached_input_per_million": log.price_cached_input_per_million,
        "price_cache_creation_input_per_million": log.price_cache_creation_input_per_million,
        "price_reasoning_per_million": log.price_reasoning_per_million,
        "price_above_input_tokens": log.price_tier_above_input_tokens,
        "cost_source": log.cost_source,
        "catalog_version": log.catalog_version,
        "api_key_id": log.api_key_id,
        "api_key_prefix": log.api_key_prefix,
        "user_agent": log.user_agent,
        "ip_address": log.ip_address,
        "gateway_type": log.gateway_type,
        "gateway_id": log.gateway_id,
        "connection_id": log.connection_id,
        "user": log.user,
        # Keys sorted: a file's bytes do not depend on the order a store hands a map back in, and a client that
        # pages the enhanced list writes the same text (rlogs export, decisions §33).
        "metadata": dict(sorted((log.metadata or {}).items())),
    }
    if include_content:
        row["request"] = content.request if content is not None else None
        row["response"] = content.response if content is not None else None
    return row


def money_text(value: Decimal) -> str:
    """An amount's digits in positional notation (never ``1E-7``)."""
    return format(value, "f")
