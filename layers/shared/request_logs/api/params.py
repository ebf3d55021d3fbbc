"""Query parameters of the read endpoints, declared once for validation and OpenAPI."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import tzinfo
from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field, Strict

from request_logs.domain import ranges
from request_logs.domain.errors import InvalidQuery
from request_logs.domain.exports import ExportRequest
from request_logs.domain.filters import (
    DEFAULT_GROUP_LIMIT,
    MAX_GROUP_LIMIT,
    METADATA_PREFIX,
    LogQuery,
    MetadataFilter,
)
from request_logs.domain.ids import API_KEY_ID_PATTERN
from request_logs.domain.ranges import TimeRange, requested_range
from request_logs.domain.timeutil import InvalidInstant, UnknownZone, parse_instant, zone_named

Limit = Annotated[int, Query(ge=1, le=100, description="Results per page (1..100, default 50).", examples=[10])]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Skip the first N results.")]
Status = Annotated[Literal["success", "error"] | None, Query(description="Filter by status.")]
Model = Annotated[
    str | None,
    Query(min_length=1, max_length=256, description="Filter by model id.", examples=["openai/gpt-4o"]),
]
Provider = Annotated[
    str | None, Query(min_length=1, max_length=256, description="Filter by provider.", examples=["openai"])
]
StartDate = Annotated[
    str | None,
    Query(
        max_length=64,
        description=(
            "ISO 8601 date or date-time; a bare date is midnight in tz, a time without offset is in tz. "
            "Default: 30 days before the end."
        ),
        examples=["2025-01-10", "2025-01-10T12:00:00Z"],
    ),
]
EndDate = Annotated[
    str | None,
    Query(
        max_length=64,
        description="ISO 8601 date or date-time; a bare date includes that whole day in tz. Default: now.",
        examples=["2025-01-31", "2025-01-10T13:30:00+01:00"],
    ),
]
Tz = Annotated[
    str,
    Query(
        min_length=1,
        max_length=64,
        description=(
            "IANA time zone (default UTC) in which bare dates and times without offset are read and, on "
            "stats, hours, days and weeks are counted, daylight saving included."
        ),
        examples=["America/Chicago", "Asia/Kolkata", "Asia/Kathmandu"],
    ),
]
User = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=256,
        description=(
            "Filter by end user (the message's user). The same endpoints also take metadata.<key>=<value>, one "
            "or more, on the account's indexed metadata keys (an undeclared key is a 400 listing them)."
        ),
        examples=["user_0001"],
    ),
]
# metadata.<key>: the key as ingest accepts it (models/messages.METADATA_KEY_PATTERN, spelled again here:
# importing the ingest models would cost every API function's cold start their class creation), the
# value as long.
_METADATA_KEY = re.compile(r"[A-Za-z0-9_:-]{1,64}")
MAX_METADATA_VALUE_LENGTH = 256
MinLatency = Annotated[int | None, Query(ge=0, le=2**31 - 1, description="Minimum latency in ms.")]
MaxLatency = Annotated[int | None, Query(ge=0, le=2**31 - 1, description="Maximum latency in ms.")]
ApiKeyId = Annotated[
    str | None, Query(pattern=API_KEY_ID_PATTERN, description="Filter by API key id.", examples=["key_abc123"])
]
MinCost = Annotated[
    Decimal | None,
    Query(ge=0, le=1_000_000, decimal_places=18, description="Minimum total cost of a log, in USD (inclusive)."),
]
MaxCost = Annotated[
    Decimal | None,
    Query(ge=0, le=1_000_000, decimal_places=18, description="Maximum total cost of a log, in USD (inclusive)."),
]
Sort = Annotated[
    Literal["created_at", "cost", "latency", "tokens"],
    Query(description="Sort by: created_at, cost, latency or tokens (total tokens). Default created_at."),
]
Order = Annotated[Literal["asc", "desc"], Query(description="Sort order: asc or desc (default desc).")]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=4096,
        description="pagination.nextCursor of the previous page, unchanged, with the same filters, sort and order.",
    ),
]
GroupBy = Annotated[
    str,
    Query(
        max_length=128,
        description=(
            "Grouping: hour, day, week, model, provider, user, metadata.<key> (an indexed key), or a comma list "
            "such as day,model (default day)."
        ),
        examples=["day", "model", "day,model", "user", "metadata.feature"],
    ),
]
GroupLimit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_GROUP_LIMIT,
        description=(
            f"With group_by=user or metadata.<key>: how many groups by requests (1..{MAX_GROUP_LIMIT}, default "
            f"{DEFAULT_GROUP_LIMIT}) before one entry with other=true sums the rest."
        ),
    ),
]


def log_query(
    account_id: str,
    *,
    model: str | None,
    provider: str | None,
    status: str | None,
    start_date: str | None,
    end_date: str | None,
    min_latency: int | None,
    max_latency: int | None,
    api_key_id: str | None,
    min_cost: Decimal | None = None,
    max_cost: Decimal | None = None,
    tz: str = "UTC",
    user: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> LogQuery:
    """The list filters both list endpoints share, checked against each other (400 naming the parameter).
    ``metadata``: the request's ``metadata.<key>`` parameters as sent (``resolver.metadata_query``)."""
    zone = time_zone(tz)
    requested = requested_range(_instant("start_date", start_date, zone), _instant("end_date", end_date, zone))
    return LogQuery(
        account_id=account_id,
        start_ms=requested.start_ms,
        end_ms=requested.end_ms,
        status=status,
        model=model,
        provider=provider,
        api_key_id=api_key_id,
        min_latency=min_latency,
        max_latency=max_latency,
        min_cost=min_cost,
        max_cost=max_cost,
        user=user,
        metadata=metadata_filters(metadata or {}),
    )


