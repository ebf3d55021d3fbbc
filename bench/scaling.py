"""Items read per request at two data sizes: does a request cost its page, or the account?

One account's logs over 90 days, from the same generator at 10,000 and at 100,000 logs, rollups caught
up through the real aggregator (``bench.stats_reads.aggregated_stack``; the 100,000-log world is the stats
benchmark's own). Each request of ``REQUESTS`` goes through its real handler, its answer is checked
against brute force over the data set (page, order, total, summary, stats), and the DynamoDB items it
read are counted (``bench.dynamo_tally``: first page, total and summary included). A cursor request walks
to its 5th page and counts that page alone.

Figures: per request and size ``scaling_<name>_items_read_<size>`` and ``..._calls_<size>``;
``scaling_read_growth_max`` (items read at 100,000 ÷ at 10,000, the largest over the requests),
``scaling_items_read_max_100k`` and ``scaling_calls_max_100k``. A request whose reads grow with the
account scores about 10 on growth; one that reads its page and its time buckets about 1.

``make bench`` measures the 100,000-log world the stats benchmark builds and a 10,000-log one of its own;
``python -m bench.scaling [--sizes 10000,100000]`` runs it alone and prints the table.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from bench.dataset import ACCOUNT_ID, DAY_MS, KEYS, counted_get
from bench.dynamo_tally import DynamoTally
from bench.stats_reads import DAYS, AggregatedStack, _check_answer, aggregated_stack
from local.stack.template import REGION
from request_logs.domain.log import RequestLog
from request_logs.domain.retention import log_visible
from request_logs.domain.rollups import HOUR_MS
from request_logs.domain.timeutil import format_ms, local_midnight, local_time, zone_named

SMALL, LARGE = 10_000, 100_000
LIST_PATH = "/api/account/request-logs"
ENHANCED_PATH = "/api/account/request-logs/enhanced"
STATS_PATH = "/api/account/request-logs/stats"
CURSOR_PAGE = 5  # the page of a cursor walk whose reads count
DEFAULT_DAYS = 30  # every endpoint without start_date: the 30 days before now


@dataclass(frozen=True)
class Filters:
    """What a list or enhanced request asks for, as brute force applies it to ``RequestLog``s."""

    status: str | None = None
    model: str | None = None
    provider: str | None = None
    api_key_id: str | None = None
    since_ms: int | None = None
    min_latency: int | None = None
    max_latency: int | None = None
    min_cost: Decimal | None = None
    max_cost: Decimal | None = None

    def matches(self, log: RequestLog) -> bool:
        cost = log.cost_total
        return (
            (self.status is None or log.status == self.status)
            and (self.model is None or log.model == self.model)
            and (self.provider is None or log.provider == self.provider)
            and (self.api_key_id is None or log.api_key_id == self.api_key_id)
            and (self.since_ms is None or log.created_ms >= self.since_ms)
            and (self.min_latency is None or log.latency_ms >= self.min_latency)
            and (self.max_latency is None or log.latency_ms <= self.max_latency)
            and (self.min_cost is None or (cost is not None and cost >= self.min_cost))
            and (self.max_cost is None or (cost is not None and cost <= self.max_cost))
        )


@dataclass(frozen=True)
class Request:
    """One request of the benchmark: its query (built for a world: "today" depends on its clock)."""

    name: str
    path: str
    query: Callable[[AggregatedStack], list[tuple[str, str]]]
    filters: Callable[[AggregatedStack], Filters] = lambda world: Filters()
    sort: str = "created_at"
    order: str = "desc"
    cursor_page: int = 1  # >1: walk by cursor and count that page's reads alone


def _today(world: AggregatedStack) -> int:
    return world.now_ms - world.now_ms % DAY_MS


def _days_ago(world: AggregatedStack, days: int) -> int:
    return _today(world) - days * DAY_MS


REQUESTS: tuple[Request, ...] = (
    Request("list_success_limit10", LIST_PATH, lambda w: [("limit", "10"), ("status", "success")],
            lambda w: Filters(status="success")),
    Request("list_errors", LIST_PATH, lambda w: [("status", "error")], lambda w: Filters(status="error")),
    Request("list_today", LIST_PATH, lambda w: [("start_date", format_ms(_today(w))[:10])],
            lambda w: Filters(since_ms=_today(w))),
    Request("list_slow", LIST_PATH, lambda w: [("min_latency", "5000")], lambda w: Filters(min_latency=5000)),
    Request("list_fast", LIST_PATH, lambda w: [("max_latency", "300")], lambda w: Filters(max_latency=300)),
    Request("list_model_errors", LIST_PATH, lambda w: [("model", "openai/gpt-4o"), ("status", "error")],
            lambda w: Filters(model="openai/gpt-4o", status="error")),
    Request("list_provider_slow", LIST_PATH, lambda w: [("provider", "anthropic"), ("min_latency", "3000")],
            lambda w: Filters(provider="anthropic", min_latency=3000)),
    Request("list_key_week", LIST_PATH,
            lambda w: [("api_key_id", KEYS[0].api_key_id), ("start_date", format_ms(_days_ago(w, 7))[:10])],
            lambda w: Filters(api_key_id=KEYS[0].api_key_id, since_ms=_days_ago(w, 7))),
    Request("enhanced_costliest", ENHANCED_PATH, lambda w: [("sort", "cost"), ("order", "desc"), ("limit", "10")],
            sort="cost", order="desc"),
    Request("enhanced_fastest", ENHANCED_PATH, lambda w: [("sort", "latency"), ("order", "asc")],
            sort="latency", order="asc"),
    Request("enhanced_model_tokens", ENHANCED_PATH,
            lambda w: [("sort", "tokens"), ("order", "desc"), ("model", "openai/gpt-4o")],
            lambda w: Filters(model="openai/gpt-4o"), sort="tokens", order="desc"),
    Request("enhanced_min_cost", ENHANCED_PATH, lambda w: [("min_cost", "0.01")],
            lambda w: Filters(min_cost=Decimal("0.01"))),
    Request("enhanced_cost_band", ENHANCED_PATH,
            lambda w: [("min_cost", "0.001"), ("max_cost", "0.01"), ("sort", "cost"), ("order", "asc")],
            lambda w: Filters(min_cost=Decimal("0.001"), max_cost=Decimal("0.01")), sort="cost", order="asc"),
    Request("enhanced_error_latency", ENHANCED_PATH,
            lambda w: [("status", "error"), ("sort", "latency"), ("order", "desc")],
            lambda w: Filters(status="error"), sort="latency", order="desc"),
    Request("stats_by_day", STATS_PATH, lambda w: [("group_by", "day"), ("start_date", "2025-01-01")]),
    Request("stats_by_model", STATS_PATH, lambda w: [("group_by", "model")]),
    Request("list_slow_cursor_page5", LIST_PATH, lambda w: [("min_latency", "5000"), ("limit", "10")],
            lambda w: Filters(min_latency=5000), cursor_page=CURSOR_PAGE),
    Request("enhanced_costliest_cursor_page5", ENHANCED_PATH,
            lambda w: [("sort", "cost"), ("order", "desc"), ("limit", "10")],
            sort="cost", order="desc", cursor_page=CURSOR_PAGE),
)  # fmt: skip


def _value(log: RequestLog, sort: str) -> Decimal | None:
    if sort == "cost":
        return log.cost_total
    if sort == "latency":
        return Decimal(log.latency_ms)
    if sort == "tokens":
        return Decimal(log.input_tokens + log.output_tokens)
    return Decimal(log.created_ms)


def expected_order(logs: list[RequestLog], sort: str, order: str) -> list[str]:
    """Brute force: by value then creation then id, in the requested direction; logs without a value
    (unpriced, for cost) last, themselves by creation then id in the same direction."""
    descending = order == "desc"
    valued = [log for log in logs if _value(log, sort) is not None]
    valueless = [log for log in logs if _value(log, sort) is None]
    valued.sort(key=lambda log: (_value(log, sort), log.created_ms, log.id), reverse=descending)
    valueless.sort(key=lambda log: (log.created_ms, log.id), reverse=descending)
    return [log.id for log in valued + valueless]


def _get(world: AggregatedStack, path: str, query: list[tuple[str, str]]) -> tuple[dict[str, Any], DynamoTally]:
    # Money as Decimal, so a summary off in the last digit differs; stats as the stats benchmark checks them.
    return counted_get(world.stack, world.functions, path, query, exact_money=path != STATS_PATH)


def _default_since(world: AggregatedStack) -> int:
    """Where a request without ``start_date`` starts: DEFAULT_DAYS before now, from the start of that hour."""
    since = world.now_ms - DEFAULT_DAYS * DAY_MS
    return since - since % HOUR_MS


def _check_list(request: Request, world: AggregatedStack, body: dict[str, Any], skipped: int) -> None:
    visible = [log for log in world.dataset.logs if log_visible(log.created_ms, world.now_ms)]
    filters = request.filters(world)
    if filters.since_ms is None:
        filters = replace(filters, since_ms=_default_since(world))
    matching = [log for log in visible if filters.matches(log)]
    expected = expected_order(matching, request.sort, request.order)
    limit = int(dict(request.query(world)).get("limit", 50))
    got = [log["id"] for log in body["logs"]]
    if got != expected[skipped : skipped + limit]:
        raise RuntimeError(f"{request.name}: page differs from brute force")
    pagination = body["pagination"]
    if pagination["total"] != len(expected) or pagination["hasMore"] != (skipped + limit < len(expected)):
        raise RuntimeError(f"{request.name}: total {pagination['total']}, brute force {len(expected)}")
    if "summary" in body:
        priced = [log.cost_total for log in matching if log.cost_total is not None]
        summary = body["summary"]
        tokens = sum(log.input_tokens + log.output_tokens for log in matching)
        got_summary = (summary["requests"], summary["total_cost"], summary["total_tokens"], summary["priced_requests"])
        if got_summary != (len(matching), sum(priced, Decimal(0)), tokens, len(priced)):
            raise RuntimeError(f"{request.name}: summary differs from brute force")


def _check_stats(request: Request, world: AggregatedStack, body: dict[str, Any]) -> None:
    query = dict(request.query(world))
    since = 0 if "start_date" in query else _default_since(world)
    logs = [log for log in world.dataset.logs if since <= log.created_ms < world.now_ms]
    _check_answer(body, logs, query["group_by"])


def measure_request(request: Request, world: AggregatedStack) -> DynamoTally:
    """Send the request (walking to its cursor page), check the answer, return the counted page's reads."""
    query = request.query(world)
    body, reads = _get(world, request.path, query)
    for _ in range(request.cursor_page - 1):
        cursor = body["pagination"]["nextCursor"]
        if cursor is None:
            raise RuntimeError(f"{request.name}: the walk ended before page {request.cursor_page}")
        body, reads = _get(world, request.path, [*query, ("cursor", cursor)])
    if request.path == STATS_PATH:
        _check_stats(request, world, body)
    else:
        _check_list(request, world, body, skipped=body["pagination"]["offset"])
    return reads


