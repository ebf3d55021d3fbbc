"""Items the stats endpoint reads against a naive computation, with rollups from the real aggregation
path, on moto in process; the same run also yields the aggregator's writes and the stored items' sizes.

One account's logs over the 90 days before "now" (a fixed, unaligned time of day, the clock frozen
there) are loaded into the logs table, whose stream then goes through ``StatsAggregatorFunction`` batch
by batch (``bench.aggregator_writes``). Each stats request goes through the real handler
(``functions/get_request_log_stats/app.py``) with the REST proxy event API Gateway sends; its reads are
counted with botocore hooks on the handler's DynamoDB client (``bench.dynamo_tally``: Query
``ScannedCount``, BatchGetItem items, GetItem).

Definitions (bench/stats_reads.md explains the choice):

- ``stats_90d_read_reduction_vs_naive``: the logs in the range the endpoint answered (what a naive
  computation reads: every log in range, once) ÷ the items the endpoint read, for ``group_by=day`` over
  the 90 days up to now;
- ``stats_7d_model_read_reduction_vs_naive``, ``stats_7d_hour_read_reduction_vs_naive``: the same for
  ``group_by=model`` and ``group_by=hour`` over the last 7 days.

Every answer is checked against brute force over the logs in the answered range (totals, every
``by_<group>`` entry, percentiles within 1 % + 0.5 ms), and its reads against the plan: one item per
bucket with data for every day and hour piece, every log of the raw edge pieces. Either mismatch stops
the run.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, tzinfo
from decimal import Decimal
from typing import Any

import time_machine

from bench.aggregator_writes import BatchFigures, aggregate_stream, aggregation_figures
from bench.dataset import DAY_MS, Dataset, api_event, build_dataset, loaded_stack
from bench.dynamo_tally import tally
from bench.figures import format_figure
from bench.percentile_error import QUANTILES, exact_quantile
from local.emulator.lambda_runtime import FunctionRegistry
from local.stack.dynamodb_limits import item_size
from local.stack.provision import Stack
from request_logs.domain.log import RequestLog
from request_logs.domain.rollups import GRANULARITIES, HOUR_MS
from request_logs.domain.stats_plan import plan_stats
from request_logs.domain.timeutil import (
    format_in_zone,
    format_ms,
    from_ms,
    local_time,
    now_ms,
    parse_instant,
    to_ms,
)
from request_logs.store.dynamo import dynamodb

STATS_PATH = "/api/account/request-logs/stats"
DAYS = 90
ERROR_RATE = 0.04
SEED = 90
# "Now": 14:37:12.345 UTC today. Unaligned, so the range ends in a partial hour read from raw logs; fixed,
# so every run reads the same number of items.
NOW_TIME_OF_DAY_MS = ((14 * 60 + 37) * 60 + 12) * 1000 + 345
# Result name prefix → (days up to now, group_by).
REQUESTS = {"stats_90d": (90, "day"), "stats_7d_model": (7, "model"), "stats_7d_hour": (7, "hour")}


def _check_percentile(got: int | None, values: list[int], q: float, what: str) -> None:
    exact = exact_quantile(sorted(values), q)
    if got is None or abs(got - exact) > 0.01 * exact + 0.5:
        raise RuntimeError(f"{what}: {got} is not within 1 % + 0.5 ms of the exact {exact}")


def _expected_measures(logs: list[RequestLog]) -> dict[str, Any]:
    costs = [log.cost_total for log in logs]
    priced = [cost for cost in costs if cost is not None]
    input_tokens, output_tokens = sum(log.input_tokens for log in logs), sum(log.output_tokens for log in logs)
    latency_sum = sum(log.latency_ms for log in logs)
    return {
        "requests": len(logs),
        "successful": sum(log.status == "success" for log in logs),
        "failed": sum(log.status != "success" for log in logs),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "tokens": input_tokens + output_tokens,
        # JSON carries costs as numbers (models/logs.py); null when no request was priced.
        "cost": float(sum(priced, Decimal(0))) if priced else None,
        "unpriced_requests": len(costs) - len(priced),
        # Whole milliseconds, half up, as the API rounds them.
        "avg_latency_ms": (2 * latency_sum + len(logs)) // (2 * len(logs)),
    }


def _check_entry(entry: dict[str, Any], logs: list[RequestLog], what: str) -> None:
    expected = _expected_measures(logs)
    got = {name: entry[name] for name in expected}
    if got != expected:
        raise RuntimeError(f"{what}: {got} != brute force {expected}")
    for name, q in QUANTILES.items():  # every entry carries them, whatever the grouping
        _check_percentile(entry[f"{name}_latency_ms"], [log.latency_ms for log in logs], q, f"{what} {name}")


def _local_hour(epoch_ms: int, zone: tzinfo) -> str:
    """The hour an instant falls in on ``zone``'s clock, as the API keys it (UTC with ``Z``)."""
    if zone is UTC:
        return format_ms(epoch_ms - epoch_ms % HOUR_MS)
    start = local_time(epoch_ms, zone).replace(minute=0, second=0, microsecond=0)
    return format_in_zone(to_ms(start), zone)


