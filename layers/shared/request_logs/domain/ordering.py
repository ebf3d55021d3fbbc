"""The orders a log list can be returned in, as total orders with a position a cursor can resume from.

Pure: no I/O. Every order is a sort on ``(value, created_ms, id)``: the value the client sorts by, then
the log's creation instant and id, which together are unique (the table's own order), so ties are
broken the same way on every page and a position falls strictly between two logs. Logs without a price
have no cost: they come last in both cost orders ("nulls last"), so ``sort=cost&order=desc`` starts
with the most expensive priced log and ``order=asc`` with the cheapest.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, NamedTuple

from request_logs.domain.log import RequestLog

Sort = Literal["created_at", "cost", "latency", "tokens"]
Order = Literal["asc", "desc"]
SORTS: tuple[Sort, ...] = ("created_at", "cost", "latency", "tokens")
ORDERS: tuple[Order, ...] = ("asc", "desc")


class Position(NamedTuple):
    """Where a log stands in an order. Positions compare as tuples, in the order the page is returned in
    (reversed for desc): ``ranked`` puts logs without a value last in both directions."""

    ranked: bool  # has a value (desc), or lacks one (asc)
    value: Decimal
    created_ms: int
    log_id: str


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

    def key(self, log: RequestLog) -> Position:
        """Larger first when descending, smaller first when ascending; logs without a value always last."""
        value = sort_value(
            self.sort,
            cost=log.cost_total,
            latency_ms=log.latency_ms,
            total_tokens=log.total_tokens,
            created_ms=log.created_ms,
        )
        return self.key_of(value, log.created_ms, log.id)

    def key_of(self, value: Decimal | None, created_ms: int, log_id: str) -> Position:
        """The position of a log with this sort value (``key`` without the whole log)."""
        if value is None:
            return Position(not self.descending, Decimal(0), created_ms, log_id)
        return Position(self.descending, value, created_ms, log_id)

    def comes_after(self, key: Position, position: Position) -> bool:
        """Whether a log with ``key`` belongs after ``position`` (the last log already returned)."""
        return key < position if self.descending else key > position


def encode_position(position: Position) -> list[object]:
    return [position.ranked, str(position.value), position.created_ms, position.log_id]


def decode_position(raw: object) -> Position:
    """The inverse of ``encode_position``; raises ValueError on anything else (a cursor is signed, but be strict)."""
    if not (isinstance(raw, list) and len(raw) == 4):
        raise ValueError("malformed position")
    ranked, value, created_ms, log_id = raw
    if (
        not isinstance(ranked, bool)
        or not isinstance(value, str)
        or type(created_ms) is not int
        or not isinstance(log_id, str)
    ):
        raise ValueError("malformed position")
    return Position(ranked, Decimal(value), created_ms, log_id)