def metadata_filters(parameters: Mapping[str, str]) -> tuple[MetadataFilter, ...]:
    """``metadata.<key>=<value>`` parameters → filters sorted by key; a malformed key or value is a 400
    naming the parameter. Whether the account indexes the key is the use case's to check."""
    found = []
    for name, value in sorted(parameters.items()):
        key = name[len(METADATA_PREFIX) :]
        if not _METADATA_KEY.fullmatch(key):
            raise InvalidQuery(
                f"Invalid query parameter '{name[:80]}': a metadata key is 1 to 64 letters, digits, '_', ':' or '-' "
                "(metadata.<key>=<value>).",
                param=name[:80],
            )
        if len(value) > MAX_METADATA_VALUE_LENGTH:
            raise InvalidQuery(
                f"Invalid value for '{name}': at most {MAX_METADATA_VALUE_LENGTH} characters.", param=name
            )
        found.append(MetadataFilter(key, value))
    return tuple(found)


def stats_range(start_date: str | None, end_date: str | None, now_ms: int, zone: tzinfo) -> TimeRange:
    """``[start, end)`` of a stats request (the default window is ``ranges.stats_range``'s)."""
    return ranges.stats_range(
        _instant("start_date", start_date, zone), _instant("end_date", end_date, zone), now_ms=now_ms
    )


def time_zone(tz: str) -> tzinfo:
    """The zone named by ``tz``; an unknown name is a 400 naming ``tz``."""
    try:
        return zone_named(tz)
    except UnknownZone as exc:
        raise InvalidQuery(
            f"Invalid value for 'tz': '{tz[:64]}' is not an IANA time zone name such as UTC, America/Chicago or "
            "Asia/Kolkata.",
            param="tz",
        ) from exc


def _instant(param: str, value: str | None, zone: tzinfo) -> int | None:
    """Epoch ms of a date parameter: a start instant, or the exclusive end of a range including ``end_date``."""
    if value is None:
        return None
    try:
        return parse_instant(value, exclusive_end=param == "end_date", zone=zone)
    except InvalidInstant as exc:
        raise InvalidQuery(
            f"Invalid value for '{param}': expected ISO 8601 such as 2025-01-10 or 2025-01-10T12:00:00Z ({exc}).",
            param=param,
        ) from exc


