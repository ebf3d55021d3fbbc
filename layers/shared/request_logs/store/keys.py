"""DynamoDB key formats: the one place that knows how ids, partitions and sort keys are spelled.

A log id (``domain/ids``) carries its creation instant and a digest of (account, request id): a
redelivered message maps to the same key (idempotent conditional put), the shard is derived from the
digest (one account's writes spread over ``LOG_SHARDS`` partitions), and a log can be fetched by id with
one GetItem under the caller's own partition, so another account's id simply does not exist for the
caller.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from request_logs.domain.ids import parse_log_id

# Fixed for the life of a table: the shard of a log is derived from its id with this modulus.
LOG_SHARDS = 8

# Sorts after every character a log id can contain, so it closes a range of sort keys.
_SK_HIGH = "~"


@dataclass(frozen=True)
class LogKey:
    log_id: str
    created_ms: int
    shard: int


def log_key(log_id: str) -> LogKey | None:
    """Where a log with this id is stored, or None for a malformed id (which is just an unknown one)."""
    parsed = parse_log_id(log_id)
    if parsed is None:
        return None
    return LogKey(log_id, parsed.created_ms, parsed.digest % LOG_SHARDS)


def log_table_key(account_id: str, log_id: str) -> tuple[str, str] | None:
    """(pk, sk) of the account's log with this id (the id alone holds its shard and instant), or None for a
    malformed id."""
    key = log_key(log_id)
    if key is None:
        return None
    return log_pk(account_id, key.shard), log_sk(key.created_ms, log_id)


def log_shard(log_id: str) -> int:
    """The shard of a well-formed log id (every stored log has one)."""
    key = log_key(log_id)
    if key is None:
        raise ValueError(f"not a log id: {log_id[:64]!r}")
    return key.shard


def log_pk(account_id: str, shard: int) -> str:
    return f"{account_id}#{shard}"


def log_sk(created_ms: int, log_id: str) -> str:
    return f"{created_ms:013d}#{log_id}"


def parse_log_sk(sort_key: str) -> tuple[int, str]:
    """The creation instant and log id a log's sort key is made of."""
    created, _, log_id = sort_key.partition("#")
    return int(created), log_id


def parse_log_pk(partition_key: str) -> tuple[str, int]:
    """The account and shard a log partition key is made of."""
    account_id, _, shard = partition_key.rpartition("#")
    return account_id, int(shard)


# A settle marker (``logic/settle``) lives in a log partition without being a log. Its sort key starts
# with the character that closes every range of creation instants, so no read of logs ever meets one.
_SETTLE_MARKER_PREFIX = f"{_SK_HIGH}settle#"


def settle_marker_sk(stamp_ms: int) -> str:
    return f"{_SETTLE_MARKER_PREFIX}{stamp_ms:013d}"


def is_settle_marker_sk(sort_key: str) -> bool:
    return sort_key.startswith(_SETTLE_MARKER_PREFIX)


# A log created more than a day after it was ingested (a gateway clock far ahead) goes, in every value
# index, to one partition of its own, which every read of the index adds to its buckets. Without it, a
# read could not know the last bucket holding logs and would have to try every bucket up to the year 9999.
FUTURE_BUCKET = -1
_FUTURE_SLACK_MS = 86_400_000


@dataclass(frozen=True)
class ValueBuckets:
    """How a value index (``store/indexes.VALUE_INDEXES``) cuts an account's logs into partitions by
    creation instant: buckets of ``width_ms`` since the epoch (UTC), spelled ``<account>#<prefix><n>``.

    The width is a trade (decisions §21, §35): a sort merges one stream per bucket of its range, so wider
    buckets make fewer streams; a bound's page reads the matches of each bucket it opens whole (a partition
    is ordered by the value, not by time), so narrower buckets make smaller steps.
    """

    width_ms: int
    prefix: str

    def pk(self, account_id: str, bucket: int) -> str:
        """Partition of one account's logs created in ``bucket`` (or the future partition)."""
        return f"{account_id}#{self.prefix}future" if bucket == FUTURE_BUCKET else f"{account_id}#{self.prefix}{bucket}"

    def of(self, epoch_ms: int) -> int:
        return epoch_ms // self.width_ms

    def start(self, bucket: int) -> int:
        return bucket * self.width_ms

    def of_log(self, created_ms: int, ingested_ms: int | None) -> int:
        """The partition of a log: its bucket, or FUTURE_BUCKET when created far after its ingestion."""
        if ingested_ms is not None and created_ms > ingested_ms + _FUTURE_SLACK_MS:
            return FUTURE_BUCKET
        return self.of(created_ms)

    def between(self, start_ms: int, end_ms_exclusive: int) -> range:
        """The buckets holding ``start_ms <= created < end_ms_exclusive``, oldest first (empty for an empty
        range)."""
        if start_ms >= end_ms_exclusive:
            return range(0)
        return range(self.of(start_ms), self.of(end_ms_exclusive - 1) + 1)

    def partitions(self, start_ms: int, end_ms_exclusive: int, *, now_ms: int) -> list[int]:
        """The partitions that can hold logs created in the range, oldest bucket first, FUTURE_BUCKET last:
        logs ingested by ``now_ms`` lie in a bucket up to a day after it, or in the future partition."""
        if start_ms >= end_ms_exclusive:
            return []
        buckets = self.between(start_ms, min(end_ms_exclusive, now_ms + _FUTURE_SLACK_MS + 1))
        return [*buckets, FUTURE_BUCKET]


