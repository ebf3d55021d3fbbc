"""Percentile accuracy of merged hourly sketches against the exact values (pure: no AWS at all).

Each distribution is 720 hours (30 days) of latencies, integer milliseconds ≥ 1 as the gateway reports
them. Every hour becomes one sketch (``domain.sketches.Sketch``), stored and read back through its
compact encoding as a rollup item holds it; the 720 are merged (``merge_sketches``), as a stats request
over a month merges hour rollups. The exact percentile is the value at rank ``floor(q × (n − 1))`` of
all the latencies sorted, DDSketch's rank definition. Relative error: ``|estimate − exact| ÷ exact``,
for p50, p95 and p99.

- lognormal: one mode, median 900 ms, σ 0.7: a typical completion latency;
- bimodal: 60 % short answers (median 250 ms, σ 0.3) and 40 % long generations (median 4 s, σ 0.35);
- Pareto: heavy tail, scale 200 ms, shape 1.5: occasional requests orders of magnitude slower.

Beside the sketch's own estimate (budgeted), the figure the API reports: the estimate rounded half up to
whole milliseconds, which adds up to 0.5 ms of absolute error.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Mapping

from request_logs.domain.sketches import Sketch, merge_sketches

HOURS = 720
VALUES_PER_HOUR = 500
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
_SEED = 2026


def _lognormal(rng: random.Random) -> float:
    return rng.lognormvariate(math.log(900), 0.7)


def _bimodal(rng: random.Random) -> float:
    if rng.random() < 0.6:
        return rng.lognormvariate(math.log(250), 0.3)
    return rng.lognormvariate(math.log(4000), 0.35)


def _pareto(rng: random.Random) -> float:
    return 200 * rng.paretovariate(1.5)


DISTRIBUTIONS: dict[str, Callable[[random.Random], float]] = {
    "lognormal": _lognormal,
    "bimodal": _bimodal,
    "pareto": _pareto,
}


def exact_quantile(ordered: list[int], q: float) -> float:
    """The exact quantile by linear interpolation (numpy's default, Postgres ``percentile_cont``), from the
    standard library's implementation rather than ours."""
    if len(ordered) == 1:
        return float(ordered[0])
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(q * 100) - 1]


def _hourly_latencies(draw: Callable[[random.Random], float], seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[max(1, round(draw(rng))) for _ in range(VALUES_PER_HOUR)] for _ in range(HOURS)]


def _merged(hours: list[list[int]]) -> Sketch:
    """Each hour's sketch through its stored encoding, then merged as a stats request merges them."""
    merged = merge_sketches(Sketch.decode(Sketch.of(values).encode()) for values in hours)
    if merged != Sketch.of(value for values in hours for value in values):
        raise RuntimeError("merging the hourly sketches lost or changed bins")
    return merged


def measure_percentile_error() -> dict[str, float]:
    results: dict[str, float] = {}
    for position, (name, draw) in enumerate(DISTRIBUTIONS.items()):
        hours = _hourly_latencies(draw, _SEED + position)
        merged = _merged(hours)
        ordered = sorted(value for values in hours for value in values)
        for label, q in QUANTILES.items():
            exact = exact_quantile(ordered, q)
            estimate = merged.quantile(q)
            if estimate is None:
                raise RuntimeError(f"the merged {name} sketch is empty")
            results[f"percentile_{name}_{label}_rel_error"] = abs(estimate - exact) / exact
            results[f"percentile_{name}_{label}_api_rel_error"] = abs(math.floor(estimate + 0.5) - exact) / exact
        results[f"percentile_{name}_max_rel_error"] = max(
            results[f"percentile_{name}_{label}_rel_error"] for label in QUANTILES
        )
    results["percentile_max_rel_error"] = max(results[f"percentile_{name}_max_rel_error"] for name in DISTRIBUTIONS)
    results["percentile_api_max_rel_error"] = max(
        results[f"percentile_{name}_{label}_api_rel_error"] for name in DISTRIBUTIONS for label in QUANTILES
    )
    results["percentile_hourly_sketches"] = HOURS
    results["percentile_values_per_distribution"] = HOURS * VALUES_PER_HOUR
    return results


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/percentile_error.md says besides the figures themselves."""
    return {"values_per_hour": str(VALUES_PER_HOUR)}
