"""The log table's secondary indexes, and which one answers a query best.

Two kinds, both in ``template.yaml`` (a test checks they agree):

- filter indexes, one per equality filter, partitioned by ``account#shard#value`` and sorted like the
  table (``store/keys``): a filtered list reads only matching logs, newest first. The status index is
  sparse: it holds errors only, since ``status=success`` is most of the traffic and reads the table
  itself about as cheaply, for one write less per successful log;
- value indexes, one per sortable value (cost, latency, total tokens), partitioned by account and a
  time bucket (``keys.ValueBuckets``: half UTC days, four hours for latency) and sorted by the value: a
  sort or a value bound reads its page and one step per bucket; and the same three for errors alone
  (sparse, half days), which a ``status=error`` sort or bound reads.

- attribution indexes (sparse: only logs carrying the value): ``by_user``, and ``by_metadata_1..5``, one per
  slot of an account's indexed metadata keys (``MAX_INDEXED_METADATA_KEYS``), partitioned by
  ``account#shard#<key>=<value>``: the key name inside the value keeps a slot reused for another key from
  matching the logs indexed under the old one. Which key an account keeps in which slot is the account's
  (``store/api_keys``); ingest writes the slot attributes of the keys indexed when the log is written.

Every index projects the attributes a list filters on and a summary adds up (``LISTED_ATTRIBUTES``), not
the whole log: a page read from an index fetches its logs from the table by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from request_logs.domain.filters import METADATA_PREFIX, LogQuery
from request_logs.store import keys

# Filter → (GSI name, GSI partition-key attribute).
FILTER_INDEXES: dict[str, tuple[str, str]] = {
    "status": ("by_status", "status_pk"),
    "model": ("by_model", "model_pk"),
    "provider": ("by_provider", "provider_pk"),
    "api_key_id": ("by_api_key", "api_key_pk"),
}
USER_INDEX = ("by_user", "user_pk")
# An account indexes at most this many metadata keys: one GSI each, within DynamoDB's 20 per table.
MAX_INDEXED_METADATA_KEYS = 5
METADATA_SLOTS = tuple(range(1, MAX_INDEXED_METADATA_KEYS + 1))


def metadata_index(slot: int) -> tuple[str, str]:
    """(GSI name, partition-key attribute) of a metadata slot."""
    return f"by_metadata_{slot}", f"metadata_{slot}_pk"


def metadata_index_value(key: str, value: str) -> str:
    """The value a metadata slot's partition key holds (keys never contain "=")."""
    return f"{key}={value}"


# A string set on each log with a user or an indexed metadata pair: "u=<user>", "m:<key>=<value>".
ATTRIBUTION = "attribution"


def attribution_value(filter_name: str, value: str) -> str:
    """The element of ``ATTRIBUTION`` a user or metadata filter looks for."""
    if filter_name == "user":
        return f"u={value}"
    return f"m:{metadata_index_value(filter_name[len(METADATA_PREFIX) :], value)}"


# Filters whose index holds only some values (the others read the table with a filter).
SPARSE_FILTER_VALUES: dict[str, frozenset[str]] = {"status": frozenset({"error"})}


@dataclass(frozen=True)
class ValueIndex:
    """A GSI holding an account's logs of one time bucket per partition, sorted by a value."""

    name: str
    partition: str  # the partition-key attribute: ``buckets.pk`` of the log's bucket
    value: str  # the sort-key attribute
    buckets: keys.ValueBuckets


BUCKET_PARTITION = "bucket_pk"
LATENCY_BUCKET_PARTITION = "latency_bucket_pk"
# The same value indexes for errors alone, partitioned by ERROR_BUCKET_PARTITION (the value of
# BUCKET_PARTITION, carried by errors only): a sort or bound with status=error reads errors, not the
# whole bucket.
ERROR_BUCKET_PARTITION = "error_bucket_pk"
VALUE_INDEXES: dict[str, ValueIndex] = {
    "cost": ValueIndex("by_cost", BUCKET_PARTITION, "cost_rank", keys.HALF_DAYS),
    "latency": ValueIndex("by_latency", LATENCY_BUCKET_PARTITION, "latency_ms", keys.FOUR_HOURS),
    "tokens": ValueIndex("by_tokens", BUCKET_PARTITION, "total_tokens", keys.HALF_DAYS),
}
ERROR_VALUE_INDEXES: dict[str, ValueIndex] = {
    "cost": ValueIndex("errors_by_cost", ERROR_BUCKET_PARTITION, "cost_rank", keys.HALF_DAYS),
    "latency": ValueIndex("errors_by_latency", ERROR_BUCKET_PARTITION, "latency_ms", keys.HALF_DAYS),
    "tokens": ValueIndex("errors_by_tokens", ERROR_BUCKET_PARTITION, "total_tokens", keys.HALF_DAYS),
}
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
    # The log's user and indexed metadata pairs in one string set (``attribution_value``): an attribution
    # filter left over as a filter expression tests it with contains(). One attribute, not six: DynamoDB
    # counts every projected attribute of every index against 100 per table.
    ATTRIBUTION,
)


def is_keys_only(index: str | None) -> bool:
    """The attribution indexes project keys only (the 100-attribute limit): a read through one can count
    and find a page's keys, but no filter expression or sum can use another attribute."""
    return index is not None and (index == USER_INDEX[0] or index.startswith("by_metadata_"))


def filter_index(query: LogQuery, filter_name: str) -> tuple[str, str, str]:
    """(GSI name, partition-key attribute, the value inside its ``account#shard#...`` key) of an equality
    filter of ``query``."""
    value = query.equality_filters()[filter_name]
    if filter_name == "user":
        return (*USER_INDEX, value)
    if filter_name.startswith(METADATA_PREFIX):
        key = filter_name[len(METADATA_PREFIX) :]
        return (*metadata_index(query.metadata_slot(key)), metadata_index_value(key, value))
    return (*FILTER_INDEXES[filter_name], value)


def is_attribution(filter_name: str) -> bool:
    """A user or metadata filter (``user``, ``metadata.<key>``)."""
    return filter_name == "user" or filter_name.startswith(METADATA_PREFIX)


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


def plan_index(query: LogQuery, *, needs_attributes: bool = False) -> IndexPlan:
    """Pick the filter most likely to be selective as the index; the others become filter expressions.

    Without statistics the order is a prior: errors are rare, an end user or a metadata value is usually a
    small part of the traffic, an API key or a model usually narrows more than a provider.
    ``status=success`` has no index entries (most of the traffic): it is a filter.
    """
    filters = query.equality_filters()
    candidates = {name: value for name, value in filters.items() if indexed(name, value)}
    # An attribution index holds keys only: it answers a query that has nothing else to filter, and no
    # read that sums the logs' attributes (``needs_attributes``); otherwise the attribution is a residual.
    if needs_attributes or len(filters) > 1 or query.filters_latency or query.filters_cost:
        candidates = {name: value for name, value in candidates.items() if not is_attribution(name)}
    if not candidates:
        return IndexPlan(None, "pk", None, filters)
    metadata = sorted(name for name in candidates if name.startswith(METADATA_PREFIX))
    order = ["status", "user", *metadata, "api_key_id", "model", "provider"]
    chosen = next(name for name in order if name in candidates)
    index, attribute, value = filter_index(query, chosen)
    residual = {name: value for name, value in filters.items() if name != chosen}
    return IndexPlan(index, attribute, value, residual)
