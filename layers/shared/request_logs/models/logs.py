"""Response models of the log endpoints: the spec's shapes, mapped from the domain's ``RequestLog``.

No ``from __future__ import annotations`` here, unlike elsewhere: pydantic would then evaluate every
field's annotation from its string (compiling each one) on every cold start; evaluated by Python at
class creation they cost next to nothing.
"""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from request_logs.domain.counters import CostParts, Counters
from request_logs.domain.log import RequestLog
from request_logs.domain.timeutil import format_ms
from request_logs.models.exact_json import mark_number

# Costs are exact Decimals and JSON carries them as exact numbers (models/exact_json.py); the schema says number.
Money = Annotated[
    Decimal,
    PlainSerializer(mark_number, return_type=str, when_used="json"),
    WithJsonSchema({"type": "number"}, mode="serialization"),
]


def _is_none(value: Any) -> bool:
    return value is None


class _ResponseModel(BaseModel):
    # Each function serves one endpoint and uses a few of these models: build a model's validator and
    # serializer on first use rather than at import, so a cold start pays only for its own models.
    model_config = ConfigDict(defer_build=True)


class ErrorInfo(_ResponseModel):
    type: str
    code: str
    message: str


class Resolution(_ResponseModel):
    gateway_type: int
    gateway_id: str
    connection_id: str


class TokenCounts(_ResponseModel):
    """``input`` counts every prompt token and ``output`` every completion token, as the spec's fields do;
    ``cached_input`` (prompt-cache reads) and ``cache_creation_input`` (cache writes) are parts of ``input``,
    ``reasoning`` a part of ``output``."""

    input: int
    output: int
    total: int
    cached_input: int
    cache_creation_input: int
    reasoning: int


class CostBreakdown(_ResponseModel):
    """Exact: ``total == input + output``, each ``tokens × price ÷ 1,000,000`` (or the gateway's own figures);
    ``cached_input`` and ``cache_creation_input`` are the parts of ``input`` spent on prompt-cache reads and
    writes, ``reasoning`` the part of ``output`` spent on reasoning tokens."""

    input: Money
    output: Money
    total: Money
    cached_input: Money
    cache_creation_input: Money
    reasoning: Money

    @classmethod
    def of(cls, log: RequestLog) -> "CostBreakdown | None":
        parts = CostParts.of(log)
        if parts is None:
            return None
        return cls(
            input=parts.input,
            output=parts.output,
            total=parts.total,
            cached_input=parts.cached_input,
            cache_creation_input=parts.cache_creation_input,
            reasoning=parts.reasoning,
        )


class Pricing(_ResponseModel):
    """The prices stored with the log at ingest (per million tokens), not today's catalog.

    A log priced by the catalog names every component's price it applied and, when the prompt's size
    put it in a long-context tier, the tier's threshold (``above_input_tokens``; null: the base prices). A
    gateway's cost has the component prices it reported (null where it reported none).
    """

    input_per_million: Money
    output_per_million: Money
    cached_input_per_million: Money | None
    cache_creation_input_per_million: Money | None
    reasoning_per_million: Money | None
    above_input_tokens: int | None

    @classmethod
    def of(cls, log: RequestLog) -> "Pricing | None":
        if log.price_input_per_million is None or log.price_output_per_million is None:
            return None
        return cls(
            input_per_million=log.price_input_per_million,
            output_per_million=log.price_output_per_million,
            cached_input_per_million=log.price_cached_input_per_million,
            cache_creation_input_per_million=log.price_cache_creation_input_per_million,
            reasoning_per_million=log.price_reasoning_per_million,
            above_input_tokens=log.price_tier_above_input_tokens,
        )


