"""What a list query asks for: the account, a time range and the filters, checked against each other.
Pure: which index answers it best is the store's choice (``store/indexes``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from request_logs.domain.errors import InvalidQuery
from request_logs.domain.histograms import Bound

# A metadata filter's name, as a query parameter and among a query's equality filters: ``metadata.<key>``.
METADATA_PREFIX = "metadata."


@dataclass(frozen=True)
class MetadataFilter:
    """``metadata.<key>=<value>``; ``slot``: where the account indexes the key (1..5), 0 until the use case
    has looked it up (``logic/attribution``): a key's slot is the account's, not the request's."""

    key: str
    value: str
    slot: int = 0
    # False while the key's rollups lack logs stored before it was declared (``logic/attribution``):
    # totals then come from the logs, through the slot's index.
    rollups_complete: bool = True


@dataclass(frozen=True)
class LogQuery:
    account_id: str
    start_ms: int
    end_ms: int  # exclusive
    status: str | None = None
    model: str | None = None
    provider: str | None = None
    api_key_id: str | None = None
    min_latency: int | None = None
    max_latency: int | None = None
    min_cost: Decimal | None = None  # on the log's total cost; a log without a price never matches one
    max_cost: Decimal | None = None
    user: str | None = None
    metadata: tuple[MetadataFilter, ...] = ()  # at most one per key, sorted by key

    def __post_init__(self) -> None:
        if self.min_latency is not None and self.max_latency is not None and self.min_latency > self.max_latency:
            raise InvalidQuery("min_latency must not exceed max_latency.", param="min_latency")
        if self.min_cost is not None and self.max_cost is not None and self.min_cost > self.max_cost:
            raise InvalidQuery("min_cost must not exceed max_cost.", param="min_cost")

    def equality_filters(self) -> dict[str, str]:
        candidates = {
            "status": self.status,
            "model": self.model,
            "provider": self.provider,
            "api_key_id": self.api_key_id,
            "user": self.user,
            **{METADATA_PREFIX + pair.key: pair.value for pair in self.metadata},
        }
        return {name: value for name, value in candidates.items() if value is not None}

    def metadata_slot(self, key: str) -> int:
        """The account's slot of a filtered key (``MetadataFilter.slot``)."""
        return next(pair.slot for pair in self.metadata if pair.key == key)

    @property
    def is_empty_range(self) -> bool:
        return self.start_ms >= self.end_ms

    @property
    def filters_cost(self) -> bool:
        return self.min_cost is not None or self.max_cost is not None

    def cost_matches(self, cost: Decimal | None) -> bool:
        """The cost filter, which DynamoDB cannot evaluate (a log stores its input and output costs)."""
        if not self.filters_cost:
            return True
        if cost is None:
            return False
        return (self.min_cost is None or cost >= self.min_cost) and (self.max_cost is None or cost <= self.max_cost)

    @property
    def filters_latency(self) -> bool:
        return self.min_latency is not None or self.max_latency is not None

    def value_bound(self) -> Bound | None:
        """The query's latency or cost bound, when it has exactly one of the two kinds."""
        if self.filters_latency == self.filters_cost:
            return None
        if self.filters_latency:
            low, high = self.min_latency, self.max_latency
            return Bound("latency", None if low is None else Decimal(low), None if high is None else Decimal(high))
        return Bound("cost", self.min_cost, self.max_cost)

    def without_value_bounds(self) -> LogQuery:
        return replace(self, min_latency=None, max_latency=None, min_cost=None, max_cost=None)

    def rollup_filter(self) -> RollupFilter | None:
        """The rollup items, and the status inside them, that count exactly this query's logs, or None.

        Rollups hold counters per dimension value, with per-status counters inside every item, so a time
        range with at most one of model, provider or API key, plus or minus a status, is answerable;
        latency and cost filters (answered by histograms, ``logic/totals``) and two of model, provider and
        key are not.
        """
        if self.min_latency is not None or self.max_latency is not None or self.filters_cost:
            return None
        if not all(pair.rollups_complete for pair in self.metadata):
            return None
        filters = self.equality_filters()
        status = filters.pop("status", None)
        if not filters:
            return RollupFilter("all", "", status)
        if len(filters) > 1:
            return None
        ((name, value),) = filters.items()
        if name in ROLLUP_DIMENSION_OF_FILTER:
            return RollupFilter(ROLLUP_DIMENSION_OF_FILTER[name], value, status)
        # user and metadata.<key>: their rollup dimension is named like the filter, values stored marked.
        return RollupFilter(name, attributed_value(value), status)


@dataclass(frozen=True)
class RollupFilter:
    """The rollup items of ``dimension``/``value`` ("all"/"" for none), and inside them the counters of
    one ``status`` when the query has one."""

    dimension: str
    value: str
    status: str | None = None


# Query filter → the rollup dimension holding its counters (status lives in every item's groups).
ROLLUP_DIMENSION_OF_FILTER = {"model": "model", "provider": "provider", "api_key_id": "api_key"}


# How a user or metadata value is kept as a rollup dimension value: marked with a leading "=", so that the
# logs without one (kept under ABSENT_VALUE, "") can never be confused with a real value, "" included
# (an empty metadata value is a value a customer may send and group by).
ATTRIBUTED_MARK = "="
# A user or metadata grouping returns its top N values by requests, then one entry folding the rest.
DEFAULT_GROUP_LIMIT = 10
MAX_GROUP_LIMIT = 100
ABSENT_VALUE = ""


def attributed_value(value: str | None) -> str:
    return ABSENT_VALUE if value is None else ATTRIBUTED_MARK + value


def value_of_attributed(stored: str) -> str | None:
    """The user or metadata value a rollup dimension value stands for; None for the logs without one."""
    return stored[len(ATTRIBUTED_MARK) :] if stored.startswith(ATTRIBUTED_MARK) else None
