"""The message a gateway puts on the ingest queue when a request completes (the ingest contract).

Documented in the README ("Ingest message"). Unknown fields are rejected so that a gateway that
misspells a field learns about it from the dead-letter queue instead of silently losing data.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from request_logs.domain.ids import ACCOUNT_ID_PATTERN, API_KEY_ID_PATTERN

NonNegativeInt = Annotated[int, Field(ge=0, le=2**53)]
# At most $1,000,000 and 12 decimal places (a cost of tokens × a price with 6 decimals ÷ 1,000,000): sums of
# up to 10¹⁰ such amounts stay within the 28 significant digits Decimal arithmetic keeps, so every total
# is exact and both ways of computing a summary (rollups, logs) agree to the last digit.
Money = Annotated[Decimal, Field(ge=0, le=1_000_000, allow_inf_nan=False, decimal_places=12)]
ShortText = Annotated[str, Field(min_length=1, max_length=256)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorDetail(_Strict):
    type: ShortText
    code: ShortText
    message: Annotated[str, Field(max_length=4096)]


class Resolution(_Strict):
    gateway_type: int
    gateway_id: ShortText
    connection_id: ShortText


class GatewayCost(_Strict):
    """What the gateway billed, in USD, with the per-million prices it used."""

    input: Money
    output: Money
    input_per_million: Money
    output_per_million: Money


class RequestCompleted(_Strict):
    version: Literal[1] = 1
    request_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
    account_id: Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN)]
    api_key_id: Annotated[str, Field(pattern=API_KEY_ID_PATTERN)]
    api_key_prefix: Annotated[str, Field(min_length=1, max_length=16)]
    model: ShortText
    provider: ShortText
    endpoint: ShortText
    method: Annotated[str, Field(pattern=r"^[A-Z]{3,7}$")]
    status: Literal["success", "error"]
    status_code: Annotated[int, Field(ge=100, le=599)]
    error: ErrorDetail | None = None
    created_at: AwareDatetime
    completed_at: AwareDatetime
    time_to_first_token_ms: NonNegativeInt | None = None
    latency_ms: NonNegativeInt
    input_tokens: NonNegativeInt
    output_tokens: NonNegativeInt
    streaming: bool
    user_agent: Annotated[str, Field(max_length=1024)] | None = None
    ip_address: Annotated[str, Field(max_length=64)] | None = None
    resolution: Resolution | None = None
    cost: GatewayCost | None = None
    request: dict[str, Any]
    response: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RequestCompleted:
        if (self.status == "error") != (self.error is not None):
            raise ValueError("error is required when status is 'error' and must be absent otherwise")
        if self.completed_at < self.created_at:
            raise ValueError("completed_at is before created_at")
        return self
