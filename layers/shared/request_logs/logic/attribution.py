"""The account's indexed metadata keys, as the read use cases need them: a filter or grouping on a key
the account has not declared is a 400 that lists the keys it has."""

from __future__ import annotations

from dataclasses import replace

from request_logs.domain.errors import InvalidQuery
from request_logs.domain.filters import METADATA_PREFIX, LogQuery
from request_logs.domain.reads import ReadStats
from request_logs.store import api_keys as account_store


def _account(account_id: str, reads: ReadStats) -> account_store.StoredAccount:
    account = account_store.get_account(account_id)
    reads.add(1 if account is not None else 0)
    return account if account is not None else account_store.StoredAccount(account_id, "", 0)


def undeclared(key: str, slots: dict[str, int], *, param: str) -> InvalidQuery:
    indexed = ", ".join(sorted(slots)) or "none"
    return InvalidQuery(
        f"Metadata key '{key}' is not indexed for this account, so it cannot be filtered or grouped by. "
        f"Indexed keys: {indexed}.",
        param=param,
    )


def with_metadata_slots(query: LogQuery, reads: ReadStats) -> LogQuery:
    """``query`` with the slot of each metadata filter; a key the account does not index is a 400."""
    if not query.metadata:
        return query
    account = _account(query.account_id, reads)
    slots = account.metadata_slots
    for pair in query.metadata:
        if pair.key not in slots:
            raise undeclared(pair.key, slots, param=METADATA_PREFIX + pair.key)
    resolved = tuple(
        replace(pair, slot=slots[pair.key], rollups_complete=pair.key not in account.metadata_pending)
        for pair in query.metadata
    )
    return replace(query, metadata=resolved)


def require_indexed(account_id: str, key: str, reads: ReadStats) -> tuple[int, int] | None:
    """A ``group_by=metadata.<key>`` on a key the account does not index is a 400. Returns the days
    whose rollups of the key still lack the logs stored before it was declared, if any."""
    account = _account(account_id, reads)
    if key not in account.metadata_slots:
        raise undeclared(key, account.metadata_slots, param="group_by")
    return account.metadata_pending.get(key)