def group_by_list(group_by: str) -> tuple[str, ...]:
    """``day,model`` → ("day", "model"), in the order given; unknown, empty or repeated groupings are a 400.
    ``user`` and one ``metadata.<key>`` (well-formed; whether it is indexed is the use case's check) too."""
    # Imported here, not at the top: stats_plan pulls in the rollups and ddsketch, which the list, log and
    # details functions (they import this module too) would otherwise load on every cold start.
    from request_logs.domain.stats_plan import GROUPINGS

    groups = tuple(part.strip() for part in group_by.split(","))
    known = ", ".join((*GROUPINGS, "user", "metadata.<key>"))
    for group in groups:
        if group in GROUPINGS or group == "user":
            continue
        if group.startswith(METADATA_PREFIX):
            if not _METADATA_KEY.fullmatch(group[len(METADATA_PREFIX) :]):
                raise InvalidQuery(
                    f"Invalid value for 'group_by': '{group[:80]}' is not metadata.<key> with a key of 1 to 64 "
                    "letters, digits, '_', ':' or '-'.",
                    param="group_by",
                )
            continue
        raise InvalidQuery(
            f"Invalid value for 'group_by': '{group[:32]}' is not one of {known} (comma-separated).",
            param="group_by",
        )
    if len(set(groups)) != len(groups):
        raise InvalidQuery("Invalid value for 'group_by': a grouping is listed more than once.", param="group_by")
    if sum(group.startswith(METADATA_PREFIX) for group in groups) > 1:
        raise InvalidQuery("Invalid value for 'group_by': group by one metadata key at a time.", param="group_by")
    return groups


# ------------------------------------------------------------------ the export request's JSON body
class ExportBody(BaseModel):
    """``POST /api/account/request-logs/exports``: the list's and the enhanced list's filters, with their
    names, types and limits (the very annotations above), plus the file format and whether to include the
    prompt and completion. Strict JSON: a number is a number, a boolean a boolean (never ``"true"``), and
    an unknown member is a 400 naming it, like an unknown query parameter."""

    model_config = ConfigDict(extra="forbid", strict=True, title="ExportRequest")

    format: Annotated[
        Literal["ndjson", "csv", "parquet"],
        Field(
            description=(
                "File format, always compressed: ndjson (gzip, .ndjson.gz), csv (gzip, .csv.gz) or parquet (zstd "
                "inside, .parquet). Default ndjson."
            )
        ),
    ] = "ndjson"
    include_content: Annotated[
        bool,
        Field(
            description=(
                "Add each log's prompt and completion (request and response, as /details returns them), for logs "
                "still inside the 30-day content retention; older logs get null. Default false."
            )
        ),
    ] = False
    model: Model = None
    provider: Provider = None
    status: Status = None
    start_date: StartDate = None
    end_date: EndDate = None
    tz: Tz = "UTC"
    min_latency: MinLatency = None
    max_latency: MaxLatency = None
    api_key_id: ApiKeyId = None
    # A cost is a JSON number or a decimal string (an exact amount no binary float can carry).
    min_cost: Annotated[MinCost, Strict(False)] = None
    max_cost: Annotated[MaxCost, Strict(False)] = None
    user: User = None
    metadata: Annotated[
        dict[str, str] | None,
        Field(
            description=(
                'Filter by the account\'s indexed metadata keys: {"<key>": "<value>"}, each like the lists\' '
                "metadata.<key>=<value> query parameter (errors name that parameter)."
            ),
            examples=[{"feature": "search"}],
        ),
    ] = None


def export_request(account_id: str, body: ExportBody) -> ExportRequest:
    """The body → the use case's request, checked like the list's parameters (400 naming the one at fault)."""
    query = log_query(
        account_id,
        model=body.model,
        provider=body.provider,
        status=body.status,
        start_date=body.start_date,
        end_date=body.end_date,
        min_latency=body.min_latency,
        max_latency=body.max_latency,
        api_key_id=body.api_key_id,
        min_cost=body.min_cost,
        max_cost=body.max_cost,
        tz=body.tz,
        user=body.user,
        metadata={METADATA_PREFIX + key: value for key, value in (body.metadata or {}).items()},
    )
    filters: dict[str, Any] = body.model_dump(mode="json", exclude_none=True, exclude={"format", "include_content"})
    if filters.get("tz") == "UTC" and "tz" not in body.model_fields_set:
        del filters["tz"]  # the default, not something the client asked for
    return ExportRequest(query, body.format, body.include_content, filters)
