"""Percentile sketches: 1 % relative accuracy on realistic and hostile distributions, merging is a union,
the compact encoding round-trips, and a sketch's size is bounded whatever it holds."""

from __future__ import annotations

import math
import random

import pytest

from request_logs.domain.sketches import RELATIVE_ACCURACY, Sketch, merge_sketches
from tests.conftest import exact_quantile

QUANTILES = (0.5, 0.95, 0.99)


def lognormal(rng: random.Random, n: int) -> list[float]:
    return [rng.lognormvariate(math.log(800), 0.9) for _ in range(n)]


def bimodal(rng: random.Random, n: int) -> list[float]:
    """Fast cache hits and slow generations: two modes two orders of magnitude apart."""
    return [rng.gauss(40, 8) if rng.random() < 0.7 else rng.gauss(6_000, 1_500) for _ in range(n)]


def pareto(rng: random.Random, n: int) -> list[float]:
    return [100 * rng.paretovariate(1.2) for _ in range(n)]


@pytest.mark.parametrize("distribution", [lognormal, bimodal, pareto])
@pytest.mark.parametrize("integers", [False, True], ids=["float", "whole-ms"])
def test_quantiles_are_within_one_percent_of_the_exact_values(distribution: object, integers: bool) -> None:
    rng = random.Random(7)
    values = [max(1.0, value) for value in distribution(rng, 20_000)]  # type: ignore[operator]
    if integers:
        values = [float(round(value)) for value in values]  # latencies are whole milliseconds
    sketch = Sketch.of(values)
    for q in QUANTILES:
        exact = exact_quantile(values, q)
        estimate = sketch.quantile(q)
        assert estimate is not None
        assert abs(estimate - exact) <= RELATIVE_ACCURACY * exact + 1e-9, (q, estimate, exact)


def test_merged_hourly_sketches_answer_for_the_whole_range_within_one_percent() -> None:
    rng = random.Random(8)
    hours = [pareto(rng, 50) + lognormal(rng, 50) for _ in range(720)]
    merged = merge_sketches(Sketch.of(hour) for hour in hours)
    everything = [value for hour in hours for value in hour]
    for q in QUANTILES:
        estimate = merged.quantile(q)
        assert estimate is not None
        assert abs(estimate - exact_quantile(everything, q)) <= RELATIVE_ACCURACY * exact_quantile(everything, q)


def test_merge_is_the_sketch_of_the_union() -> None:
    rng = random.Random(9)
    first, second = [*lognormal(rng, 500), 0.0, 0.0], [*pareto(rng, 700), 0.0]
    merged = Sketch.of(first)
    merged.merge(Sketch.of(second))
    assert merged == Sketch.of(first + second)
    assert merged.count == len(first) + len(second)
    assert merged.zero_count == 3
    # Order does not matter either.
    assert merge_sketches([Sketch.of(second), Sketch.of(first)]) == merged


def test_zero_and_empty() -> None:
    assert Sketch().quantile(0.5) is None
    assert Sketch().count == 0
    zeros = Sketch.of([0, 0, 5])
    assert zeros.quantile(0.5) == 0.0
    assert zeros.quantile(1.0) == pytest.approx(5, rel=RELATIVE_ACCURACY)


@pytest.mark.parametrize(
    "sketch",
    [
        Sketch(),
        Sketch.of([0, 0]),
        Sketch.of([1, 2, 3, 1_000, 2**31]),
        Sketch({-3: 1, 0: 2**60, 1837: 5}, zero_count=2**40),
    ],
    ids=["empty", "zeros", "spread", "extreme-counts"],
)
def test_encode_decode_round_trip(sketch: Sketch) -> None:
    assert Sketch.decode(sketch.encode()) == sketch


def test_decoding_nothing_is_an_empty_sketch_and_an_unknown_version_is_refused() -> None:
    assert Sketch.decode(None) == Sketch()
    assert Sketch.decode(b"") == Sketch()
    with pytest.raises(ValueError, match="unknown sketch encoding"):
        Sketch.decode(bytes([99]) + Sketch.of([1]).encode()[1:])


def test_size_is_bounded_whatever_the_sketch_holds() -> None:
    """Every whole-millisecond latency from 1 ms to 2^53 ms (the largest ingest accepts) lands in one of
    under 1,850 bins, and even with a huge count in each the encoding stays under 20 KB."""
    gamma = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
    values = sorted({round(gamma**power) for power in range(0, 1900)} | {2**31, 2**53})
    sketch = Sketch.of(value for value in values if 1 <= value <= 2**53)
    assert len(sketch.bins) < 1850
    to_2_31 = Sketch.of(value for value in values if 1 <= value <= 2**31)
    assert len(to_2_31.bins) < 1100
    saturated = Sketch(dict.fromkeys(sketch.bins, 2**53), zero_count=2**53)
    assert len(saturated.encode()) < 20_000


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([661, 1058, 1120], 0.99, 1118.76),  # numpy.percentile([661, 1058, 1120], 99)
        ([661, 1058, 1120], 0.5, 1058.0),
        ([100, 200], 0.5, 150.0),  # between the two, as percentile_cont(0.5) gives
        ([42], 0.99, 42.0),
        ([0, 0, 10], 0.95, 9.0),  # zero latencies (cache hits) are exact
    ],
)
def test_small_sets_interpolate_like_numpy_and_percentile_cont(values: list[int], q: float, expected: float) -> None:
    estimate = Sketch.of(values).quantile(q)
    assert estimate is not None
    assert abs(estimate - expected) <= RELATIVE_ACCURACY * expected + 1e-9, (estimate, expected)
    assert abs(exact_quantile(values, q) - expected) < 1e-9  # the brute force agrees with the convention
