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
    """What the gateway billed, in USD, with the per-million prices it used.

    ``input`` is the cost of every prompt token and ``output`` of every completion token (version 1's
    meaning). Version 2 may split them: ``cached_input`` and ``cache_creation_input`` are the parts of
    ``input`` spent on prompt-cache reads and writes, ``reasoning`` the part of ``output`` spent on reasoning
    tokens, each with the price it used (absent: those tokens cost the plain input or output price).
    """

    input: Money
    output: Money
    input_per_million: Money
    output_per_million: Money
    cached_input: Money | None = None
    cache_creation_input: Money | None = None
    reasoning: Money | None = None
    cached_input_per_million: Money | None = None
    cache_creation_input_per_million: Money | None = None
    reasoning_per_million: Money | None = None

    def has_components(self) -> bool:
        return any(getattr(self, name) is not None for name in _COST_COMPONENT_FIELDS)


_COST_COMPONENT_FIELDS = (
    "cached_input",
    "cache_creation_input",
    "reasoning",
    "cached_input_per_million",
    "cache_creation_input_per_million",
    "reasoning_per_million",
)
# A metadata key is used as a query parameter name (``metadata.<key>=<value>``): letters, digits and a few
# separators, so that it needs no escaping and never contains the ``=`` or ``.`` of the syntax around it.
METADATA_KEY_PATTERN = r"^[A-Za-z0-9_:-]{1,64}$"
MAX_METADATA_KEYS = 16
MetadataKey = Annotated[str, Field(pattern=METADATA_KEY_PATTERN)]
# Strict: a number or a boolean is refused, not turned into text (pydantic's default would coerce neither,
# strict says so). Empty values are allowed: "" is a value a customer may group by.
MetadataValue = Annotated[str, Field(max_length=256, strict=True)]
# Fields only version 2 carries: a version-1 gateway that sends one has mislabelled its message.
_VERSION_2_FIELDS = ("cached_input_tokens", "cache_creation_input_tokens", "reasoning_tokens", "user", "metadata")


class RequestCompleted(_Strict):
    """Version 1, or version 2 with the token breakdown, component costs and attribution (``user``,
    ``metadata``). Version 1 stays accepted unchanged."""

    version: Literal[1, 2] = 1
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
    # Version 2: parts of input_tokens (prompt-cache reads and writes) and of output_tokens (reasoning).
    cached_input_tokens: NonNegativeInt = 0
    cache_creation_input_tokens: NonNegativeInt = 0
    reasoning_tokens: NonNegativeInt = 0
    streaming: bool
    # Version 2: the end user the customer named to the gateway (OpenAI's ``user``) and a flat string map.
    user: ShortText | None = None
    metadata: Annotated[dict[MetadataKey, MetadataValue], Field(max_length=MAX_METADATA_KEYS)] | None = None
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
        if self.version == 1:
            sent = [name for name in _VERSION_2_FIELDS if name in self.model_fields_set]
            if sent or (self.cost is not None and self.cost.has_components()):
                raise ValueError(f"{', '.join(sent) or 'cost components'} need version 2")
        if self.cached_input_tokens + self.cache_creation_input_tokens > self.input_tokens:
            raise ValueError("cached_input_tokens + cache_creation_input_tokens exceed input_tokens (counting them)")
        if self.reasoning_tokens > self.output_tokens:
            raise ValueError("reasoning_tokens exceed output_tokens (which counts them)")
        cost = self.cost
        if cost is not None and (cost.cached_input or 0) + (cost.cache_creation_input or 0) > cost.input:
            raise ValueError("cost.cached_input + cost.cache_creation_input exceed cost.input (which counts them)")
        if cost is not None and (cost.reasoning or 0) > cost.output:
            raise ValueError("cost.reasoning exceeds cost.output (which counts it)")
        if cost is not None:
            unsplit = [
                f"cost.{part}"
                for part, tokens in (
                    ("cached_input", self.cached_input_tokens),
                    ("cache_creation_input", self.cache_creation_input_tokens),
                    ("reasoning", self.reasoning_tokens),
                )
                if tokens and getattr(cost, part) is None
            ]
            if unsplit:
                # Without it the component's cost would be a guess; costs are exact per component.
                raise ValueError(f"{', '.join(unsplit)} required: the message has such tokens and a gateway cost")
        return self
