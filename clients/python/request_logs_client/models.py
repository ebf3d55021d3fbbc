# Response models of the Request Logs API, generated from docs/openapi.json by datamodel-code-generator.
# Do not edit: run `make client-models` (tests/client/test_models_fresh.py fails while this file is stale).

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel


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
    export_id: Annotated[
        str | None,
        Field(description="On a 409 export_in_progress: the id of the export queued or running."),
    ] = None


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


class Format(StrEnum):
    ndjson = "ndjson"
    csv = "csv"
    parquet = "parquet"


class Model(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="Filter by model id.",
            examples=["openai/gpt-4o"],
            max_length=256,
            min_length=1,
            title="Model",
        ),
    ]


class Provider(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="Filter by provider.",
            examples=["openai"],
            max_length=256,
            min_length=1,
            title="Provider",
        ),
    ]


class Status(StrEnum):
    success = "success"
    error = "error"


class StartDate(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="ISO 8601 date or date-time; a bare date is midnight in tz, a time without offset is in tz. Default: 30 days before the end.",
            examples=["2025-01-10", "2025-01-10T12:00:00Z"],
            max_length=64,
            title="Start Date",
        ),
    ]


class EndDate(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="ISO 8601 date or date-time; a bare date includes that whole day in tz. Default: now.",
            examples=["2025-01-31", "2025-01-10T13:30:00+01:00"],
            max_length=64,
            title="End Date",
        ),
    ]


class MinLatency(RootModel[int]):
    root: Annotated[
        int,
        Field(
            description="Minimum latency in ms.",
            ge=0,
            le=2147483647,
            title="Min Latency",
        ),
    ]


class MaxLatency(RootModel[int]):
    root: Annotated[
        int,
        Field(
            description="Maximum latency in ms.",
            ge=0,
            le=2147483647,
            title="Max Latency",
        ),
    ]


class ApiKeyId(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="Filter by API key id.",
            examples=["key_abc123"],
            pattern="^key_[A-Za-z0-9]{1,64}$",
            title="Api Key Id",
        ),
    ]


class MinCost(RootModel[Decimal]):
    root: Annotated[
        Decimal,
        Field(
            description="Minimum total cost of a log, in USD (inclusive).",
            ge=0,
            le=1000000,
            title="Min Cost",
        ),
    ]


class MinCost1(RootModel[str]):
    model_config = ConfigDict(
        regex_engine="python-re",
    )
    root: Annotated[
        str,
        Field(
            description="Minimum total cost of a log, in USD (inclusive).",
            pattern="^(?!^[-+.]*$)[+-]?0*\\d*\\.?\\d{0,18}0*$",
            title="Min Cost",
        ),
    ]


class MaxCost(RootModel[Decimal]):
    root: Annotated[
        Decimal,
        Field(
            description="Maximum total cost of a log, in USD (inclusive).",
            ge=0,
            le=1000000,
            title="Max Cost",
        ),
    ]


class MaxCost1(RootModel[str]):
    model_config = ConfigDict(
        regex_engine="python-re",
    )
    root: Annotated[
        str,
        Field(
            description="Maximum total cost of a log, in USD (inclusive).",
            pattern="^(?!^[-+.]*$)[+-]?0*\\d*\\.?\\d{0,18}0*$",
            title="Max Cost",
        ),
    ]


class User(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="Filter by end user (the message's user). The same endpoints also take metadata.<key>=<value>, one or more, on the account's indexed metadata keys (an undeclared key is a 400 listing them).",
            examples=["user_0001"],
            max_length=256,
            min_length=1,
            title="User",
        ),
    ]


