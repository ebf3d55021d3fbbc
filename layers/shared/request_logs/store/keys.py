"""DynamoDB key formats: the one place that knows how ids, partitions and sort keys are spelled.

Log ids carry their creation instant and a digest of (account, request id): a redelivered message maps
to the same key (idempotent conditional put), the shard is derived from the digest (one account's
writes spread over ``LOG_SHARDS`` partitions), and a log can be fetched by id with one GetItem under the
caller's own partition, so another account's id simply does not exist for the caller.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Fixed for the life of a table: the shard of a log is derived from its id with this modulus.
LOG_SHARDS = 8

_LOG_ID = re.compile(r"^log_(?P<created>[0-9a-f]{11})(?P<digest>[0-9a-f]{16})$")
ACCOUNT_ID_PATTERN = r"^acct_[A-Za-z0-9]{1,64}$"
API_KEY_ID_PATTERN = r"^key_[A-Za-z0-9]{1,64}$"
# Sorts after every character a log id can contain, so it closes a range of sort keys.
_SK_HIGH = "~"


@dataclass(frozen=True)
class LogKey:
    log_id: str
    created_ms: int
    shard: int


def make_log_id(account_id: str, request_id: str, created_ms: int) -> str:
    digest = hashlib.sha256(f"{account_id}\x00{request_id}".encode()).hexdigest()[:16]
    return f"log_{created_ms:011x}{digest}"


def parse_log_id(log_id: str) -> LogKey | None:
    """The key parts of a well-formed id, or None (a malformed id is just an unknown one)."""
    match = _LOG_ID.fullmatch(log_id)  # not match: "$" would also accept a trailing newline
    if match is None:
        return None
    return LogKey(log_id, int(match["created"], 16), int(match["digest"], 16) % LOG_SHARDS)


def log_pk(account_id: str, shard: int) -> str:
    return f"{account_id}#{shard}"


def log_sk(created_ms: int, log_id: str) -> str:
    return f"{created_ms:013d}#{log_id}"


def sk_created_ms(sort_key: str) -> int:
    """The creation instant a log's sort key starts with."""
    return int(sort_key[:13])


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


def api_key_item_pk(key_hash: str) -> str:
    return f"KEY#{key_hash}"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


API_KEY_SK = "KEY"
ACCOUNT_SK = "ACCOUNT"


def account_key_sk(api_key_id: str) -> str:
    return f"KEY#{api_key_id}"


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

    Readers take the value from the item's ``value`` attribute, never from the sort key.
    """
    sort_key = f"{bucket_ms:013d}#{value}"
    if len(sort_key.encode()) <= _MAX_SORT_KEY_BYTES:
        return sort_key
    return f"{bucket_ms:013d}#sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def stats_sk_range(start_ms: int, end_ms_exclusive: int) -> tuple[str, str]:
    """Inclusive BETWEEN bounds covering buckets that start in ``[start_ms, end_ms_exclusive)``."""
    return f"{start_ms:013d}#", f"{end_ms_exclusive - 1:013d}#\U0010ffff"
