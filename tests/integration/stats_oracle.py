"""Brute-force checks of stats entries, shared by the stats tests: every measure of an entry against the
messages it covers. Percentiles are compared with the exact value at rank ``floor(q × (n − 1))`` within
1 % relative plus 0.5 ms (the sketches' error, and latencies rounded to whole milliseconds)."""

from __future__ import annotations

from typing import Any

from tests.conftest import exact_quantile
from tests.integration import oracle

PERCENTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


def assert_close(got: int, exact: float, what: str) -> None:
    assert isinstance(got, int), what
    assert abs(got - exact) <= 0.01 * exact + 0.5, f"{what}: {got} vs exact {exact}"


def assert_measures(entry: dict[str, Any], group: list[dict[str, Any]], *, what: str) -> None:
    costs = [oracle.expected_cost(m) for m in group]
    priced = [cost for cost in costs if cost is not None]
    latencies = [m["latency_ms"] for m in group]
    assert entry["requests"] == len(group), what
    assert entry["successful"] == sum(m["status"] == "success" for m in group), what
    assert entry["failed"] == sum(m["status"] != "success" for m in group), what
    assert entry["input_tokens"] == sum(m["input_tokens"] for m in group), what
    assert entry["output_tokens"] == sum(m["output_tokens"] for m in group), what
    assert entry["tokens"] == entry["input_tokens"] + entry["output_tokens"], what
    assert oracle.stated_cost(entry["cost"]) == oracle.expected_set_cost(costs), what
    assert entry["unpriced_requests"] == len(costs) - len(priced), what
    oracle.assert_components(entry, group, what)
    assert abs(entry["avg_latency_ms"] - sum(latencies) / len(latencies)) <= 0.5, what
    for name, q in PERCENTILES.items():
        assert_close(entry[f"{name}_latency_ms"], exact_quantile(latencies, q), f"{what} {name}")
