"""The request log: one request a customer sent through the gateway, as the product knows it.

Immutable once ingested. How it is stored (keys, indexes, TTL attribute) is ``store/items``'s business;
what a response shows of it is ``models/``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class RequestLog:
    id: str
    account_id: str
    request_id: str
    api_key_id: str
    api_key_prefix: str
    model: str
    provider: str
    endpoint: str
    method: str
    status: str  # "success" or "error"
    status_code: int
    created_ms: int
    completed_ms: int
    latency_ms: int
    input_tokens: int
    output_tokens: int
    streaming: bool
    # Parts of input_tokens (prompt-cache reads, cache writes) and of output_tokens (reasoning).
    cached_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    reasoning_tokens: int = 0
    ttft_ms: int | None = None
    error_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    user_agent: str | None = None
    ip_address: str | None = None
    gateway_type: int | None = None
    gateway_id: str | None = None
    connection_id: str | None = None
    cost_input: Decimal | None = None  # None: nobody priced the request (no gateway cost, no catalog price)
    cost_output: Decimal | None = None
    price_input_per_million: Decimal | None = None
    price_output_per_million: Decimal | None = None
    # Parts of cost_input and cost_output; None where the log has none of those tokens (a version-1 log).
    cost_cached_input: Decimal | None = None
    cost_cache_creation_input: Decimal | None = None
    cost_reasoning: Decimal | None = None
    price_cached_input_per_million: Decimal | None = None
    price_cache_creation_input_per_million: Decimal | None = None
    price_reasoning_per_million: Decimal | None = None
    # The catalog tier that priced the log: it applies to prompts of more than this many tokens (None: the
    # model's base prices, or a price the gateway reported).
    price_tier_above_input_tokens: int | None = None
    cost_source: str = "unpriced"  # "gateway", "catalog" or "unpriced"
    catalog_version: str | None = None
    # When ingest wrote it (epoch ms), taken before the write: what the freshness horizon is built on.
    # None on logs written before ingest stamped them.
    ingested_ms: int | None = None
    user: str | None = None  # the end user the customer named to the gateway
    metadata: Mapping[str, str] | None = None  # the customer's flat attribution map

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost_total(self) -> Decimal | None:
        if self.cost_input is None or self.cost_output is None:
            return None
        return self.cost_input + self.cost_output