def measure_world(world: AggregatedStack, size: int) -> dict[str, float]:
    if any(log.account_id != ACCOUNT_ID for log in world.dataset.logs):
        raise RuntimeError("the scaling data set is one account's")
    figures: dict[str, float] = {}
    for request in REQUESTS:
        reads = measure_request(request, world)
        print(f"  {LABELS[request.name]}: {reads.items_read} items read in {reads.calls} calls")
        figures[f"scaling_{request.name}_items_read_{size // 1000}k"] = reads.items_read
        figures[f"scaling_{request.name}_calls_{size // 1000}k"] = reads.calls
    return figures


# Local days in a zone offset by :45: every local midnight falls inside a UTC hour (decisions §27).
LOCAL_ZONE = "Asia/Kathmandu"


def measure_local_days(world: AggregatedStack, size: int) -> dict[str, float]:
    """``stats?group_by=day&tz=Asia/Kathmandu`` from the local date 89 days before today up to now, checked
    against brute force by local date; the DynamoDB items and calls it takes."""
    zone = zone_named(LOCAL_ZONE)
    first_day = local_time(world.now_ms - (DAYS - 1) * DAY_MS, zone).date()
    query = [("group_by", "day"), ("tz", LOCAL_ZONE), ("start_date", first_day.isoformat())]
    body, reads = _get(world, STATS_PATH, query)
    start_ms = local_midnight(first_day, zone)
    _check_answer(body, [log for log in world.dataset.logs if start_ms <= log.created_ms < world.now_ms], "day", zone)
    print(f"  stats?group_by=day&tz={LOCAL_ZONE} over {len(body['by_day'])} local days: {reads.items_read} items read")
    return {
        f"stats_tz_kathmandu_items_read_{size // 1000}k": reads.items_read,
        f"stats_tz_kathmandu_calls_{size // 1000}k": reads.calls,
    }


