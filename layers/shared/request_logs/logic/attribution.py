"""The account's indexed metadata keys, as the read use cases need them: a filter or grouping on a key
the account has not declared is a 400 that lists the keys it has."""

from __future__ import annotations

from dataclasses import replace

from request_logs.domain.errors import InvalidQuery
from request_logs.domain.filters import METADATA_PREFIX, LogQuery
from request_logs.domain.reads import ReadStats
from request_logs.store import api_keys as account_store


def metadata_slots(account_id: str, reads: ReadStats) -> dict[str, int]:
    """The account's indexed metadata keys → their slots (one GetItem)."""
    account = account_store.get_account(account_id)
    reads.add(1 if account is not None else 0)
    return dict(account.metadata_slots) if account is not None else {}


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
    slots = metadata_slots(query.account_id, reads)
    for pair in query.metadata:
        if pair.key not in slots:
            raise undeclared(pair.key, slots, param=METADATA_PREFIX + pair.key)
    return replace(query, metadata=tuple(replace(pair, slot=slots[pair.key]) for pair in query.metadata))


def require_indexed(account_id: str, key: str, reads: ReadStats) -> None:
    """A ``group_by=metadata.<key>`` on a key the account does not index is a 400."""
    slots = metadata_slots(account_id, reads)
    if key not in slots:
        raise undeclared(key, slots, param="group_by")
