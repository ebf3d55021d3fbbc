"""Items DynamoDB reads for a deep page reached by cursor, against the first page and the same page by
offset, through the real list and enhanced handlers, on moto in process.

Data: ``CURSOR_LOGS`` logs of one account over the 30 days up to a fixed "now", ``CURSOR_NOW`` (the
clock frozen there), loaded like the other data sets, and the stream aggregated by the real
``StatsAggregatorFunction`` so that first pages take their totals from rollups, as they do once the
aggregator has caught up (``bench.stats_reads.aggregated_stack``). Fixed, not today: a log's partition is
a hash of its id, which includes its creation instant, and how the newest-first merge of the partitions
falls around a page boundary decides what the page reads. With the same instant every run reads the
same items. Its own data set rather than the stats one: moto answers every Query by walking the whole
table, and the 100,000 logs of the stats data would make the hundred-odd page requests here take many
minutes; a page's reads do not depend on how many logs there are.

Each endpoint is walked newest first (the default sort, ``created_at`` desc), 100 logs a page, with no
filter and no dates: the whole retained range. The first page is requested plainly; pages 2 to 50 pass
the previous page's ``pagination.nextCursor``. Then page 50 is requested again by ``offset=4900``.

Definitions (bench/cursor_pages.md explains the choice):

- ``cursor_read_amplification_deep`` (list) and ``cursor_read_amplification_deep_enhanced``: items read
  by the request for page 50 by cursor ÷ the logs it returns (100). A cursor carries the walk's total and
  summary and the position of its last log, so the page reads only its own logs, whatever the depth.
- ``cursor_read_amplification_page1``, ``cursor_read_amplification_page1_enhanced``: the same for the
  first page, which also computes the total (and, for the enhanced endpoint, the summary).
- ``cursor_read_amplification_max_deeper_page``, ``cursor_read_amplification_mean_deeper_pages``: the
  worst of the list's pages 2 to 50, and their mean: every one of them costs what page 50 does, give or
  take how the partitions' logs interleave around it.
- ``offset_read_amplification_page50``, ``offset_read_amplification_page50_enhanced``: page 50 by
  ``offset``: it computes the total again and reads the 4,900 logs before its own.

Every page is checked against brute force over the logs (the retained ones, newest first): its logs,
``pagination.total`` and, for the enhanced endpoint, its summary's request count; page 50 by offset
must return exactly what page 50 by cursor returned. Any mismatch stops the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bench.dataset import counted_get
from bench.dynamo_tally import DynamoTally
from bench.stats_reads import AggregatedStack, aggregated_stack
from request_logs.domain.retention import log_expiry_s
from request_logs.domain.timeutil import format_ms, to_ms
from request_logs.store.keys import LOG_SHARDS

ENDPOINTS = {"list": "/api/account/request-logs", "enhanced": "/api/account/request-logs/enhanced"}
PAGE_LIMIT = 100
DEEP_PAGE = 50
CURSOR_LOGS = 8_000  # page 50 and a next one need 5,001
CURSOR_DAYS = 30
CURSOR_SEED = 50
CURSOR_NOW = datetime(2026, 11, 24, 14, 37, 12, 345_000, tzinfo=UTC)


def _get(world: AggregatedStack, path: str, query: list[tuple[str, str]]) -> tuple[dict[str, Any], DynamoTally]:
    return counted_get(world.stack, world.functions, path, query)


def _check_page(body: dict[str, Any], expected_ids: list[str], total: int, what: str) -> None:
    if [log["id"] for log in body["logs"]] != expected_ids:
        raise RuntimeError(f"{what}: not the logs brute force puts there")
    if body["pagination"]["total"] != total:
        raise RuntimeError(f"{what}: total {body['pagination']['total']} != {total} retained logs")
    if "summary" in body and body["summary"]["requests"] != total:
        raise RuntimeError(f"{what}: summary counts {body['summary']['requests']} requests, not {total}")


def _walk(world: AggregatedStack, endpoint: str, newest_first: list[str]) -> dict[str, float]:
    path = ENDPOINTS[endpoint]
    total = len(newest_first)
    reads: list[DynamoTally] = []
    cursor: str | None = None
    for page in range(1, DEEP_PAGE + 1):
        query = [("limit", str(PAGE_LIMIT))] + ([("cursor", cursor)] if cursor else [])
        body, page_reads = _get(world, path, query)
        start = (page - 1) * PAGE_LIMIT
        _check_page(body, newest_first[start : start + PAGE_LIMIT], total, f"{endpoint} page {page} by cursor")
        reads.append(page_reads)
        cursor = body["pagination"]["nextCursor"]
        if cursor is None:
            raise RuntimeError(f"{endpoint} page {page} has no nextCursor, with {total} logs to walk")
    offset = (DEEP_PAGE - 1) * PAGE_LIMIT
    by_offset, offset_reads = _get(world, path, [("limit", str(PAGE_LIMIT)), ("offset", str(offset))])
    _check_page(by_offset, newest_first[offset : offset + PAGE_LIMIT], total, f"{endpoint} page {DEEP_PAGE} by offset")

    suffix = "" if endpoint == "list" else "_enhanced"
    first, deep = reads[0], reads[-1]
    figures = {
        f"cursor_read_amplification_deep{suffix}": deep.items_read / PAGE_LIMIT,
        f"cursor_read_amplification_page1{suffix}": first.items_read / PAGE_LIMIT,
        f"offset_read_amplification_page{DEEP_PAGE}{suffix}": offset_reads.items_read / PAGE_LIMIT,
        f"cursor_page1{suffix}_items_read": first.items_read,
        f"cursor_page1{suffix}_dynamodb_calls": first.calls,
        f"cursor_page{DEEP_PAGE}{suffix}_items_read": deep.items_read,
        f"cursor_page{DEEP_PAGE}{suffix}_dynamodb_calls": deep.calls,
        f"offset_page{DEEP_PAGE}{suffix}_items_read": offset_reads.items_read,
        f"offset_page{DEEP_PAGE}{suffix}_dynamodb_calls": offset_reads.calls,
    }
    if endpoint == "list":
        deeper = [page_reads.items_read for page_reads in reads[1:]]
        figures["cursor_read_amplification_max_deeper_page"] = max(deeper) / PAGE_LIMIT
        figures["cursor_read_amplification_mean_deeper_pages"] = sum(deeper) / len(deeper) / PAGE_LIMIT
    return figures


def measure_cursor_pages(log_count: int = CURSOR_LOGS) -> dict[str, float]:
    with aggregated_stack(log_count, days=CURSOR_DAYS, seed=CURSOR_SEED, at_ms=to_ms(CURSOR_NOW)) as world:
        return _measure(world)


def _measure(world: AggregatedStack) -> dict[str, float]:
    # Brute force is the oracle: the logs a read may still return (TTL second after now's), newest first.
    retained = [log for log in world.dataset.logs if log_expiry_s(log.created_ms) > world.now_ms // 1000]
    newest_first = [log.id for log in sorted(retained, key=lambda log: (log.created_ms, log.id), reverse=True)]
    if len(newest_first) < DEEP_PAGE * PAGE_LIMIT + 1:
        raise RuntimeError(f"{len(newest_first)} logs cannot fill {DEEP_PAGE} pages of {PAGE_LIMIT} and a next one")
    results: dict[str, float] = {
        "cursor_data_logs": len(newest_first),
        "cursor_data_days": CURSOR_DAYS,
        "cursor_page_limit": PAGE_LIMIT,
    }
    for endpoint in ENDPOINTS:
        results.update(_walk(world, endpoint, newest_first))
    return results


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/cursor_pages.md says besides the figures themselves."""
    return {
        "cursor_now": format_ms(to_ms(CURSOR_NOW)),
        "page_limit": str(PAGE_LIMIT),
        "deep_page": str(DEEP_PAGE),
        "log_shards": str(LOG_SHARDS),
    }
