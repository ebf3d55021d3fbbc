"""Items DynamoDB reads for the enhanced endpoint's ``total`` and ``summary`` over 30 days, from rollups,
against a scan of the range, through the real handler, on the stats data set (``bench.stats_reads``:
100,000 logs over 90 days, the rollups the real aggregator wrote from the stream, the clock frozen at
"now"; the aggregator has applied every log, so the freshness horizon is the hour before now's last
minutes and only those minutes are read raw).

Each filter is asked with ``start_date`` = now − 30 days (to the millisecond: partial hours at both
edges) and ``offset`` = the number of logs it matches: the first offset past the last log, where the
endpoint reads no page at all (``logic/pages.py``), so the request's reads are exactly those of its
``total`` and ``summary``. A scan of the range reads every log of the account created in it.

Definitions (bench/enhanced_summary.md explains the choice):

- ``enhanced_summary_read_reduction_vs_scan``: logs in the range ÷ items read, for ``model=<the most
  common model>``, which rollups answer;
- ``enhanced_summary_status_read_reduction_vs_scan``: the same for ``status=error`` (per-status counters
  inside the "all" rollups);
- ``enhanced_summary_latency_read_reduction_vs_scan``: the same for ``min_latency=2000``, which the
  rollups' latency histograms answer (2000 is a bin edge: no log is read for it);
- ``enhanced_summary_logs_path_read_reduction_vs_scan``: the same for ``min_latency=0&min_cost=0``, a
  latency and a cost bound together, which no rollup answers: the contrast, counted by reading the logs;
- ``enhanced_summary_read_reduction_vs_index_query``: what counting the model filter by query reads (its
  index, matching logs only; ``store.logs.summarize_logs``, in process) ÷ what the rollups read.

Every answer is checked against brute force over the logs: ``pagination.total`` and every field of
``summary``, exactly (costs as Decimals). The totals logic is also called in process to check that
rollups answered where they should; the contrast request must have read every log of the range.
The spec's example, ``sort=cost&order=desc&limit=10`` with the model filter, is checked (the ten most
expensive, in order, then by the table's key) and its reads recorded (through the cost index). Any
mismatch stops the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from bench.dataset import ACCOUNT_ID, DAY_MS, INGEST_DELAY_MS, counted_get
from bench.dynamo_tally import DynamoTally, tally
from bench.stats_reads import AggregatedStack
from request_logs.domain.counters import Counters
from request_logs.domain.filters import LogQuery
from request_logs.domain.freshness import LATE_AFTER_MS, SETTLE_MS
from request_logs.domain.log import RequestLog
from request_logs.domain.ranges import visible_query
from request_logs.domain.reads import ReadStats
from request_logs.domain.timeutil import format_ms
from request_logs.logic.totals import filtered_totals
from request_logs.store import logs as log_store
from request_logs.store.dynamo import dynamodb

ENHANCED_PATH = "/api/account/request-logs/enhanced"
DAYS = 30
MIN_LATENCY_MS = 2000
# The spec's rounding of the one inexact figure (models/logs.CostSummary), restated: brute force is the oracle.
AVERAGE_QUANTUM = Decimal("1e-12")


def _get(world: AggregatedStack, query: list[tuple[str, str]]) -> tuple[dict[str, Any], DynamoTally]:
    return counted_get(world.stack, world.functions, ENHANCED_PATH, query, exact_money=True)


def _expected_summary(logs: list[RequestLog]) -> dict[str, Any]:
    priced = [log.cost_total for log in logs if log.cost_total is not None]
    total_cost = sum(priced, Decimal(0))
    average = (total_cost / len(priced)).quantize(AVERAGE_QUANTUM, ROUND_HALF_EVEN) if priced else None
    input_tokens, output_tokens = sum(log.input_tokens for log in logs), sum(log.output_tokens for log in logs)
    return {
        "total_cost": total_cost,
        "total_tokens": input_tokens + output_tokens,
        "avg_cost_per_request": average,
        "requests": len(logs),
        "priced_requests": len(priced),
        "unpriced_requests": len(logs) - len(priced),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }


def _check_summary(body: dict[str, Any], logs: list[RequestLog], what: str) -> None:
    expected = _expected_summary(logs)
    got = {name: body["summary"][name] for name in expected}
    if got != expected:
        raise RuntimeError(f"{what}: summary {got} != brute force {expected}")
    if body["pagination"]["total"] != len(logs):
        raise RuntimeError(f"{what}: total {body['pagination']['total']} != {len(logs)} matching logs")


def _check_cost_order(body: dict[str, Any], logs: list[RequestLog], what: str) -> None:
    """The page of ``sort=cost&order=desc``: most expensive first, ties newest first (the table's key),
    logs without a price last."""
    ranked = sorted(
        logs,
        key=lambda log: (log.cost_total is not None, log.cost_total or Decimal(0), log.created_ms, log.id),
        reverse=True,
    )
    expected = [log.id for log in ranked[: len(body["logs"])]]
    if [log["id"] for log in body["logs"]] != expected:
        raise RuntimeError(f"{what}: not the most expensive logs in order")


def _summary_figures(
    world: AggregatedStack,
    name: str,
    params: list[tuple[str, str]],
    query: LogQuery,
    match: Callable[[RequestLog], bool],
) -> dict[str, float]:
    in_range = [log for log in world.dataset.logs if query.start_ms <= log.created_ms < query.end_ms]
    matching = [log for log in in_range if match(log)]
    body, reads = _get(world, [*params, ("offset", str(len(matching)))])
    _check_summary(body, matching, name)
    if body["logs"] or body["pagination"]["hasMore"]:
        raise RuntimeError(f"{name}: a page past the last log is not empty")
    return {
        f"{name}_read_reduction_vs_scan": len(in_range) / reads.items_read,
        f"{name}_items_read": reads.items_read,
        f"{name}_dynamodb_calls": reads.calls,
        f"{name}_matching_logs": len(matching),
    }


def measure_enhanced_summary(world: AggregatedStack) -> dict[str, float]:
    now = world.now_ms
    start_ms = now - DAYS * DAY_MS
    in_range = [log for log in world.dataset.logs if start_ms <= log.created_ms <= now]
    model = Counter(log.model for log in in_range).most_common(1)[0][0]
    since = [("start_date", format_ms(start_ms))]
    results: dict[str, float] = {"enhanced_summary_days": DAYS, "enhanced_summary_scan_items": len(in_range)}

    # The endpoint pins the range's end at the instant it answers (pages.py): every log created up to now.
    model_query = LogQuery(ACCOUNT_ID, start_ms, now + 1, model=model)
    status_query = LogQuery(ACCOUNT_ID, start_ms, now + 1, status="error")
    latency_query = LogQuery(ACCOUNT_ID, start_ms, now + 1, min_latency=MIN_LATENCY_MS)
    # Both kinds of bound: no histogram answers the pair, so the logs inside the latency bound are read.
    both_query = LogQuery(ACCOUNT_ID, start_ms, now + 1, min_latency=0, min_cost=Decimal(0))
    for name, params, query, match, path in (
        ("enhanced_summary", [("model", model)], model_query, lambda log: log.model == model, "rollups"),
        ("enhanced_summary_status", [("status", "error")], status_query, lambda log: log.status == "error", "rollups"),
        (
            "enhanced_summary_latency",
            [("min_latency", str(MIN_LATENCY_MS))],
            latency_query,
            lambda log: log.latency_ms >= MIN_LATENCY_MS,
            "rollups",
        ),
        (
            "enhanced_summary_logs_path",
            [("min_latency", "0"), ("min_cost", "0")],
            both_query,
            lambda log: log.cost_total is not None,
            "logs",
        ),
    ):
        # Which path answers, asked of the totals logic itself; only where it is cheap to ask twice.
        if path == "rollups" and filtered_totals(query, now_ms=now, reads=ReadStats(), with_sums=True).source != path:
            raise RuntimeError(f"{name}: not answered from rollups")
        figures = _summary_figures(world, name, [*params, *since], query, match)
        if path == "logs" and figures[f"{name}_items_read"] < len(in_range):
            raise RuntimeError(f"{name}: answered without reading the logs of the range")
        results.update(figures)

    # The same model filter counted by query, in process: what the endpoint would read without rollups.
    model_matching = [log for log in in_range if log.model == model]
    with tally(dynamodb()) as index_reads:
        visible = visible_query(model_query, now_ms=now)
        by_query = log_store.summarize_logs(visible, ReadStats(), now_ms=now) if visible is not None else Counters()
    if by_query.requests != len(model_matching):
        raise RuntimeError(f"counting by query found {by_query.requests} logs, brute force {len(model_matching)}")
    results["enhanced_summary_index_query_items_read"] = index_reads.items_read
    results["enhanced_summary_read_reduction_vs_index_query"] = (
        index_reads.items_read / results["enhanced_summary_items_read"]
    )

    # The spec's example: the ten most expensive requests of the model, with the summary of all of them.
    body, cost_reads = _get(world, [("model", model), *since, ("sort", "cost"), ("order", "desc"), ("limit", "10")])
    _check_summary(body, model_matching, "sort=cost&order=desc")
    _check_cost_order(body, model_matching, "sort=cost&order=desc")
    results["enhanced_cost_desc_items_read"] = cost_reads.items_read
    results["enhanced_cost_desc_dynamodb_calls"] = cost_reads.calls
    return results


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/enhanced_summary.md says besides the figures themselves."""
    return {
        "ingest_delay_ms": f"{INGEST_DELAY_MS:,}",
        "settle_minutes": str(SETTLE_MS // 60_000),
        "late_after_minutes": str(LATE_AFTER_MS // 60_000),
        "days": str(DAYS),
        "min_latency_ms": str(MIN_LATENCY_MS),
    }
