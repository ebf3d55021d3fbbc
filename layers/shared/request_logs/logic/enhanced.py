"""Use case of ``GET /api/account/request-logs/enhanced``: logs with token, cost and price detail, in any
order, with a summary of the whole filtered set."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from request_logs.domain.counters import Counters
from request_logs.domain.filters import LogQuery
from request_logs.domain.ordering import Ordering
from request_logs.domain.reads import ReadStats
from request_logs.logic.pages import PageRequest, read_page
from request_logs.models.logs import ComponentTotals, CostSummary, EnhancedListResponse, EnhancedLog

# Averages are the one inexact figure: rounded half-even to a millionth of a micro-dollar.
AVERAGE_COST_QUANTUM = Decimal("1e-12")


def enhanced_request_logs(
    query: LogQuery,
    ordering: Ordering,
    *,
    limit: int,
    offset: int,
    cursor: str | None,
    now_ms: int,
    reads: ReadStats | None = None,
) -> EnhancedListResponse:
    page = read_page(
        PageRequest("enhanced", query, ordering, limit, offset, cursor, with_sums=True), now_ms=now_ms, reads=reads
    )
    return EnhancedListResponse(
        logs=[EnhancedLog.from_log(log) for log in page.logs],
        summary=cost_summary(page.totals),
        pagination=page.pagination,
    )


def cost_summary(totals: Counters) -> CostSummary:
    priced = totals.priced
    average = None
    if priced:
        # Wide enough for any total the ingest bounds allow, so quantize never runs out of digits.
        with localcontext(prec=60):
            average = (totals.cost / priced).quantize(AVERAGE_COST_QUANTUM, ROUND_HALF_EVEN)
    return CostSummary(
        total_cost=totals.priced_cost,
        total_tokens=totals.total_tokens,
        avg_cost_per_request=average,
        requests=totals.requests,
        priced_requests=priced,
        unpriced_requests=totals.unpriced,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
        **ComponentTotals.fields_of(totals),
    )