class ExportBody(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    format: Annotated[
        Format | None,
        Field(
            description="File format, always compressed: ndjson (gzip, .ndjson.gz), csv (gzip, .csv.gz) or parquet (zstd inside, .parquet). Default ndjson.",
            title="Format",
        ),
    ] = Format.ndjson
    include_content: Annotated[
        bool | None,
        Field(
            description="Add each log's prompt and completion (request and response, as /details returns them), for logs still inside the 30-day content retention; older logs get null. Default false.",
            title="Include Content",
        ),
    ] = False
    model: Annotated[
        Model | None,
        Field(description="Filter by model id.", examples=["openai/gpt-4o"], title="Model"),
    ] = None
    provider: Annotated[
        Provider | None,
        Field(description="Filter by provider.", examples=["openai"], title="Provider"),
    ] = None
    status: Annotated[Status | None, Field(description="Filter by status.", title="Status")] = None
    start_date: Annotated[
        StartDate | None,
        Field(
            description="ISO 8601 date or date-time; a bare date is midnight in tz, a time without offset is in tz. Default: 30 days before the end.",
            examples=["2025-01-10", "2025-01-10T12:00:00Z"],
            title="Start Date",
        ),
    ] = None
    end_date: Annotated[
        EndDate | None,
        Field(
            description="ISO 8601 date or date-time; a bare date includes that whole day in tz. Default: now.",
            examples=["2025-01-31", "2025-01-10T13:30:00+01:00"],
            title="End Date",
        ),
    ] = None
    tz: Annotated[
        str | None,
        Field(
            description="IANA time zone (default UTC) in which bare dates and times without offset are read and, on stats, hours, days and weeks are counted, daylight saving included.",
            examples=["America/Chicago", "Asia/Kolkata", "Asia/Kathmandu"],
            max_length=64,
            min_length=1,
            title="Tz",
        ),
    ] = "UTC"
    min_latency: Annotated[
        MinLatency | None,
        Field(description="Minimum latency in ms.", title="Min Latency"),
    ] = None
    max_latency: Annotated[
        MaxLatency | None,
        Field(description="Maximum latency in ms.", title="Max Latency"),
    ] = None
    api_key_id: Annotated[
        ApiKeyId | None,
        Field(
            description="Filter by API key id.",
            examples=["key_abc123"],
            title="Api Key Id",
        ),
    ] = None
    min_cost: Annotated[
        MinCost | MinCost1 | None,
        Field(
            description="Minimum total cost of a log, in USD (inclusive).",
            title="Min Cost",
        ),
    ] = None
    max_cost: Annotated[
        MaxCost | MaxCost1 | None,
        Field(
            description="Maximum total cost of a log, in USD (inclusive).",
            title="Max Cost",
        ),
    ] = None
    user: Annotated[
        User | None,
        Field(
            description="Filter by end user (the message's user). The same endpoints also take metadata.<key>=<value>, one or more, on the account's indexed metadata keys (an undeclared key is a 400 listing them).",
            examples=["user_0001"],
            title="User",
        ),
    ] = None
    metadata: Annotated[
        dict[str, str] | None,
        Field(
            description='Filter by the account\'s indexed metadata keys: {"<key>": "<value>"}, each like the lists\' metadata.<key>=<value> query parameter (errors name that parameter).',
            examples=[{"feature": "search"}],
            title="Metadata",
        ),
    ] = None


class ExportCreated(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[str, Field(title="Id")]
    status: Annotated[Literal["queued"], Field(title="Status")]
    format: Annotated[Format, Field(title="Format")]
    include_content: Annotated[bool, Field(title="Include Content")]
    filters: Annotated[dict[str, Any], Field(title="Filters")]
    created_at: Annotated[str, Field(title="Created At")]
    expires_at: Annotated[str, Field(title="Expires At")]


class Status1(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class ExportError(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    message: Annotated[str, Field(title="Message")]


class ExportPart(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    number: Annotated[int, Field(title="Number")]
    name: Annotated[str, Field(title="Name")]
    rows: Annotated[int, Field(title="Rows")]
    bytes: Annotated[int, Field(title="Bytes")]
    sha256: Annotated[str, Field(title="Sha256")]


class ExportProgress(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    rows: Annotated[int, Field(title="Rows")]
    total: Annotated[int | None, Field(title="Total")]
    fraction: Annotated[Decimal | None, Field(title="Fraction")]


class ExportSummary(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[str, Field(title="Id")]
    status: Annotated[Status1, Field(title="Status")]
    format: Annotated[Format, Field(title="Format")]
    include_content: Annotated[bool, Field(title="Include Content")]
    filters: Annotated[dict[str, Any], Field(title="Filters")]
    rows: Annotated[int, Field(title="Rows")]
    created_at: Annotated[str, Field(title="Created At")]
    finished_at: Annotated[str | None, Field(title="Finished At")]
    expires_at: Annotated[str, Field(title="Expires At")]
    error: ExportError | None


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
    endpoint: Annotated[str, Field(title="Endpoint")]
    method: Annotated[str, Field(title="Method")]
    time_to_first_token_ms: Annotated[int | None, Field(title="Time To First Token Ms")]
    streaming: Annotated[bool, Field(title="Streaming")]
    completed_at: Annotated[str, Field(title="Completed At")]
    user_agent: Annotated[str | None, Field(title="User Agent")]
    ip_address: Annotated[str | None, Field(title="Ip Address")]
    resolution: Resolution | None


class ExportDetail(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[str, Field(title="Id")]
    status: Annotated[Status1, Field(title="Status")]
    format: Annotated[Format, Field(title="Format")]
    include_content: Annotated[bool, Field(title="Include Content")]
    filters: Annotated[dict[str, Any], Field(title="Filters")]
    rows: Annotated[int, Field(title="Rows")]
    created_at: Annotated[str, Field(title="Created At")]
    finished_at: Annotated[str | None, Field(title="Finished At")]
    expires_at: Annotated[str, Field(title="Expires At")]
    error: ExportError | None
    progress: ExportProgress
    started_at: Annotated[str | None, Field(title="Started At")]
    parts: Annotated[list[ExportPart], Field(title="Parts")]
    urls: Annotated[list[str] | None, Field(title="Urls")]
    manifest_url: Annotated[str | None, Field(title="Manifest Url")]
    urls_expire_at: Annotated[str | None, Field(title="Urls Expire At")]


class ExportListResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    exports: Annotated[list[ExportSummary], Field(title="Exports")]
    pagination: Pagination


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
