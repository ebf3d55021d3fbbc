"""The log table's filter indexes, and which one answers a query best.

Each equality filter has a global secondary index partitioned by ``account#shard#value`` and sorted like
the table (``store/keys``), so a filtered list reads only matching logs instead of filtering the range.
"""

from __future__ import annotations

from dataclasses import dataclass

from request_logs.domain.filters import LogQuery

# Filter → (GSI name, GSI partition-key attribute). Mirrors template.yaml's indexes; a test checks the
# two agree.
FILTER_INDEXES: dict[str, tuple[str, str]] = {
    "status": ("by_status", "status_pk"),
    "model": ("by_model", "model_pk"),
    "provider": ("by_provider", "provider_pk"),
    "api_key_id": ("by_api_key", "api_key_pk"),
}


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
