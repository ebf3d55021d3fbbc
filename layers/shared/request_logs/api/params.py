"""Query parameters of the read endpoints, declared once for validation and OpenAPI."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query

from request_logs.api.errors import InvalidParameter
from request_logs.domain.filters import LogQuery
from request_logs.domain.timeutil import END_OF_TIME_MS, InvalidInstant, parse_instant
from request_logs.store.keys import API_KEY_ID_PATTERN

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
        description="ISO 8601 date or date-time; a bare date is midnight UTC.",
        examples=["2025-01-10", "2025-01-10T12:00:00Z"],
    ),
]
EndDate = Annotated[
    str | None,
    Query(
        max_length=64,
        description="ISO 8601 date or date-time; a bare date includes that whole day.",
        examples=["2025-01-31", "2025-01-10T13:30:00+01:00"],
    ),
]
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
        max_length=64,
        description="Grouping: hour, day, week, model, provider, or a comma list such as day,model (default day).",
        examples=["day", "model", "day,model"],
    ),
]

STATS_DEFAULT_RANGE_MS = 30 * 86_400_000


def date_range(start_date: str | None, end_date: str | None) -> tuple[int, int]:
    """``[start, end)`` in epoch ms; unbounded sides are left to retention. 400 naming the bad parameter."""
    start_ms = _instant("start_date", start_date, exclusive_end=False) if start_date is not None else 0
    end_ms = _instant("end_date", end_date, exclusive_end=True) if end_date is not None else END_OF_TIME_MS
    if end_date is not None and start_date is not None and start_ms >= end_ms:
        raise InvalidParameter("start_date must be before end_date.", param="start_date")
    return start_ms, end_ms


def latency_range(min_latency: int | None, max_latency: int | None) -> None:
    if min_latency is not None and max_latency is not None and min_latency > max_latency:
        raise InvalidParameter("min_latency must not exceed max_latency.", param="min_latency")


def cost_range(min_cost: Decimal | None, max_cost: Decimal | None) -> None:
    if min_cost is not None and max_cost is not None and min_cost > max_cost:
        raise InvalidParameter("min_cost must not exceed max_cost.", param="min_cost")


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
) -> LogQuery:
    """The list filters both list endpoints share, checked against each other (400 naming the parameter)."""
    start_ms, end_ms = date_range(start_date, end_date)
    latency_range(min_latency, max_latency)
    cost_range(min_cost, max_cost)
    return LogQuery(
        account_id=account_id,
        start_ms=start_ms,
        end_ms=end_ms,
        status=status,
        model=model,
        provider=provider,
        api_key_id=api_key_id,
        min_latency=min_latency,
        max_latency=max_latency,
        min_cost=min_cost,
        max_cost=max_cost,
    )


def _instant(param: str, value: str, *, exclusive_end: bool) -> int:
    try:
        return parse_instant(value, exclusive_end=exclusive_end)
    except InvalidInstant as exc:
        raise InvalidParameter(
            f"Invalid value for '{param}': expected ISO 8601 such as 2025-01-10 or 2025-01-10T12:00:00Z ({exc}).",
            param=param,
        ) from exc


def stats_range(start_date: str | None, end_date: str | None, now_ms: int) -> tuple[int, int]:
    """``[start, end)`` of a stats request: ``end_date`` defaults to now, ``start_date`` to 30 days before the end."""
    start_ms, end_ms = date_range(start_date, end_date)
    if end_date is None:
        end_ms = now_ms
    if start_date is None:
        start_ms = end_ms - STATS_DEFAULT_RANGE_MS
    if start_ms >= end_ms:
        raise InvalidParameter("start_date must be before end_date (which defaults to now).", param="start_date")
    return start_ms, end_ms


def group_by_list(group_by: str) -> tuple[str, ...]:
    """``day,model`` → ("day", "model"), in the order given; unknown, empty or repeated groupings are a 400."""
    # Imported here, not at the top: stats_plan pulls in the rollups and ddsketch, which the list, log and
    # details functions (they import this module too) would otherwise load on every cold start.
    from request_logs.domain.stats_plan import GROUPINGS

    groups = tuple(part.strip() for part in group_by.split(","))
    known = ", ".join(GROUPINGS)
    for group in groups:
        if group not in GROUPINGS:
            raise InvalidParameter(
                f"Invalid value for 'group_by': '{group[:32]}' is not one of {known} (comma-separated).",
                param="group_by",
            )
    if len(set(groups)) != len(groups):
        raise InvalidParameter("Invalid value for 'group_by': a grouping is listed more than once.", param="group_by")
    return groups
