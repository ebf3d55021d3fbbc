# Response models of the Request Logs API, generated from docs/openapi.json by datamodel-code-generator.
# Do not edit: run `make client-models` (tests/client/test_models_fresh.py fails while this file is stale).

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class ContentMetadata(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    latency_ms: Annotated[int, Field(title="Latency Ms")]
    cost: Annotated[Decimal | None, Field(title="Cost")]
    created_at: Annotated[str, Field(title="Created At")]
    model: Annotated[str, Field(title="Model")]
    status: Annotated[str, Field(title="Status")]
    status_code: Annotated[int, Field(title="Status Code")]


class CostBreakdown(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    input: Annotated[Decimal, Field(title="Input")]
    output: Annotated[Decimal, Field(title="Output")]
    total: Annotated[Decimal, Field(title="Total")]
    cached_input: Annotated[Decimal, Field(title="Cached Input")]
    cache_creation_input: Annotated[Decimal, Field(title="Cache Creation Input")]
    reasoning: Annotated[Decimal, Field(title="Reasoning")]


class CostSummary(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    total_cost: Annotated[Decimal | None, Field(title="Total Cost")]
    total_tokens: Annotated[int, Field(title="Total Tokens")]
    avg_cost_per_request: Annotated[Decimal | None, Field(title="Avg Cost Per Request")]
    requests: Annotated[int, Field(title="Requests")]
    priced_requests: Annotated[int, Field(title="Priced Requests")]
    unpriced_requests: Annotated[int, Field(title="Unpriced Requests")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    cached_input_tokens: Annotated[int, Field(title="Cached Input Tokens")]
    cache_creation_input_tokens: Annotated[int, Field(title="Cache Creation Input Tokens")]
    reasoning_tokens: Annotated[int, Field(title="Reasoning Tokens")]
    input_cost: Annotated[Decimal | None, Field(title="Input Cost")]
    output_cost: Annotated[Decimal | None, Field(title="Output Cost")]
    cached_input_cost: Annotated[Decimal | None, Field(title="Cached Input Cost")]
    cache_creation_input_cost: Annotated[Decimal | None, Field(title="Cache Creation Input Cost")]
    reasoning_cost: Annotated[Decimal | None, Field(title="Reasoning Cost")]


class DayStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    date: Annotated[str, Field(title="Date")]
    requests: Annotated[int, Field(title="Requests")]
    tokens: Annotated[int, Field(title="Tokens")]
    cost: Annotated[Decimal | None, Field(title="Cost")]
    successful: Annotated[int, Field(title="Successful")]
    failed: Annotated[int, Field(title="Failed")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    unpriced_requests: Annotated[int, Field(title="Unpriced Requests")]
    avg_latency_ms: Annotated[int | None, Field(title="Avg Latency Ms")]
    p50_latency_ms: Annotated[int | None, Field(title="P50 Latency Ms")]
    p95_latency_ms: Annotated[int | None, Field(title="P95 Latency Ms")]
    p99_latency_ms: Annotated[int | None, Field(title="P99 Latency Ms")]
    cached_input_tokens: Annotated[int, Field(title="Cached Input Tokens")]
    cache_creation_input_tokens: Annotated[int, Field(title="Cache Creation Input Tokens")]
    reasoning_tokens: Annotated[int, Field(title="Reasoning Tokens")]
    input_cost: Annotated[Decimal | None, Field(title="Input Cost")]
    output_cost: Annotated[Decimal | None, Field(title="Output Cost")]
    cached_input_cost: Annotated[Decimal | None, Field(title="Cached Input Cost")]
    cache_creation_input_cost: Annotated[Decimal | None, Field(title="Cache Creation Input Cost")]
    reasoning_cost: Annotated[Decimal | None, Field(title="Reasoning Cost")]


class Error1(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Annotated[str, Field(description="The kind of error; one per HTTP status.")]
    code: Annotated[str, Field(description="A stable, machine-readable reason.")]
    message: Annotated[str, Field(description="A sentence for a human.")]
    param: Annotated[str | None, Field(description="The parameter at fault, when there is one.")] = None


class Error(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    error: Error1


class ErrorInfo(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    type: Annotated[str, Field(title="Type")]
    code: Annotated[str, Field(title="Code")]
    message: Annotated[str, Field(title="Message")]


class HourStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    hour: Annotated[str, Field(title="Hour")]
    requests: Annotated[int, Field(title="Requests")]
    tokens: Annotated[int, Field(title="Tokens")]
    cost: Annotated[Decimal | None, Field(title="Cost")]
    successful: Annotated[int, Field(title="Successful")]
    failed: Annotated[int, Field(title="Failed")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    unpriced_requests: Annotated[int, Field(title="Unpriced Requests")]
    avg_latency_ms: Annotated[int | None, Field(title="Avg Latency Ms")]
    p50_latency_ms: Annotated[int | None, Field(title="P50 Latency Ms")]
    p95_latency_ms: Annotated[int | None, Field(title="P95 Latency Ms")]
    p99_latency_ms: Annotated[int | None, Field(title="P99 Latency Ms")]
    cached_input_tokens: Annotated[int, Field(title="Cached Input Tokens")]
    cache_creation_input_tokens: Annotated[int, Field(title="Cache Creation Input Tokens")]
    reasoning_tokens: Annotated[int, Field(title="Reasoning Tokens")]
    input_cost: Annotated[Decimal | None, Field(title="Input Cost")]
    output_cost: Annotated[Decimal | None, Field(title="Output Cost")]
    cached_input_cost: Annotated[Decimal | None, Field(title="Cached Input Cost")]
    cache_creation_input_cost: Annotated[Decimal | None, Field(title="Cache Creation Input Cost")]
    reasoning_cost: Annotated[Decimal | None, Field(title="Reasoning Cost")]


class LogContentResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[str, Field(title="Id")]
    request: Annotated[dict[str, Any], Field(title="Request")]
    response: Annotated[dict[str, Any] | None, Field(title="Response")]
    metadata: ContentMetadata


class LogSummary(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[str, Field(title="Id")]
    request_id: Annotated[str, Field(title="Request Id")]
    model: Annotated[str, Field(title="Model")]
    provider: Annotated[str, Field(title="Provider")]
    status: Annotated[str, Field(title="Status")]
    status_code: Annotated[int, Field(title="Status Code")]
    latency_ms: Annotated[int, Field(title="Latency Ms")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    total_tokens: Annotated[int, Field(title="Total Tokens")]
    cost: Annotated[Decimal | None, Field(title="Cost")]
    created_at: Annotated[str, Field(title="Created At")]
    api_key_id: Annotated[str, Field(title="Api Key Id")]
    api_key_prefix: Annotated[str, Field(title="Api Key Prefix")]
    error: ErrorInfo | None = None


class MetadataStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    key: Annotated[str, Field(title="Key")]
    value: Annotated[str | None, Field(title="Value")]
    other: Annotated[bool, Field(title="Other")]
    other_groups: Annotated[int | None, Field(title="Other Groups")] = None
    requests: Annotated[int, Field(title="Requests")]
    tokens: Annotated[int, Field(title="Tokens")]
    cost: Annotated[Decimal | None, Field(title="Cost")]
    successful: Annotated[int, Field(title="Successful")]
    failed: Annotated[int, Field(title="Failed")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    unpriced_requests: Annotated[int, Field(title="Unpriced Requests")]
    avg_latency_ms: Annotated[int | None, Field(title="Avg Latency Ms")]
    p50_latency_ms: Annotated[int | None, Field(title="P50 Latency Ms")]
    p95_latency_ms: Annotated[int | None, Field(title="P95 Latency Ms")]
    p99_latency_ms: Annotated[int | None, Field(title="P99 Latency Ms")]
    cached_input_tokens: Annotated[int, Field(title="Cached Input Tokens")]
    cache_creation_input_tokens: Annotated[int, Field(title="Cache Creation Input Tokens")]
    reasoning_tokens: Annotated[int, Field(title="Reasoning Tokens")]
    input_cost: Annotated[Decimal | None, Field(title="Input Cost")]
    output_cost: Annotated[Decimal | None, Field(title="Output Cost")]
    cached_input_cost: Annotated[Decimal | None, Field(title="Cached Input Cost")]
    cache_creation_input_cost: Annotated[Decimal | None, Field(title="Cache Creation Input Cost")]
    reasoning_cost: Annotated[Decimal | None, Field(title="Reasoning Cost")]


class ModelStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    model: Annotated[str, Field(title="Model")]
    requests: Annotated[int, Field(title="Requests")]
    tokens: Annotated[int, Field(title="Tokens")]
    cost: Annotated[Decimal | None, Field(title="Cost")]
    successful: Annotated[int, Field(title="Successful")]
    failed: Annotated[int, Field(title="Failed")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    unpriced_requests: Annotated[int, Field(title="Unpriced Requests")]
    avg_latency_ms: Annotated[int | None, Field(title="Avg Latency Ms")]
    p50_latency_ms: Annotated[int | None, Field(title="P50 Latency Ms")]
    p95_latency_ms: Annotated[int | None, Field(title="P95 Latency Ms")]
    p99_latency_ms: Annotated[int | None, Field(title="P99 Latency Ms")]
    cached_input_tokens: Annotated[int, Field(title="Cached Input Tokens")]
    cache_creation_input_tokens: Annotated[int, Field(title="Cache Creation Input Tokens")]
    reasoning_tokens: Annotated[int, Field(title="Reasoning Tokens")]
    input_cost: Annotated[Decimal | None, Field(title="Input Cost")]
    output_cost: Annotated[Decimal | None, Field(title="Output Cost")]
    cached_input_cost: Annotated[Decimal | None, Field(title="Cached Input Cost")]
    cache_creation_input_cost: Annotated[Decimal | None, Field(title="Cache Creation Input Cost")]
    reasoning_cost: Annotated[Decimal | None, Field(title="Reasoning Cost")]


class Pagination(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    total: Annotated[int, Field(title="Total")]
    limit: Annotated[int, Field(title="Limit")]
    offset: Annotated[int, Field(title="Offset")]
    hasMore: Annotated[bool, Field(title="Hasmore")]
    nextCursor: Annotated[str | None, Field(title="Nextcursor")]


class Pricing(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    input_per_million: Annotated[Decimal, Field(title="Input Per Million")]
    output_per_million: Annotated[Decimal, Field(title="Output Per Million")]
    cached_input_per_million: Annotated[Decimal | None, Field(title="Cached Input Per Million")]
    cache_creation_input_per_million: Annotated[Decimal | None, Field(title="Cache Creation Input Per Million")]
    reasoning_per_million: Annotated[Decimal | None, Field(title="Reasoning Per Million")]
    above_input_tokens: Annotated[int | None, Field(title="Above Input Tokens")]


class ProviderStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    provider: Annotated[str, Field(title="Provider")]
    requests: Annotated[int, Field(title="Requests")]
    tokens: Annotated[int, Field(title="Tokens")]
    cost: Annotated[Decimal | None, Field(title="Cost")]
    successful: Annotated[int, Field(title="Successful")]
    failed: Annotated[int, Field(title="Failed")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    unpriced_requests: Annotated[int, Field(title="Unpriced Requests")]
    avg_latency_ms: Annotated[int | None, Field(title="Avg Latency Ms")]
    p50_latency_ms: Annotated[int | None, Field(title="P50 Latency Ms")]
    p95_latency_ms: Annotated[int | None, Field(title="P95 Latency Ms")]
    p99_latency_ms: Annotated[int | None, Field(title="P99 Latency Ms")]
    cached_input_tokens: Annotated[int, Field(title="Cached Input Tokens")]
    cache_creation_input_tokens: Annotated[int, Field(title="Cache Creation Input Tokens")]
    reasoning_tokens: Annotated[int, Field(title="Reasoning Tokens")]
    input_cost: Annotated[Decimal | None, Field(title="Input Cost")]
    output_cost: Annotated[Decimal | None, Field(title="Output Cost")]
    cached_input_cost: Annotated[Decimal | None, Field(title="Cached Input Cost")]
    cache_creation_input_cost: Annotated[Decimal | None, Field(title="Cache Creation Input Cost")]
    reasoning_cost: Annotated[Decimal | None, Field(title="Reasoning Cost")]


class Resolution(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    gateway_type: Annotated[int, Field(title="Gateway Type")]
    gateway_id: Annotated[str, Field(title="Gateway Id")]
    connection_id: Annotated[str, Field(title="Connection Id")]


class StatsRange(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    start: Annotated[str, Field(title="Start")]
    end: Annotated[str, Field(title="End")]
    tz: Annotated[str, Field(title="Tz")]
    rounded: Annotated[bool, Field(title="Rounded")]
    note: Annotated[str | None, Field(title="Note")] = None


class StatsSummary(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    total_requests: Annotated[int, Field(title="Total Requests")]
    successful_requests: Annotated[int, Field(title="Successful Requests")]
    failed_requests: Annotated[int, Field(title="Failed Requests")]
    success_rate: Annotated[Decimal | None, Field(title="Success Rate")]
    total_tokens: Annotated[int, Field(title="Total Tokens")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    total_cost: Annotated[Decimal | None, Field(title="Total Cost")]
    avg_latency_ms: Annotated[int | None, Field(title="Avg Latency Ms")]
    p50_latency_ms: Annotated[int | None, Field(title="P50 Latency Ms")]
    p95_latency_ms: Annotated[int | None, Field(title="P95 Latency Ms")]
    p99_latency_ms: Annotated[int | None, Field(title="P99 Latency Ms")]
    p50_time_to_first_token_ms: Annotated[int | None, Field(title="P50 Time To First Token Ms")]
    p95_time_to_first_token_ms: Annotated[int | None, Field(title="P95 Time To First Token Ms")]
    p99_time_to_first_token_ms: Annotated[int | None, Field(title="P99 Time To First Token Ms")]
    unpriced_requests: Annotated[int, Field(title="Unpriced Requests")]
    cached_input_tokens: Annotated[int, Field(title="Cached Input Tokens")]
    cache_creation_input_tokens: Annotated[int, Field(title="Cache Creation Input Tokens")]
    reasoning_tokens: Annotated[int, Field(title="Reasoning Tokens")]
    input_cost: Annotated[Decimal | None, Field(title="Input Cost")]
    output_cost: Annotated[Decimal | None, Field(title="Output Cost")]
    cached_input_cost: Annotated[Decimal | None, Field(title="Cached Input Cost")]
    cache_creation_input_cost: Annotated[Decimal | None, Field(title="Cache Creation Input Cost")]
    reasoning_cost: Annotated[Decimal | None, Field(title="Reasoning Cost")]


class TokenCounts(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    input: Annotated[int, Field(title="Input")]
    output: Annotated[int, Field(title="Output")]
    total: Annotated[int, Field(title="Total")]
    cached_input: Annotated[int, Field(title="Cached Input")]
    cache_creation_input: Annotated[int, Field(title="Cache Creation Input")]
    reasoning: Annotated[int, Field(title="Reasoning")]


class UserStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    user: Annotated[str | None, Field(title="User")]
    other: Annotated[bool, Field(title="Other")]
    other_groups: Annotated[int | None, Field(title="Other Groups")] = None
    requests: Annotated[int, Field(title="Requests")]
    tokens: Annotated[int, Field(title="Tokens")]
    cost: Annotated[Decimal | None, Field(title="Cost")]
    successful: Annotated[int, Field(title="Successful")]
    failed: Annotated[int, Field(title="Failed")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    unpriced_requests: Annotated[int, Field(title="Unpriced Requests")]
    avg_latency_ms: Annotated[int | None, Field(title="Avg Latency Ms")]
    p50_latency_ms: Annotated[int | None, Field(title="P50 Latency Ms")]
    p95_latency_ms: Annotated[int | None, Field(title="P95 Latency Ms")]
    p99_latency_ms: Annotated[int | None, Field(title="P99 Latency Ms")]
    cached_input_tokens: Annotated[int, Field(title="Cached Input Tokens")]
    cache_creation_input_tokens: Annotated[int, Field(title="Cache Creation Input Tokens")]
    reasoning_tokens: Annotated[int, Field(title="Reasoning Tokens")]
    input_cost: Annotated[Decimal | None, Field(title="Input Cost")]
    output_cost: Annotated[Decimal | None, Field(title="Output Cost")]
    cached_input_cost: Annotated[Decimal | None, Field(title="Cached Input Cost")]
    cache_creation_input_cost: Annotated[Decimal | None, Field(title="Cache Creation Input Cost")]
    reasoning_cost: Annotated[Decimal | None, Field(title="Reasoning Cost")]


class WeekStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    week: Annotated[str, Field(title="Week")]
    start_date: Annotated[str, Field(title="Start Date")]
    requests: Annotated[int, Field(title="Requests")]
    tokens: Annotated[int, Field(title="Tokens")]
    cost: Annotated[Decimal | None, Field(title="Cost")]
    successful: Annotated[int, Field(title="Successful")]
    failed: Annotated[int, Field(title="Failed")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    unpriced_requests: Annotated[int, Field(title="Unpriced Requests")]
    avg_latency_ms: Annotated[int | None, Field(title="Avg Latency Ms")]
    p50_latency_ms: Annotated[int | None, Field(title="P50 Latency Ms")]
    p95_latency_ms: Annotated[int | None, Field(title="P95 Latency Ms")]
    p99_latency_ms: Annotated[int | None, Field(title="P99 Latency Ms")]
    cached_input_tokens: Annotated[int, Field(title="Cached Input Tokens")]
    cache_creation_input_tokens: Annotated[int, Field(title="Cache Creation Input Tokens")]
    reasoning_tokens: Annotated[int, Field(title="Reasoning Tokens")]
    input_cost: Annotated[Decimal | None, Field(title="Input Cost")]
    output_cost: Annotated[Decimal | None, Field(title="Output Cost")]
    cached_input_cost: Annotated[Decimal | None, Field(title="Cached Input Cost")]
    cache_creation_input_cost: Annotated[Decimal | None, Field(title="Cache Creation Input Cost")]
    reasoning_cost: Annotated[Decimal | None, Field(title="Reasoning Cost")]


class EnhancedLog(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[str, Field(title="Id")]
    request_id: Annotated[str, Field(title="Request Id")]
    model: Annotated[str, Field(title="Model")]
    provider: Annotated[str, Field(title="Provider")]
    status: Annotated[str, Field(title="Status")]
    status_code: Annotated[int, Field(title="Status Code")]
    latency_ms: Annotated[int, Field(title="Latency Ms")]
    tokens: TokenCounts
    cost: CostBreakdown | None
    pricing: Pricing | None
    cost_source: Annotated[str, Field(title="Cost Source")]
    catalog_version: Annotated[str | None, Field(title="Catalog Version")]
    created_at: Annotated[str, Field(title="Created At")]
    api_key_id: Annotated[str, Field(title="Api Key Id")]
    api_key_prefix: Annotated[str, Field(title="Api Key Prefix")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    total_tokens: Annotated[int, Field(title="Total Tokens")]
    error: ErrorInfo | None = None
    user: Annotated[str | None, Field(title="User")] = None
    metadata: Annotated[dict[str, str] | None, Field(title="Metadata")] = None


class LogDetail(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[str, Field(title="Id")]
    request_id: Annotated[str, Field(title="Request Id")]
    model: Annotated[str, Field(title="Model")]
    provider: Annotated[str, Field(title="Provider")]
    status: Annotated[str, Field(title="Status")]
    status_code: Annotated[int, Field(title="Status Code")]
    latency_ms: Annotated[int, Field(title="Latency Ms")]
    input_tokens: Annotated[int, Field(title="Input Tokens")]
    output_tokens: Annotated[int, Field(title="Output Tokens")]
    total_tokens: Annotated[int, Field(title="Total Tokens")]
    cost: Annotated[Decimal | None, Field(title="Cost")]
    created_at: Annotated[str, Field(title="Created At")]
    api_key_id: Annotated[str, Field(title="Api Key Id")]
    api_key_prefix: Annotated[str, Field(title="Api Key Prefix")]
    error: ErrorInfo | None = None
    endpoint: Annotated[str, Field(title="Endpoint")]
    method: Annotated[str, Field(title="Method")]
    time_to_first_token_ms: Annotated[int | None, Field(title="Time To First Token Ms")]
    streaming: Annotated[bool, Field(title="Streaming")]
    completed_at: Annotated[str, Field(title="Completed At")]
    user_agent: Annotated[str | None, Field(title="User Agent")]
    ip_address: Annotated[str | None, Field(title="Ip Address")]
    resolution: Resolution | None
    tokens: TokenCounts
    cost_breakdown: CostBreakdown | None
    pricing: Pricing | None
    cost_source: Annotated[str, Field(title="Cost Source")]
    catalog_version: Annotated[str | None, Field(title="Catalog Version")]
    user: Annotated[str | None, Field(title="User")]
    metadata: Annotated[dict[str, str], Field(title="Metadata")]


class LogListResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    logs: Annotated[list[LogSummary], Field(title="Logs")]
    pagination: Pagination


class StatsResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    stats: StatsSummary
    by_hour: Annotated[list[HourStats] | None, Field(title="By Hour")] = None
    by_day: Annotated[list[DayStats] | None, Field(title="By Day")] = None
    by_week: Annotated[list[WeekStats] | None, Field(title="By Week")] = None
    by_model: Annotated[list[ModelStats], Field(title="By Model")]
    by_provider: Annotated[list[ProviderStats] | None, Field(title="By Provider")] = None
    by_user: Annotated[list[UserStats] | None, Field(title="By User")] = None
    by_metadata: Annotated[list[MetadataStats] | None, Field(title="By Metadata")] = None
    range: StatsRange


class EnhancedListResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    logs: Annotated[list[EnhancedLog], Field(title="Logs")]
    summary: CostSummary
    pagination: Pagination