def _breakdown_fields(log: RequestLog) -> dict[str, Any]:
    """What the single log and an enhanced log show of tokens, prices and where the cost came from."""
    return {
        "tokens": TokenCounts(
            input=log.input_tokens,
            output=log.output_tokens,
            total=log.total_tokens,
            cached_input=log.cached_input_tokens,
            cache_creation_input=log.cache_creation_input_tokens,
            reasoning=log.reasoning_tokens,
        ),
        "pricing": Pricing.of(log),
        "cost_source": log.cost_source,
        "catalog_version": log.catalog_version,
    }


class LogSummary(_ResponseModel):
    """One entry of ``GET /api/account/request-logs``; ``error`` only on error logs."""

    id: str
    request_id: str
    model: str
    provider: str
    status: str
    status_code: int
    latency_ms: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: Money | None
    created_at: str
    api_key_id: str
    api_key_prefix: str
    error: Annotated[ErrorInfo | None, Field(exclude_if=_is_none)] = None

    @classmethod
    def from_log(cls, log: RequestLog) -> "LogSummary":
        return cls(**_summary_fields(log))


class LogDetail(LogSummary):
    """``GET /api/account/request-logs/{id}``."""

    endpoint: str
    method: str
    time_to_first_token_ms: int | None
    streaming: bool
    completed_at: str
    user_agent: str | None
    ip_address: str | None
    resolution: Resolution | None
    # Beyond the spec: the token and cost breakdown, as the enhanced list carries it.
    tokens: TokenCounts
    cost_breakdown: CostBreakdown | None
    pricing: Pricing | None
    cost_source: str
    catalog_version: str | None
    user: str | None  # the end user the customer named to the gateway; null when it named none
    metadata: dict[str, str]  # the customer's attribution map; {} when it sent none

    @classmethod
    def from_log(cls, log: RequestLog) -> "LogDetail":
        return cls(
            **_summary_fields(log),
            **_detail_fields(log),
            **_breakdown_fields(log),
            cost_breakdown=CostBreakdown.of(log),
            user=log.user,
            metadata=dict(log.metadata or {}),
        )


def _detail_fields(log: RequestLog) -> dict[str, Any]:
    """The fields of the single log beyond the list's (the enhanced list carries them too)."""
    resolution = (
        Resolution(gateway_type=log.gateway_type, gateway_id=log.gateway_id, connection_id=log.connection_id)
        if log.gateway_type is not None and log.gateway_id is not None and log.connection_id is not None
        else None
    )
    return {
        "endpoint": log.endpoint,
        "method": log.method,
        "time_to_first_token_ms": log.ttft_ms,
        "streaming": log.streaming,
        "completed_at": format_ms(log.completed_ms),
        "user_agent": log.user_agent,
        "ip_address": log.ip_address,
        "resolution": resolution,
    }


def _summary_fields(log: RequestLog) -> dict[str, Any]:
    error = (
        ErrorInfo(type=log.error_type or "", code=log.error_code or "", message=log.error_message or "")
        if log.status == "error"
        else None
    )
    return {
        "id": log.id,
        "request_id": log.request_id,
        "model": log.model,
        "provider": log.provider,
        "status": log.status,
        "status_code": log.status_code,
        "latency_ms": log.latency_ms,
        "input_tokens": log.input_tokens,
        "output_tokens": log.output_tokens,
        "total_tokens": log.total_tokens,
        "cost": log.cost_total,
        "created_at": format_ms(log.created_ms),
        "api_key_id": log.api_key_id,
        "api_key_prefix": log.api_key_prefix,
        "error": error,
    }


class Pagination(_ResponseModel):
    """The spec's fields, plus ``nextCursor`` (null on the last page): pass it as ``cursor`` for the next page."""

    total: int
    limit: int
    offset: int
    hasMore: bool  # noqa: N815 - the spec's field name
    nextCursor: str | None  # noqa: N815 - named like hasMore


