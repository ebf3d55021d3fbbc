"""Value histograms of a rollup: the counters of its logs per bin of latency and per bin of cost.

They let a total or a summary with a latency or cost bound be answered from the rollup items a range
already reads (decisions §21): every bin wholly inside the bound adds its counters, a bin wholly outside
adds nothing, and the one bin a bound cuts (at most one per bound and bucket) is answered by reading its
logs inside the bound from the value index. Bin edges are round numbers (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8
and 9 times a power of ten) because the bounds people type are: ``min_latency=5000``, ``max_latency=300``
and ``min_cost=0.01`` fall on edges and read no log at all; any other bound reads the logs of one bin per
bucket.

A bin is the half-open interval ``[edge, next edge)``; the last bin has no upper edge. Bins are keyed by
their lower edge as a string, so stored histograms stay readable if the edges are ever refined. Unpriced
logs have no cost and are in no cost bin.
"""

from __future__ import annotations

import decimal
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from request_logs.domain.counters import Counters
from request_logs.domain.log import RequestLog

ValueKind = Literal["latency", "cost"]
VALUE_KINDS: tuple[ValueKind, ...] = ("latency", "cost")

_MANTISSAS = ("1", "1.5", "2", "2.5", "3", "4", "5", "6", "7", "8", "9")


def _edges(lowest_power: int, highest_power: int) -> tuple[Decimal, ...]:
    powers = range(lowest_power, highest_power + 1)
    return (Decimal(0), *(Decimal(mantissa).scaleb(power) for power in powers for mantissa in _MANTISSAS))


# Latency: whole milliseconds, 1 ms to 99 days. Cost: USD, a billionth of a dollar to $9,000 per request.
EDGES: dict[ValueKind, tuple[Decimal, ...]] = {"latency": _edges(0, 9), "cost": _edges(-9, 3)}

# Every value DynamoDB can store has at most 38 significant digits: the largest of them below an edge is
# the edge's predecessor at that precision, which turns a bin's open upper end into an inclusive bound.
_STORABLE = decimal.Context(prec=38)


def bin_of(kind: ValueKind, value: Decimal | int) -> Decimal:
    """The lower edge of the bin holding ``value`` (non-negative)."""
    edges = EDGES[kind]
    return edges[max(0, bisect_right(edges, Decimal(value)) - 1)]


def bin_upper(kind: ValueKind, lower: Decimal) -> Decimal | None:
    """The exclusive upper edge of the bin starting at ``lower``; None for the last bin."""
    edges = EDGES[kind]
    position = edges.index(lower)
    return edges[position + 1] if position + 1 < len(edges) else None


def log_value(kind: ValueKind, log: RequestLog) -> Decimal | None:
    return Decimal(log.latency_ms) if kind == "latency" else log.cost_total


@dataclass(frozen=True)
class Bound:
    """Inclusive bounds on one kind of value (None: unbounded on that side)."""

    kind: ValueKind
    low: Decimal | None
    high: Decimal | None


@dataclass(frozen=True)
class CutBin:
    """The part of one bin inside a bound, as inclusive limits: its logs have to be read."""

    low: Decimal
    high: Decimal | None  # None: no upper limit


@dataclass(frozen=True)
class Split:
    """A histogram split by a bound: the bins wholly inside (their counters summed) and the cut ones."""

    inside: Counters
    cut: tuple[CutBin, ...]


def split(histogram: dict[str, Counters], bound: Bound) -> Split:
    """Sum of the bins wholly inside ``bound``; the bins it cuts, narrowed to the bound."""
    inside = Counters()
    cut: list[CutBin] = []
    for lower_text, counters in histogram.items():
        lower = Decimal(lower_text)
        upper = bin_upper(bound.kind, lower)
        below = bound.low is not None and upper is not None and upper <= bound.low
        above = bound.high is not None and lower > bound.high
        if below or above or counters.requests == 0:
            continue
        starts_inside = bound.low is None or lower >= bound.low
        ends_inside = bound.high is None or (upper is not None and upper <= bound.high)
        if starts_inside and ends_inside:
            inside.merge(counters)
            continue
        low = lower if bound.low is None else max(lower, bound.low)
        last_in_bin = None if upper is None else _STORABLE.next_minus(upper)
        if bound.high is None:
            high = last_in_bin
        else:
            high = bound.high if last_in_bin is None else min(last_in_bin, bound.high)
        cut.append(CutBin(low, high))
    return Split(inside, tuple(cut))


def histogram_complete(histogram: dict[str, Counters], expected_requests: int) -> bool:
    """Whether a stored histogram holds every log it should (items written before histograms existed
    hold none, or only the logs added since)."""
    return sum(counters.requests for counters in histogram.values()) == expected_requests
