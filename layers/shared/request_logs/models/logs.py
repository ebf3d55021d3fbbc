"""Response models of the log endpoints: the spec's shapes, mapped from the domain's ``RequestLog``.

No ``from __future__ import annotations`` here, unlike elsewhere: pydantic would then evaluate every
field's annotation from its string (compiling each one) on every cold start; evaluated by Python at
class creation they cost next to nothing.
"""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

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
    user: str | None  # the end user the customer named to the gateway; null when it named none
    metadata: dict[str, str]  # the customer's attribution map; {} when it sent none

    @classmethod
    def from_log(cls, log: RequestLog) -> "LogDetail":
        resolution = (
            Resolution(gateway_type=log.gateway_type, gateway_id=log.gateway_id, connection_id=log.connection_id)
            if log.gateway_type is not None and log.gateway_id is not None and log.connection_id is not None
            else None
        )
        return cls(
            **_summary_fields(log),
            endpoint=log.endpoint,
            method=log.method,
            time_to_first_token_ms=log.ttft_ms,
            streaming=log.streaming,
            completed_at=format_ms(log.completed_ms),
            user_agent=log.user_agent,
            ip_address=log.ip_address,
            resolution=resolution,
            user=log.user,
            metadata=dict(log.metadata or {}),
        )


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


class TokenCounts(_ResponseModel):
    input: int
    output: int
    total: int


class CostBreakdown(_ResponseModel):
    """Exact: ``total == input + output``, each ``tokens × price ÷ 1,000,000`` (or the gateway's own figures)."""

    input: Money
    output: Money
    total: Money


class Pricing(_ResponseModel):
    """The prices stored with the log at ingest (per million tokens), not today's catalog."""

    input_per_million: Money
    output_per_million: Money


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

    @classmethod
    def from_log(cls, log: RequestLog) -> "EnhancedLog":
        fields = _summary_fields(log)
        fields.pop("cost")
        cost = (
            CostBreakdown(input=log.cost_input, output=log.cost_output, total=log.cost_input + log.cost_output)
            if log.cost_input is not None and log.cost_output is not None
            else None
        )
        pricing = (
            Pricing(input_per_million=log.price_input_per_million, output_per_million=log.price_output_per_million)
            if log.price_input_per_million is not None and log.price_output_per_million is not None
            else None
        )
        return cls(
            **fields,
            tokens=TokenCounts(input=log.input_tokens, output=log.output_tokens, total=log.total_tokens),
            cost=cost,
            pricing=pricing,
            cost_source=log.cost_source,
            catalog_version=log.catalog_version,
            user=log.user,
            metadata=dict(log.metadata or {}),
        )


class CostSummary(_ResponseModel):
    """``summary`` of the enhanced list: the whole filtered set, not the page.

    ``total_cost`` is the exact cost of the priced requests, null when none was priced (unknown, not
    zero); ``avg_cost_per_request`` is it over the priced requests, rounded half-even to 12 decimal places.
    ``unpriced_requests`` had no price and are in neither.
    """

    total_cost: Money | None
    total_tokens: int
    avg_cost_per_request: Money | None
    requests: int
    priced_requests: int
    unpriced_requests: int
    input_tokens: int
    output_tokens: int


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