def summary_figures(figures: Mapping[str, float], small: int, large: int) -> dict[str, float]:
    def items(request: Request, size: int) -> float:
        return figures[f"scaling_{request.name}_items_read_{size // 1000}k"]

    growth = max(items(request, large) / max(1.0, items(request, small)) for request in REQUESTS)
    local_small, local_large = (figures[f"stats_tz_kathmandu_items_read_{size // 1000}k"] for size in (small, large))
    return {
        "stats_tz_read_growth": local_large / max(1.0, local_small),
        "scaling_read_growth_max": growth,
        f"scaling_items_read_max_{large // 1000}k": max(items(request, large) for request in REQUESTS),
        f"scaling_calls_max_{large // 1000}k": max(
            figures[f"scaling_{request.name}_calls_{large // 1000}k"] for request in REQUESTS
        ),
    }


# How the table shows each request (the list: dates relative to the run's day).
LABELS = {
    "list_success_limit10": "request-logs?limit=10&status=success",
    "list_errors": "request-logs?status=error",
    "list_today": "request-logs?start_date=<today>",
    "list_slow": "request-logs?min_latency=5000",
    "list_fast": "request-logs?max_latency=300",
    "list_model_errors": "request-logs?model=openai/gpt-4o&status=error",
    "list_provider_slow": "request-logs?provider=anthropic&min_latency=3000",
    "list_key_week": "request-logs?api_key_id=<a key>&start_date=<7 days ago>",
    "enhanced_costliest": "enhanced?sort=cost&order=desc&limit=10",
    "enhanced_fastest": "enhanced?sort=latency&order=asc",
    "enhanced_model_tokens": "enhanced?sort=tokens&order=desc&model=openai/gpt-4o",
    "enhanced_min_cost": "enhanced?min_cost=0.01",
    "enhanced_cost_band": "enhanced?min_cost=0.001&max_cost=0.01&sort=cost&order=asc",
    "enhanced_error_latency": "enhanced?status=error&sort=latency&order=desc",
    "stats_by_day": "stats?group_by=day&start_date=2025-01-01",
    "stats_by_model": "stats?group_by=model",
    "list_slow_cursor_page5": "request-logs?min_latency=5000&limit=10, 5th page by cursor",
    "enhanced_costliest_cursor_page5": "enhanced?sort=cost&order=desc&limit=10, 5th page by cursor",
}


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/scaling.md says besides the figures themselves: the table of every request."""
    rows = []
    for request in REQUESTS:
        small, large = (figures[f"scaling_{request.name}_items_read_{size // 1000}k"] for size in (SMALL, LARGE))
        calls = figures[f"scaling_{request.name}_calls_{LARGE // 1000}k"]
        growth = large / max(1.0, small)
        rows.append(f"| `{LABELS[request.name]}` | {small:,.0f} | {large:,.0f} | {growth:.1f} | {calls:,.0f} |")
    return {
        "scaling_rows": "\n".join(rows),
        "small_logs": f"{SMALL:,}",
        "large_logs": f"{LARGE:,}",
        "scaling_days": str(DAYS),
        "cursor_page": str(CURSOR_PAGE),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=f"{SMALL},{LARGE}", help="two data sizes, smaller first")
    small, large = (int(size) for size in parser.parse_args().sizes.split(","))
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    figures: dict[str, float] = {}
    for size in (small, large):
        print(f"{size} logs over {DAYS} days, aggregated; then every request, checked against brute force")
        with aggregated_stack(size) as world:
            figures.update(measure_world(world, size))
            figures.update(measure_local_days(world, size))
    figures.update(summary_figures(figures, small, large))
    print(f"| request | items read, {small:,} logs | items read, {large:,} logs | growth | calls, {large:,} |")
    for request in REQUESTS:
        low, high = (figures[f"scaling_{request.name}_items_read_{size // 1000}k"] for size in (small, large))
        calls = figures[f"scaling_{request.name}_calls_{large // 1000}k"]
        print(f"| `{LABELS[request.name]}` | {low:,.0f} | {high:,.0f} | {high / max(1.0, low):.1f} | {calls:,.0f} |")
    for name, value in figures.items():
        if not name.startswith(tuple(f"scaling_{request.name}_" for request in REQUESTS)):
            print(f"{name} = {value:,.2f}")


if __name__ == "__main__":
    main()
