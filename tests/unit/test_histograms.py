"""Value histograms: the bins wholly inside a bound plus the logs of the cut bins are exactly the logs
inside the bound (brute force over random values, bounds on edges, inside bins and on values present)."""

from __future__ import annotations

import random
from decimal import Decimal
from itertools import pairwise

import pytest

from request_logs.domain.counters import Counters
from request_logs.domain.histograms import EDGES, Bound, ValueKind, bin_of, bin_upper, split


def _value(rng: random.Random, kind: ValueKind) -> Decimal:
    if kind == "latency":
        return Decimal(rng.choice([rng.randrange(0, 20), rng.randrange(0, 5000), rng.randrange(0, 10**7), 300, 5000]))
    return rng.choice(
        [Decimal(rng.randrange(0, 10**9)).scaleb(-12), Decimal(rng.randrange(0, 10**6)).scaleb(-6), Decimal("0.01")]
    )


def _bound_value(rng: random.Random, kind: ValueKind, values: list[Decimal]) -> Decimal:
    choice = rng.randrange(3)
    if choice == 0:
        return rng.choice(EDGES[kind][: len(EDGES[kind]) // 2 + 10])  # an edge
    if choice == 1:
        return rng.choice(values)  # a value present
    return _value(rng, kind)


@pytest.mark.parametrize("kind", ["latency", "cost"])
@pytest.mark.parametrize("seed", range(30))
def test_inside_bins_plus_cut_bins_are_the_logs_inside_the_bound(kind: ValueKind, seed: int) -> None:
    rng = random.Random(seed)
    values = [_value(rng, kind) for _ in range(300)]
    histogram: dict[str, Counters] = {}
    for value in values:
        histogram.setdefault(str(bin_of(kind, value)), Counters()).add(
            succeeded=True, input_tokens=1, output_tokens=0, cost=None, latency_ms=0
        )
    for _ in range(20):
        low, high = (_bound_value(rng, kind, values) if rng.random() < 0.8 else None for _ in range(2))
        if low is not None and high is not None and low > high:
            low, high = high, low
        bound = Bound(kind, low, high)
        parts = split(histogram, bound)
        from_cut = sum(
            1 for value in values for cut in parts.cut if cut.low <= value and (cut.high is None or value <= cut.high)
        )
        inside = [v for v in values if (low is None or v >= low) and (high is None or v <= high)]
        assert parts.inside.requests + from_cut == len(inside), (low, high)
        # A cut bin is the part of one bin inside the bound: each holds only values of one bin.
        for cut in parts.cut:
            assert bin_of(kind, cut.low) == bin_of(kind, cut.high if cut.high is not None else cut.low)


def test_bounds_on_edges_cut_nothing_but_the_values_at_a_maximum() -> None:
    histogram = {str(bin_of("latency", v)): Counters(requests=1) for v in (250, 300, 350, 4999, 5000, 7000)}
    assert split(histogram, Bound("latency", Decimal(5000), None)).cut == ()
    (cut,) = split(histogram, Bound("latency", None, Decimal(300))).cut
    assert (cut.low, cut.high) == (Decimal(300), Decimal(300))  # [300, 400) is read at exactly 300 ms
    assert split(histogram, Bound("cost", Decimal("0.01"), None)).cut == ()


def test_edges_are_round_numbers_and_every_bin_has_its_upper_edge() -> None:
    assert Decimal(5000) in EDGES["latency"] and Decimal(300) in EDGES["latency"]
    assert Decimal("0.01") in EDGES["cost"] and Decimal("0.0025") in EDGES["cost"]
    for kind in ("latency", "cost"):
        edges = EDGES[kind]
        assert list(edges) == sorted(set(edges))
        assert bin_upper(kind, edges[-1]) is None
        assert all(bin_upper(kind, lower) == upper for lower, upper in pairwise(edges))