class EnhancedLog(_ResponseModel):
    """One entry of ``GET /api/account/request-logs/enhanced``.

    ``cost`` and ``pricing`` are null for a request nobody priced; ``cost_source`` says where the cost came
    from (``gateway``: reported by the gateway; ``catalog``: computed at ingest from the catalog
    ``catalog_version``; ``unpriced``: the model is in no catalog).
    """

    id: str
    request_id: str
    model: str
    provider: str
    status: str
    status_code: int
    latency_ms: int
    tokens: TokenCounts
    cost: CostBreakdown | None
    pricing: Pricing | None
    cost_source: str
    catalog_version: str | None
    created_at: str
    api_key_id: str
    api_key_prefix: str
    input_tokens: int
    output_tokens: int
    total_tokens: int
    error: Annotated[ErrorInfo | None, Field(exclude_if=_is_none)] = None
    user: str | None = None  # as on the single log: null when absent
    metadata: dict[str, str] = Field(default_factory=dict)  # {} when absent
    # The single log's other fields, so that a client paging this list gets every column of the server-side
    # export's rows (models/export_rows.py) without a call per log (decisions §33). The page's items are
    # read whole already: no read more, a few dozen bytes a log more.
    endpoint: str
    method: str
    time_to_first_token_ms: int | None
    streaming: bool
    completed_at: str
    user_agent: str | None
    ip_address: str | None
    resolution: Resolution | None

    @classmethod
    def from_log(cls, log: RequestLog) -> "EnhancedLog":
        fields = _summary_fields(log)
        fields.pop("cost")
        return cls(
            **fields,
            **_breakdown_fields(log),
            cost=CostBreakdown.of(log),
            user=log.user,
            metadata=dict(log.metadata or {}),
            **_detail_fields(log),
        )


COST_PARTS = ("input", "output", "cached_input", "cache_creation_input", "reasoning")


class ComponentTotals(_ResponseModel):
    """The token and cost components of a set of logs, after a summary's or a group's own fields.

    Token components are parts of ``input_tokens`` (cache reads, cache writes) and of ``output_tokens``
    (reasoning). ``input_cost + output_cost`` is the set's cost; the other costs are parts of those. Like
    the cost, they cover the priced requests and are null when none was priced, or when the set includes
    statistics kept before components were (until ``admin rebuild-stats`` recounts them).
    """

    cached_input_tokens: int
    cache_creation_input_tokens: int
    reasoning_tokens: int
    input_cost: Money | None
    output_cost: Money | None
    cached_input_cost: Money | None
    cache_creation_input_cost: Money | None
    reasoning_cost: Money | None

    @staticmethod
    def fields_of(counters: Counters) -> dict[str, Any]:
        return {
            "cached_input_tokens": counters.cached_input_tokens,
            "cache_creation_input_tokens": counters.cache_creation_input_tokens,
            "reasoning_tokens": counters.reasoning_tokens,
            **{f"{part}_cost": counters.priced_part(part) for part in COST_PARTS},
        }


# Fields from the last base class to the first: the summary's own, then the components.
class _CostSummaryFields(_ResponseModel):
    total_cost: Money | None
    total_tokens: int
    avg_cost_per_request: Money | None
    requests: int
    priced_requests: int
    unpriced_requests: int
    input_tokens: int
    output_tokens: int


class CostSummary(ComponentTotals, _CostSummaryFields):
    """``summary`` of the enhanced list: the whole filtered set, not the page.

    ``total_cost`` is the exact cost of the priced requests, null when none was priced (unknown, not
    zero); ``avg_cost_per_request`` is it over the priced requests, rounded half-even to 12 decimal places.
    ``unpriced_requests`` had no price and are in neither.
    """


class EnhancedListResponse(_ResponseModel):
    logs: list[EnhancedLog]
    summary: CostSummary
    pagination: Pagination


class LogListResponse(_ResponseModel):
    logs: list[LogSummary]
    pagination: Pagination


class ContentMetadata(_ResponseModel):
    latency_ms: int
    cost: Money | None
    created_at: str
    model: str
    status: str
    status_code: int


class LogContentResponse(_ResponseModel):
    """``GET /api/account/request-logs/{id}/details``: the full prompt and completion."""

    id: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    metadata: ContentMetadata
