"""What a list query asks for, and which index answers it best. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

# Filter attribute → (GSI name, GSI partition-key attribute). Mirrors template.yaml's indexes; a test
# checks the two agree.
FILTER_INDEXES: dict[str, tuple[str, str]] = {
    "status": ("by_status", "status_pk"),
    "model": ("by_model", "model_pk"),
    "provider": ("by_provider", "provider_pk"),
    "api_key_id": ("by_api_key", "api_key_pk"),
}


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

    def equality_filters(self) -> dict[str, str]:
        candidates = {
            "status": self.status,
            "model": self.model,
            "provider": self.provider,
            "api_key_id": self.api_key_id,
        }
        return {name: value for name, value in candidates.items() if value is not None}

    @property
    def is_empty_range(self) -> bool:
        return self.start_ms >= self.end_ms


@dataclass(frozen=True)
class IndexPlan:
    """Read ``index`` (None: the table itself) partitioned by ``value``; filter the rest."""

    index: str | None
    key_attribute: str
    value: str | None
    residual_filters: dict[str, str]


def plan_index(query: LogQuery) -> IndexPlan:
    """Pick the filter most likely to be selective as the index; the others become filter expressions.

    Without statistics the order is a prior: errors are rare, an API key or a model usually narrows more
    than a provider, and ``status=success`` is most of the traffic.
    """
    filters = query.equality_filters()
    if not filters:
        return IndexPlan(None, "pk", None, {})
    order = ["api_key_id", "model", "provider", "status"]
    if filters.get("status") == "error":
        order = ["status", *order[:-1]]
    chosen = next(name for name in order if name in filters)
    index, attribute = FILTER_INDEXES[chosen]
    residual = {name: value for name, value in filters.items() if name != chosen}
    return IndexPlan(index, attribute, filters[chosen], residual)