# The cost and tokens indexes: half UTC days, so that a sort over 90 days merges 180 streams.
HALF_DAYS = ValueBuckets(12 * 3_600_000, "b")
# The latency index: four hours. "Find slow requests" walks a latency bound newest first, and a half day
# of a busy account holds more matches than a page: each page that opened one read it whole.
FOUR_HOURS = ValueBuckets(4 * 3_600_000, "l")


def index_pk(account_id: str, shard: int, value: str) -> str:
    """Partition key of a filter index (status, model, provider, api key): value last, any characters."""
    return f"{account_id}#{shard}#{value}"


def sk_range(start_ms: int, end_ms_exclusive: int) -> tuple[str, str]:
    """Inclusive BETWEEN bounds covering ``start_ms <= created < end_ms_exclusive``."""
    return f"{start_ms:013d}#", f"{end_ms_exclusive - 1:013d}#{_SK_HIGH}"


def content_pk(account_id: str, log_id: str) -> str:
    return f"{account_id}#{log_id}"


def content_object_key(account_id: str, log_id: str, part: str) -> str:
    return f"content/{account_id}/{log_id}/{part}.json.gz"


# Exports (``store/exports``): one partition per account in the exports table, holding its export records
# (sorted by creation: an export id starts with its instant in fixed-width hex) and its one lock item.
EXPORT_SK_PREFIX = "export#"
EXPORT_LOCK_SK = "lock"


def export_pk(account_id: str) -> str:
    return account_id


def export_sk(export_id: str) -> str:
    return f"{EXPORT_SK_PREFIX}{export_id}"


def export_id_of_sk(sort_key: str) -> str:
    return sort_key.removeprefix(EXPORT_SK_PREFIX)


def export_sk_from(created_ms: int) -> str:
    """The lowest sort key of the exports created at or after ``created_ms`` (ids start with the instant)."""
    return f"{EXPORT_SK_PREFIX}exp_{max(created_ms, 0):011x}"


def export_sk_high() -> str:
    return f"{EXPORT_SK_PREFIX}exp_{_SK_HIGH}"


def export_object_key(account_id: str, export_id: str, name: str) -> str:
    """Where an export's part or manifest lives in the exports bucket (its lifecycle rule covers exports/)."""
    return f"{EXPORT_OBJECT_PREFIX}{account_id}/{export_id}/{name}"


EXPORT_OBJECT_PREFIX = "exports/"


def api_key_item_pk(key_hash: str) -> str:
    return f"KEY#{key_hash}"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


API_KEY_SK = "KEY"
ACCOUNT_SK = "ACCOUNT"


# An account's key items sort under this prefix: one Query with begins_with lists them.
ACCOUNT_KEY_SK_PREFIX = "KEY#"


def account_key_sk(api_key_id: str) -> str:
    return f"{ACCOUNT_KEY_SK_PREFIX}{api_key_id}"


def stats_pk(account_id: str, granularity: str, dimension: str) -> str:
    """Rollups of one account, granularity and dimension share a partition, sorted by bucket."""
    return f"{account_id}#{granularity}#{dimension}"


def progress_pk(account_id: str) -> str:
    """The account's freshness marks (``domain/freshness.Progress``) in the stats table, beside its rollups.

    Two parts where a rollup partition has three (account ids hold no ``#``), so it never meets a rollup.
    """
    return f"{account_id}#progress"


PROGRESS_SK = "progress"


# DynamoDB caps a sort key at 1,024 bytes; a model name may be 256 characters of up to 4 bytes each.
_MAX_SORT_KEY_BYTES = 1024


def stats_sk(bucket_ms: int, value: str) -> str:
    """Bucket, then the dimension value; a value too long for a sort key is replaced by its digest.

    Such an item keeps its value in a ``value`` attribute (``rollup_key_parts``).
    """
    sort_key = f"{bucket_ms:013d}#{value}"
    if len(sort_key.encode()) <= _MAX_SORT_KEY_BYTES:
        return sort_key
    return f"{bucket_ms:013d}#sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def rollup_key_parts(pk: str, sk: str) -> tuple[str, str, str, int, str | None]:
    """Account, granularity, dimension, bucket and value of a rollup item's keys (``stats_pk``, ``stats_sk``);
    the value is None when the sort key holds its digest (the item then keeps the value as an attribute)."""
    account_id, granularity, dimension = pk.split("#", 2)  # account ids hold no "#"; a metadata key may
    bucket, value = sk.split("#", 1)
    return account_id, granularity, dimension, int(bucket), None if value.startswith("sha256:") else value


def stats_sk_range(start_ms: int, end_ms_exclusive: int) -> tuple[str, str]:
    """Inclusive BETWEEN bounds covering buckets that start in ``[start_ms, end_ms_exclusive)``."""
    return f"{start_ms:013d}#", f"{end_ms_exclusive - 1:013d}#\U0010ffff"