def _check_answer(body: dict[str, Any], logs: list[RequestLog], group_by: str, zone: tzinfo = UTC) -> None:
    """The response against brute force over ``logs``, the logs of the range it answered; hours and days
    are those of ``zone``'s clock."""
    stats = body["stats"]
    summary = {
        "requests": stats["total_requests"],
        "successful": stats["successful_requests"],
        "failed": stats["failed_requests"],
        "input_tokens": stats["input_tokens"],
        "output_tokens": stats["output_tokens"],
        "tokens": stats["total_tokens"],
        "cost": stats["total_cost"],
        "unpriced_requests": stats["unpriced_requests"],
        "avg_latency_ms": stats["avg_latency_ms"],
    }
    _check_entry(
        {**summary, **{f"{name}_latency_ms": stats[f"{name}_latency_ms"] for name in QUANTILES}}, logs, "stats"
    )
    ttfts = [log.ttft_ms for log in logs if log.ttft_ms is not None]
    for name, q in QUANTILES.items():
        _check_percentile(stats[f"{name}_time_to_first_token_ms"], ttfts, q, f"stats {name} time to first token")
    keyed: dict[str, tuple[str, Callable[[RequestLog], str]]] = {
        "hour": ("hour", lambda log: _local_hour(log.created_ms, zone)),
        "day": ("date", lambda log: local_time(log.created_ms, zone).date().isoformat()),
        "model": ("model", lambda log: log.model),
    }
    for group in {group_by, "model"}:  # by_model is always answered
        field, key_of = keyed[group]
        expected: dict[str, list[RequestLog]] = defaultdict(list)
        for log in logs:
            expected[key_of(log)].append(log)
        entries = {entry[field]: entry for entry in body[f"by_{group}"]}
        if entries.keys() != expected.keys():
            raise RuntimeError(f"by_{group} has {len(entries)} entries, brute force {len(expected)}")
        for key, entry in entries.items():
            _check_entry(entry, expected[key], f"by_{group} {key}")


def _planned_reads(logs: list[RequestLog], start_ms: int, end_ms: int, now: int, group: str) -> tuple[int, int]:
    """(rollup items, raw logs) the plan reads: per day or hour piece one "all" item per bucket with data
    (the time bucket, and by_model, which every request answers, from its embedded per-model sketches),
    every log of a raw edge piece."""
    items = raw = 0
    for piece in plan_stats(start_ms, end_ms, now_ms=now, hourly=group == "hour").pieces:
        inside = [log for log in logs if piece.start_ms <= log.created_ms < piece.end_ms]
        if piece.source == "raw":
            raw += len(inside)
            continue
        size = GRANULARITIES[piece.source]
        items += len({log.created_ms - log.created_ms % size for log in inside})
    return items, raw


def _stats_request(
    stack: Stack, functions: FunctionRegistry, logs: list[RequestLog], now: int, days: int, group: str
) -> dict[str, float]:
    query = [("start_date", format_ms(now - days * DAY_MS)), ("group_by", group)]  # end_date: now, by default
    function, event = api_event(stack.template, STATS_PATH, query)
    with tally(dynamodb()) as reads:
        response = functions.invoke(function, event)
    if response["statusCode"] != 200:
        raise RuntimeError(f"stats request failed: {response['statusCode']} {response['body']}")
    body = json.loads(response["body"])
    start_ms, end_ms = parse_instant(body["range"]["start"]), parse_instant(body["range"]["end"])
    in_range = [log for log in logs if start_ms <= log.created_ms < end_ms]
    _check_answer(body, in_range, group)
    rollup_items, raw_logs = _planned_reads(in_range, start_ms, end_ms, now, group)
    if rollup_items + raw_logs != reads.items_read:
        raise RuntimeError(f"read {reads.items_read} items, the plan {rollup_items} rollups + {raw_logs} logs")
    return {
        "read_reduction_vs_naive": len(in_range) / reads.items_read,
        "naive_items_read": len(in_range),
        "items_read": reads.items_read,
        "rollup_items_read": rollup_items,
        "raw_logs_read": raw_logs,
        "dynamodb_calls": reads.calls,
        "range_hours": (end_ms - start_ms) / HOUR_MS,
        "range_rounded": int(body["range"]["rounded"]),
    }


