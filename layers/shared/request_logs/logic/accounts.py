"""Accounts and API keys for the admin CLI and the local runtime's demo accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from request_logs.domain.api_keys import display_prefix, generate_api_key, generate_id, hash_api_key
from request_logs.domain.reads import ReadStats
from request_logs.domain.retention import oldest_retained_log_ms
from request_logs.domain.timeutil import END_OF_TIME_MS, now_ms
from request_logs.models.messages import METADATA_KEY_PATTERN
from request_logs.store import api_keys as key_store
from request_logs.store import logs as log_store
from request_logs.store.api_keys import AccountChanged, StoredAccount, StoredApiKey
from request_logs.store.indexes import MAX_INDEXED_METADATA_KEYS, METADATA_SLOTS

# Tries when other admins keep changing the account's keys between our read and our write.
_SLOT_ATTEMPTS = 5


class UnknownAccount(Exception):
    pass


@dataclass(frozen=True)
class NewApiKey:
    """A freshly created key: ``api_key`` is the only time the plaintext exists outside the caller."""

    api_key: str
    record: StoredApiKey


def create_account(name: str, account_id: str | None = None, usage_identifier: str | None = None) -> StoredAccount:
    account = StoredAccount(
        account_id=account_id or generate_id("acct"),
        name=name,
        created_ms=now_ms(),
        usage_identifier=usage_identifier,
    )
    key_store.put_account(account)
    return account


def create_api_key(
    account_id: str,
    *,
    name: str | None = None,
    usage_identifier: str | None = None,
    api_key: str | None = None,
    api_key_id: str | None = None,
) -> NewApiKey:
    """A new key for an existing account. ``api_key`` lets fixtures pin a known key; never in production.

    ``api_key_id`` lets a caller name things after the key before it exists (the admin CLI names the
    API Gateway key linked to it; event fixtures pin a known id); by default one is generated.
    """
    account = key_store.get_account(account_id)
    if account is None:
        raise UnknownAccount(account_id)
    plaintext = api_key or generate_api_key()
    record = StoredApiKey(
        key_hash=hash_api_key(plaintext),
        api_key_id=api_key_id or generate_id("key"),
        account_id=account_id,
        prefix=display_prefix(plaintext),
        status="active",
        created_ms=now_ms(),
        usage_identifier=usage_identifier or account.usage_identifier,
        name=name,
    )
    key_store.put_key(record)
    return NewApiKey(plaintext, record)


def list_api_keys(account_id: str) -> list[StoredApiKey]:
    return sorted(key_store.list_keys(account_id), key=lambda key: key.created_ms)


def revoke_api_key(account_id: str, api_key_id: str) -> StoredApiKey | None:
    return key_store.revoke_key(account_id, api_key_id)


class MetadataKeyRefused(ValueError):
    """A key that cannot be indexed (malformed, or a sixth one) or unindexed (not indexed): the reason."""


def _account(account_id: str) -> StoredAccount:
    account = key_store.get_account(account_id)
    if account is None:
        raise UnknownAccount(account_id)
    return account


def index_metadata_key(account_id: str, key: str) -> int:
    """Declare ``key`` indexed for the account: the lowest free slot (``store/indexes``), returned. A key
    already indexed keeps its slot. From the next ingest batch on, new logs carrying it are indexed and
    rolled up under it; the logs already stored need ``backfill_metadata_key`` and a stats rebuild."""
    if not re.fullmatch(METADATA_KEY_PATTERN, key):
        raise MetadataKeyRefused(f"{key[:80]!r} is not a metadata key (1 to 64 letters, digits, '_', ':' or '-')")
    for _ in range(_SLOT_ATTEMPTS):
        account = _account(account_id)
        slots = account.metadata_slots
        if key in slots:
            return slots[key]
        free = [slot for slot in METADATA_SLOTS if slot not in slots.values()]
        if not free:
            raise MetadataKeyRefused(
                f"account {account_id} already indexes {MAX_INDEXED_METADATA_KEYS} metadata keys "
                f"({', '.join(sorted(slots))}), the most an account can (one index each); unindex one first"
            )
        try:
            key_store.set_metadata_slots(account_id, slots, {**slots, key: free[0]})
        except AccountChanged:
            continue  # another admin changed the keys meanwhile: decide again on what they are now
        return free[0]
    raise AccountChanged(account_id)


def unindex_metadata_key(account_id: str, key: str) -> int:
    """Stop indexing ``key``: new logs are no longer indexed or rolled up under it, filters and groupings
    on it become 400s, and its slot is free for another key (the logs left in the slot's index hold the
    old key's name in their partition, so they never match the new key). Returns the slot freed."""
    for _ in range(_SLOT_ATTEMPTS):
        account = _account(account_id)
        slots = account.metadata_slots
        if key not in slots:
            indexed = ", ".join(sorted(slots)) or "none"
            raise MetadataKeyRefused(f"account {account_id} does not index {key!r} (indexed: {indexed})")
        try:
            key_store.set_metadata_slots(account_id, slots, {k: s for k, s in slots.items() if k != key})
        except AccountChanged:
            continue
        if key in account.metadata_pending:
            mark_metadata_pending(account_id, key, None)
        return slots[key]
    raise AccountChanged(account_id)


@dataclass(frozen=True)
class Backfill:
    carrying: int  # retained logs carrying the key
    written: int  # of those, indexed by this run (0 on a second run)
    items_read: int
    days: tuple[int, ...]  # UTC days holding retained logs: the days whose stats need rebuilding


def backfill_metadata_key(account_id: str, key: str, *, now_ms: int) -> Backfill:
    """Index the account's retained logs that carry ``key`` under its slot. Run it once no ingest batch
    that read the account before the key was declared can still be writing (ingest reads the account
    once per batch: one function timeout after declaring); then every log carrying the key is indexed."""
    slots = _account(account_id).metadata_slots
    if key not in slots:
        raise MetadataKeyRefused(f"account {account_id} does not index {key!r}: index it first")
    reads = ReadStats()
    found = log_store.backfill_metadata_slot(
        account_id, key, slots[key], oldest_retained_log_ms(now_ms), END_OF_TIME_MS, reads
    )
    return Backfill(found.carrying, found.written, reads.items_read, found.days)


@dataclass(frozen=True)
class BackfilledPartitions:
    logs: int  # retained logs of the account
    written: int  # of those, given the value-index partitions they lacked (0 on a second run)
    items_read: int


def backfill_value_partitions(account_id: str, *, now_ms: int) -> BackfilledPartitions:
    """Put the account's retained logs into every value-index partition they belong to: after a value
    index is partitioned anew (decisions §35), logs written before lack its partition attribute and are
    in none of its partitions. Run it after deploying the change, once per account."""
    _account(account_id)
    reads = ReadStats()
    found = log_store.backfill_value_partitions(account_id, oldest_retained_log_ms(now_ms), END_OF_TIME_MS, reads)
    return BackfilledPartitions(found.logs, found.written, reads.items_read)


def mark_metadata_pending(account_id: str, key: str, span: tuple[int, int] | None) -> None:
    """Record (or, with None, clear) the days ``[start, end)`` whose rollups of ``key`` still lack the logs
    stored before it was declared: until a rebuild covers them, totals of the key's filters come from
    the logs and its groupings say so (``logic/attribution``)."""
    pending = dict(_account(account_id).metadata_pending)
    if span is None:
        pending.pop(key, None)
    else:
        pending[key] = span
    key_store.set_metadata_pending(account_id, pending)


def rebuilt(account_id: str, start_ms: int, end_ms: int) -> list[str]:
    """A rebuild covered ``[start_ms, end_ms)``: the pending keys it completed, no longer pending."""
    account = _account(account_id)
    done = [key for key, (start, end) in account.metadata_pending.items() if start_ms <= start and end <= end_ms]
    if done:
        key_store.set_metadata_pending(
            account_id, {key: span for key, span in account.metadata_pending.items() if key not in done}
        )
    return sorted(done)
