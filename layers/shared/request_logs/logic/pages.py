"""One place for pagination of the list and enhanced endpoints: offset or cursor, total, next cursor.

A page reads the key of one log more than it returns, so ``hasMore`` is known without counting. The first
page of a walk pins a snapshot (logs created up to that instant) and computes the total (and summary) once:
from rollups where they answer, else from the page itself when it holds every match, else by reading the
matching logs. Every cursor page after it carries them and reads only its own logs (decisions §15).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from request_logs.domain.counters import Counters
from request_logs.domain.errors import InvalidQuery
from request_logs.domain.filters import LogQuery
from request_logs.domain.log import RequestLog
from request_logs.domain.ordering import Ordering
from request_logs.domain.ranges import anchored, visible_query
from request_logs.domain.reads import ReadStats
from request_logs.logic.attribution import with_metadata_slots
from request_logs.logic.cursors import CursorState, decode_cursor, encode_cursor, query_fingerprint, signing_key
from request_logs.logic.totals import Totals, log_totals, page_totals, rollup_totals
from request_logs.models.logs import Pagination
from request_logs.store import logs as log_store

# Sorting by cost, latency or tokens selects the first offset+limit logs of the whole range in memory:
# offset paging stops here (like most search APIs); cursors page on without limit at constant memory.
MAX_SORTED_OFFSET_WINDOW = 10_000


@dataclass(frozen=True)
class PageRequest:
    endpoint: str  # "list" or "enhanced": a cursor continues only the endpoint that issued it
    query: LogQuery
    ordering: Ordering
    limit: int
    offset: int
    cursor: str | None
    with_sums: bool  # the summary needs token and cost sums, the list only the count


@dataclass(frozen=True)
class Page:
    logs: list[RequestLog]
    totals: Counters
    pagination: Pagination
    reads: ReadStats


def read_page(request: PageRequest, *, now_ms: int, reads: ReadStats | None = None) -> Page:
    reads = reads if reads is not None else ReadStats()
    # The fingerprint of the query as asked: where the account keeps a key (its slot, whether its rollups
    # are complete) may change during a walk without changing which logs it returns.
    fingerprint = _fingerprint(request)
    request = replace(request, query=with_metadata_slots(request.query, reads))
    state = None
    if request.cursor is not None:
        if request.offset:
            raise InvalidQuery("Use either 'offset' or 'cursor', not both.", param="offset")
        state = decode_cursor(
            request.cursor, signing_key(), account_id=request.query.account_id, fingerprint=fingerprint, now_ms=now_ms
        )
    walked = _walk(request, fingerprint, state, now_ms=now_ms, reads=reads)
    next_cursor = encode_cursor(walked.next_state, signing_key()) if walked.next_state is not None else None
    pagination = Pagination(
        total=walked.totals.requests,
        limit=request.limit,
        offset=walked.offset,
        hasMore=walked.next_state is not None,
        nextCursor=next_cursor,
    )
    return Page(walked.logs, walked.totals, pagination, reads)


@dataclass(frozen=True)
class WalkPage:
    """One page of a walk and where the walk stands after it (None: nothing follows the page)."""

    logs: list[RequestLog]
    totals: Counters  # of the whole walk, computed by its first page and carried by its state
    offset: int  # logs returned before this page
    next_state: CursorState | None


def walk_page(
    query: LogQuery,
    ordering: Ordering,
    *,
    limit: int,
    state: CursorState | None,
    now_ms: int,
    reads: ReadStats,
    endpoint: str = "export",
    with_sums: bool = False,
) -> WalkPage:
    """The list's pages for a caller that keeps the walk's position itself, unsigned (an export's
    checkpoint): the same reads, snapshot, totals and order as the endpoints' cursor pages, without the
    cursor's signature and its 24-hour age limit. ``limit`` is not the API's (the export reads larger
    pages)."""
    request = PageRequest(endpoint, query, ordering, limit, 0, None, with_sums)
    fingerprint = _fingerprint(request)
    request = replace(request, query=with_metadata_slots(query, reads))
    return _walk(request, fingerprint, state, now_ms=now_ms, reads=reads)


def _fingerprint(request: PageRequest) -> str:
    ordering = request.ordering
    return query_fingerprint(
        request.endpoint, {**asdict(request.query), "sort": ordering.sort, "order": ordering.order}
    )


def _walk(
    request: PageRequest, fingerprint: str, state: CursorState | None, *, now_ms: int, reads: ReadStats
) -> WalkPage:
    ordering = request.ordering
    query = request.query
    if state is not None:
        snapshot_ms, issued_ms, totals = state.snapshot_ms, state.issued_ms, _counters(state.totals)
        selectivity = state.bound_selectivity
    else:
        snapshot_ms, issued_ms = now_ms + 1, now_ms
        if not ordering.by_creation and request.offset + request.limit > MAX_SORTED_OFFSET_WINDOW:
            raise InvalidQuery(
                f"With sort={ordering.sort}, offset + limit may not exceed {MAX_SORTED_OFFSET_WINDOW}; "
                "page further with the cursor in pagination.nextCursor.",
                param="offset",
            )
    # The walk and its total cover the snapshot (logs created later belong to a later walk), the default
    # window before its first page when no date was given, and what retention leaves visible: the one
    # point this read path applies them.
    walk = anchored(query, issued_ms)
    visible = visible_query(replace(walk, end_ms=min(walk.end_ms, snapshot_ms)), now_ms=now_ms)
    returned_before = state.returned if state is not None else request.offset
    if visible is None:
        fetched = log_store.LogPage([], has_more=False)
        if state is None:
            totals, selectivity = Counters(), None
    elif state is None:
        found, fetched = _first_page(request, visible, reads, now_ms)
        totals, selectivity = found.counters, found.bound_selectivity
    else:
        fetched = _fetch(request, visible, state, selectivity, reads, now_ms)
    logs, has_more = fetched.logs, fetched.has_more
    next_state = None
    if has_more:
        next_state = CursorState(
            account_id=query.account_id,
            fingerprint=fingerprint,
            position=ordering.key(logs[-1]),
            returned=returned_before + len(logs),
            snapshot_ms=snapshot_ms,
            issued_ms=issued_ms,
            totals=totals.to_json_dict(),  # exact money as decimal strings
            bound_selectivity=selectivity,
            bucket_rest=fetched.bucket_rest,
        )
    return WalkPage(logs, totals, returned_before, next_state)


def _first_page(
    request: PageRequest, visible: LogQuery, reads: ReadStats, now_ms: int
) -> tuple[Totals, log_store.LogPage]:
    """The first page of a walk and its totals. Rollups answer the totals where they can. Otherwise the
    page is read first: when it starts the list and nothing follows it, it holds every log the query
    matches and is the totals too, so a small result costs one read of its logs instead of two."""
    found = rollup_totals(visible, now_ms=now_ms, reads=reads)
    if found is None and request.offset == 0:
        fetched = _fetch(request, visible, None, None, reads, now_ms)
        if not fetched.has_more:
            return page_totals(fetched.logs), fetched
        return log_totals(visible, now_ms=now_ms, reads=reads, with_sums=request.with_sums), fetched
    if found is None:
        found = log_totals(visible, now_ms=now_ms, reads=reads, with_sums=request.with_sums)
    if request.offset >= found.counters.requests:
        return found, log_store.LogPage([], has_more=False)  # past the end: nothing to read
    return found, _fetch(request, visible, None, found.bound_selectivity, reads, now_ms)


def _fetch(
    request: PageRequest,
    visible: LogQuery,
    state: CursorState | None,
    bound_selectivity: float | None,
    reads: ReadStats,
    now_ms: int,
) -> log_store.LogPage:
    """``limit`` logs from the position (offset, or the cursor's), in the requested order, and whether
    more follow."""
    ordering = request.ordering
    skip = request.offset if state is None else 0  # a cursor page starts after its position
    if ordering.by_creation:
        return log_store.ordered_logs(
            visible,
            skip=skip,
            limit=request.limit,
            reads=reads,
            now_ms=now_ms,
            descending=ordering.descending,
            after=state.position if state is not None else None,
            bucket_rest=state.bucket_rest if state is not None else None,
            bound_selectivity=bound_selectivity,
        )
    return log_store.top_logs(
        visible,
        ordering,
        skip=skip,
        limit=request.limit,
        reads=reads,
        now_ms=now_ms,
        after=state.position if state is not None else None,
    )


def _counters(raw: dict[str, Any]) -> Counters:
    try:
        return Counters.from_dict(raw)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidQuery("Invalid value for 'cursor': not a cursor this API issued.", param="cursor") from exc
