"""The log table's secondary indexes, and which one answers a query best.

Two kinds, both in ``template.yaml`` (a test checks they agree):

- filter indexes, one per equality filter, partitioned by ``account#shard#value`` and sorted like the
  table (``store/keys``): a filtered list reads only matching logs, newest first. The status index is
  sparse: it holds errors only, since ``status=success`` is most of the traffic and reads the table
  itself about as cheaply, for one write less per successful log;
- value indexes, one per sortable value (cost, latency, total tokens), partitioned by account and half
  UTC day (``keys.VALUE_BUCKET_MS``) and sorted by the value: a sort or a value bound reads its page and
  one step per bucket; and the same three for errors alone (sparse), which a ``status=error`` sort or
  bound reads.

Every index projects the attributes a list filters on and a summary adds up (``LISTED_ATTRIBUTES``), not
the whole log: a page read from an index fetches its logs from the table by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from request_logs.domain.filters import LogQuery

# Filter → (GSI name, GSI partition-key attribute).
FILTER_INDEXES: dict[str, tuple[str, str]] = {
    "status": ("by_status", "status_pk"),
    "model": ("by_model", "model_pk"),
    "provider": ("by_provider", "provider_pk"),
    "api_key_id": ("by_api_key", "api_key_pk"),
}
# Filters whose index holds only some values (the others read the table with a filter).
SPARSE_FILTER_VALUES: dict[str, frozenset[str]] = {"status": frozenset({"error"})}

# Sort → (GSI name, its sort-key attribute); all partitioned by BUCKET_PARTITION (``keys.bucket_pk``).
VALUE_INDEXES: dict[str, tuple[str, str]] = {
    "cost": ("by_cost", "cost_rank"),
    "latency": ("by_latency", "latency_ms"),
    "tokens": ("by_tokens", "total_tokens"),
}
BUCKET_PARTITION = "bucket_pk"
# The same indexes for errors alone, partitioned by ERROR_BUCKET_PARTITION (the same value as
# BUCKET_PARTITION, carried by errors only): a sort or bound with status=error reads errors, not the
# whole bucket.
ERROR_VALUE_INDEXES: dict[str, str] = {
    "cost": "errors_by_cost",
    "latency": "errors_by_latency",
    "tokens": "errors_by_tokens",
}
ERROR_BUCKET_PARTITION = "error_bucket_pk"
# ``cost_rank`` of a log nobody priced: below every cost, so the cost index holds every log and a cost
# bound (never negative) leaves the unpriced ones out by its key condition alone.
UNPRICED_RANK = Decimal(-1)

# What every index projects besides its keys and the table's (``pk``, ``sk``).
LISTED_ATTRIBUTES = (
    "status",
    "model",
    "provider",
    "api_key_id",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cost_rank",
    "breakdown",  # the token and cost components in one map (store/items.BREAKDOWN)
)


def indexed(filter_name: str, value: str) -> bool:
    """Whether the filter index of ``filter_name`` holds logs with this value."""
    sparse = SPARSE_FILTER_VALUES.get(filter_name)
    return sparse is None or value in sparse


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
    than a provider. ``status=success`` has no index entries (most of the traffic): it is a filter.
    """
    filters = query.equality_filters()
    candidates = {name: value for name, value in filters.items() if indexed(name, value)}
    if not candidates:
        return IndexPlan(None, "pk", None, filters)
    order = ["status", "api_key_id", "model", "provider"]
    chosen = next(name for name in order if name in candidates)
    index, attribute = FILTER_INDEXES[chosen]
    residual = {name: value for name, value in filters.items() if name != chosen}
    return IndexPlan(index, attribute, filters[chosen], residual)