def _stored_item_sizes(stack: Stack) -> list[int]:
    """DynamoDB's size of every rollup item in the stats table."""
    sizes: list[int] = []
    params: dict[str, Any] = {"TableName": stack.name("StatsTable")}
    while True:
        response = dynamodb().scan(**params)
        sizes.extend(item_size(item) for item in response["Items"])
        if "LastEvaluatedKey" not in response:
            return sizes
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _warnings_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


@contextmanager
def _quiet_functions() -> Iterator[None]:
    """Drop the functions' INFO lines (one per aggregated batch), which would bury the benchmark's output.

    A filter rather than a level: Powertools sets the level when a function's module is first loaded.
    """
    function_logger = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "request-logs"))
    function_logger.addFilter(_warnings_only)
    try:
        yield
    finally:
        function_logger.removeFilter(_warnings_only)


@dataclass(frozen=True)
class AggregatedStack:
    """A data set loaded and its stream aggregated (the rollups caught up), the clock frozen at ``now_ms``.

    ``bench.enhanced_summary`` measures on the stats data set too: rollups built by the real aggregator
    for 100,000 logs take minutes to make. ``bench.cursor_pages`` builds a smaller one of its own.
    """

    stack: Stack
    functions: FunctionRegistry
    dataset: Dataset
    now_ms: int
    batches: list[BatchFigures]


@contextmanager
def aggregated_stack(
    log_count: int, *, days: int = DAYS, seed: int = SEED, at_ms: int | None = None
) -> Iterator[AggregatedStack]:
    """``log_count`` logs over the ``days`` up to "now", aggregated. Now is ``at_ms``, by default today at
    ``NOW_TIME_OF_DAY_MS``."""
    now = at_ms if at_ms is not None else now_ms() // DAY_MS * DAY_MS + NOW_TIME_OF_DAY_MS
    dataset = build_dataset(log_count, days=days, end_ms=now, error_rate=ERROR_RATE, seed=seed)
    with time_machine.travel(from_ms(now), tick=False), loaded_stack(dataset) as stack:
        functions = FunctionRegistry(stack.template)
        with _quiet_functions():
            started = time.monotonic()
            batches = aggregate_stream(stack, functions)
            print(f"  aggregated {len(batches)} batches from the stream in {time.monotonic() - started:.0f} s")
            yield AggregatedStack(stack, functions, dataset, now, batches)


def measure_stats(world: AggregatedStack) -> dict[str, float]:
    results: dict[str, float] = {"stats_data_logs": len(world.dataset.logs), "stats_data_days": DAYS}
    results.update(aggregation_figures(world.batches))
    for prefix, (days, group) in REQUESTS.items():
        figures = _stats_request(world.stack, world.functions, world.dataset.logs, world.now_ms, days, group)
        results.update({f"{prefix}_{name}": value for name, value in figures.items()})
    sizes = _stored_item_sizes(world.stack)
    results.update(
        {
            "rollup_items_stored": len(sizes),
            "rollup_item_bytes_median": statistics.median(sizes),
            "rollup_item_bytes_max_observed": max(sizes),
        }
    )
    return results


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/stats_reads.md says besides the figures themselves: whether the 90-day range was widened."""
    if not figures["stats_90d_range_rounded"]:
        return {"range_edges": "Both edges of the range are inside log\n  retention."}
    hours = format_figure("stats_90d_range_hours", figures["stats_90d_range_hours"])
    return {
        "range_edges": "The start, exactly 90 days before now, is past log retention by a\n  hair (logs are kept 90 "
        "days), so the endpoint widens it to its whole hour, which that hour's rollup\n  answers, and says so "
        f"(`range.rounded`): the range answered is {hours} hours."
    }
