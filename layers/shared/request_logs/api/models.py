"""API response models: the spec's shapes. Stored items are mapped here, never returned raw."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from request_logs.domain.timeutil import format_ms
from request_logs.store.items import StoredLog


def _as_number(value: Decimal) -> float:
    # A Python function rather than the builtin ``float``: pydantic inspects a serializer's signature,
    # and a builtin's is parsed from its text signature, a few milliseconds of every cold start.
    return float(value)


# Costs are exact Decimals; JSON carries them as numbers (shortest repr, exact for ≤ 15 digits).
Money = Annotated[Decimal, PlainSerializer(_as_number, return_type=float)]


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
    def from_stored(cls, log: StoredLog) -> LogSummary:
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

    @classmethod
    def from_stored(cls, log: StoredLog) -> LogDetail:
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
        )


def _summary_fields(log: StoredLog) -> dict[str, Any]:
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
    total: int
    limit: int
    offset: int
    hasMore: bool  # noqa: N815 - the spec's field name


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
