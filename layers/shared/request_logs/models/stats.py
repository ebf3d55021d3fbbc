"""Response models of ``GET /api/account/request-logs/stats``, apart from the log models: the list, log
and details functions never load them (a model class costs a little of every cold start that imports it).
"""

from typing import Annotated

from pydantic import Field

from request_logs.models.logs import ComponentTotals, Money, _is_none, _ResponseModel


# Fields from the last base class to the first: the spec's, then the extra ones, then the components.
class _SummaryFields(_ResponseModel):
    total_requests: int
    successful_requests: int
    failed_requests: int
    success_rate: float | None
    total_tokens: int
    input_tokens: int
    output_tokens: int
    total_cost: Money | None  # of the priced requests; null when none was (``unpriced_requests`` says how many)
    avg_latency_ms: int | None
    p50_latency_ms: int | None
    p95_latency_ms: int | None
    p99_latency_ms: int | None
    p50_time_to_first_token_ms: int | None
    p95_time_to_first_token_ms: int | None
    p99_time_to_first_token_ms: int | None
    unpriced_requests: int


class StatsSummary(ComponentTotals, _SummaryFields):
    """``stats`` of ``GET /api/account/request-logs/stats``: the spec's fields, then extra ones, then the
    token and cost components.

    Rates, averages and percentiles are null when the range holds no request (undefined, not zero).
    Latencies are whole milliseconds, like every latency the API returns.
    """


class _GroupFields(_ResponseModel):
    requests: int
    tokens: int
    cost: Money | None  # as ``total_cost``: null when no request of the entry was priced
    successful: int
    failed: int
    input_tokens: int
    output_tokens: int
    unpriced_requests: int  # not in ``cost``, beside it so a partly priced set says so
    avg_latency_ms: int | None
    p50_latency_ms: int | None
    p95_latency_ms: int | None
    p99_latency_ms: int | None


class GroupStats(ComponentTotals, _GroupFields):
    """What every ``by_<group>`` entry carries after its key, the same for every grouping: its measures,
    then the token and cost components."""


# Each entry is its key followed by the GroupStats fields: pydantic orders fields from the last base
# class to the first, so the key's base comes last.
class _HourKey(_ResponseModel):
    hour: str


class _DateKey(_ResponseModel):
    date: str


class _WeekKey(_ResponseModel):
    week: str
    start_date: str


class _ModelKey(_ResponseModel):
    model: str


class _ProviderKey(_ResponseModel):
    provider: str


class _AttributionKey(_ResponseModel):
    """An attribution entry's place: ``other`` marks the one entry summing every group past the top N
    (``other_groups`` of them); the logs without a value have their own entry, keyed null, ``other`` false."""

    other: bool
    other_groups: Annotated[int | None, Field(exclude_if=_is_none)] = None


class _UserKey(_ResponseModel):
    user: str | None  # null: the requests that named no user (other false), or the folded rest (other true)


class _MetadataKey(_ResponseModel):
    key: str
    value: str | None  # null: the requests without this key (other false), or the folded rest (other true)


class HourStats(GroupStats, _HourKey):
    pass


class DayStats(GroupStats, _DateKey):
    pass


class WeekStats(GroupStats, _WeekKey):
    pass


class ModelStats(GroupStats, _ModelKey):
    pass


class ProviderStats(GroupStats, _ProviderKey):
    pass


class UserStats(GroupStats, _AttributionKey, _UserKey):
    pass


class MetadataStats(GroupStats, _AttributionKey, _MetadataKey):
    pass


class StatsRange(_ResponseModel):
    """The range answered: ``start`` inclusive, ``end`` exclusive, in the request's zone ``tz`` (UTC with
    ``Z``, else local time with its offset). ``rounded`` when an edge or a bucket boundary was moved to the
    hour (``note`` says which)."""

    start: str
    end: str
    tz: str
    rounded: bool
    note: Annotated[str | None, Field(exclude_if=_is_none)] = None


class StatsResponse(_ResponseModel):
    """``GET /api/account/request-logs/stats``: one ``by_<group>`` per requested grouping, ``by_model`` always."""

    stats: StatsSummary
    by_hour: Annotated[list[HourStats] | None, Field(exclude_if=_is_none)] = None
    by_day: Annotated[list[DayStats] | None, Field(exclude_if=_is_none)] = None
    by_week: Annotated[list[WeekStats] | None, Field(exclude_if=_is_none)] = None
    by_model: list[ModelStats]
    by_provider: Annotated[list[ProviderStats] | None, Field(exclude_if=_is_none)] = None
    by_user: Annotated[list[UserStats] | None, Field(exclude_if=_is_none)] = None
    by_metadata: Annotated[list[MetadataStats] | None, Field(exclude_if=_is_none)] = None
    range: StatsRange
