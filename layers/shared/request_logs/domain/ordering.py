"""The orders a log list can be returned in, as total orders with a position a cursor can resume from.

Pure: no I/O. Every order is a sort on ``(value, sort key)``: the value the client sorts by, then the
log's table sort key (creation instant, then id), which is unique, so ties are broken the same way on
every page and a position falls strictly between two logs. Logs without a price have no cost: they come
last in both cost orders ("nulls last"), so ``sort=cost&order=desc`` starts with the most expensive
priced log and ``order=asc`` with the cheapest.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from request_logs.store.items import StoredLog
from request_logs.store.keys import log_sk

Sort = Literal["created_at", "cost", "latency", "tokens"]
Order = Literal["asc", "desc"]
SORTS: tuple[Sort, ...] = ("created_at", "cost", "latency", "tokens")
ORDERS: tuple[Order, ...] = ("asc", "desc")

# A position: (has a value — for desc, or lacks one — for asc; the value; the log's sort key). Tuples of
# these compare in the order the page is returned in once reversed for desc.
SortKey = tuple[bool, Decimal, str]


def sort_value(
    sort: Sort, *, cost: Decimal | None, latency_ms: int, total_tokens: int, created_ms: int
) -> Decimal | None:
    """The value a log is ordered by; None only for the cost of a log nobody priced."""
    if sort == "cost":
        return cost
    if sort == "latency":
        return Decimal(latency_ms)
    if sort == "tokens":
        return Decimal(total_tokens)
    return Decimal(created_ms)


@dataclass(frozen=True)
class Ordering:
    sort: Sort = "created_at"
    order: Order = "desc"

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    @property
    def by_creation(self) -> bool:
        """The table's own order: shards merge by sort key, no need to read the whole range."""
        return self.sort == "created_at"

    def key(self, log: StoredLog) -> SortKey:
        """Larger first when descending, smaller first when ascending; logs without a value always last."""
        value = sort_value(
            self.sort,
            cost=log.cost_total,
            latency_ms=log.latency_ms,
            total_tokens=log.total_tokens,
            created_ms=log.created_ms,
        )
        return self.key_of(value, log_sk(log.created_ms, log.id))

    def key_of(self, value: Decimal | None, sk: str) -> SortKey:
        """The key of a log with this sort value and table sort key (``key`` without the whole log)."""
        if value is None:
            return (not self.descending, Decimal(0), sk)
        return (self.descending, value, sk)

    def comes_after(self, key: SortKey, position: SortKey) -> bool:
        """Whether a log with ``key`` belongs after ``position`` (the last log already returned)."""
        return key < position if self.descending else key > position


def encode_key(key: SortKey) -> list[object]:
    return [key[0], str(key[1]), key[2]]


def decode_key(raw: object) -> SortKey:
    """The inverse of ``encode_key``; raises ValueError on anything else (a cursor is signed, but be strict)."""
    if not (isinstance(raw, list) and len(raw) == 3):
        raise ValueError("malformed position")
    flag, value, sk = raw
    if not isinstance(flag, bool) or not isinstance(value, str) or not isinstance(sk, str):
        raise ValueError("malformed position")
    return (flag, Decimal(value), sk)
