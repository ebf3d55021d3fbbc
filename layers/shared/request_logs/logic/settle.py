"""Settling an account after late logs: move its freshness horizon past them when no newer log does.

Totals and summaries come from rollups only up to the settled horizon (``domain/freshness``). A late
log (one ingested long after its creation) keeps every range reaching back to its creation unsettled
until each log partition of the account has an applied stamp ``SETTLE_MS`` past it. With steady traffic
newer logs bring that within minutes; an account that goes quiet after a backfill would never get there,
and every total would read its logs one by one. So:

1. The aggregator, after applying late logs of an account, asks for settling once they can be cleared
   (``request_settling`` with a delay).
2. ``settle`` then reads the account's progress. Nothing holds back: done. Too early (a later late log):
   ask again for when it can be cleared. Otherwise: one marker, stamped now, into each partition that
   holds back.
3. The aggregator applies a marker like a log (no rollup, its stamp only), after every log written before
   it in that partition, so the stamp is as valid a horizon as a log's.

Cost: per account and aggregator batch with late logs, one conditional write (``settle_due``, only
upward), one message and one consistent read; at most ``LOG_SHARDS`` marker writes when the account is
quiet. A request for an instant older than ``settle_due`` only reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from request_logs.domain.freshness import SETTLE_MS, settle_ready_ms, shards_holding_back
from request_logs.store import settling
from request_logs.store import stats as stats_store
from request_logs.store.keys import LOG_SHARDS

# Past the instant a marker can clear the late logs, so that a request is not answered "too early" by a
# clock a little behind the aggregator's.
_DELAY_MARGIN_S = 2


@dataclass(frozen=True)
class SettleOutcome:
    account_id: str
    markers: list[int] = field(default_factory=list)  # shards given a marker
    asked_again_in_s: int | None = None  # too early: a new request with this delay
    superseded: bool = False  # a request for a later instant exists: this one does nothing

    @property
    def result(self) -> str:
        """What became of the request, as the function's log line says it."""
        if self.superseded:
            return "settle request superseded"
        return "settled" if self.asked_again_in_s is None else "too early to settle"


def delay_until(ready_ms: int, now_ms: int) -> int:
    """Seconds from ``now_ms`` until a marker stamped then clears late logs ready at ``ready_ms``."""
    return max(0, -(-(ready_ms - now_ms) // 1000)) + _DELAY_MARGIN_S


def request_settling(late_stamps: dict[str, int], now_ms: int) -> list[str]:
    """Ask for settling of each account whose latest applied late log has stamp ``late_stamps[account]``,
    unless a request for that instant or a later one exists; returns the accounts whose request could not
    be made (they settle with the next late batch, or with newer logs)."""
    unsent = []
    for account_id, stamp in sorted(late_stamps.items()):
        due_ms = stamp + SETTLE_MS
        try:
            if stats_store.raise_settle_due(account_id, due_ms):
                settling.request_settling(account_id, due_ms, delay_until(due_ms, now_ms))
        except (BotoCoreError, ClientError):  # a lagging horizon is safe: the rollups are written
            unsent.append(account_id)
    return unsent


def settle_requested(body: str, now_ms: int) -> SettleOutcome:
    """``settle`` for the request a message body holds (ValueError for a malformed one)."""
    account_id, due_ms = settling.parse_settle_request(body)
    return settle(account_id, due_ms, now_ms)


def settle(account_id: str, due_ms: int, now_ms: int) -> SettleOutcome:
    """Markers into the partitions holding the account's horizon back, when they can clear its late logs.

    Only the request for the account's latest ``settle_due`` acts: with late logs arriving steadily, each
    aggregator batch asks anew, and the older requests end here after one read instead of each asking
    again (which would multiply them). ``now_ms`` is taken just before the call: the markers' stamp.
    """
    progress = stats_store.load_progress(account_id)
    if progress.settle_due is not None and due_ms < progress.settle_due:
        return SettleOutcome(account_id, superseded=True)
    behind = shards_holding_back(progress, range(LOG_SHARDS))
    ready_ms = settle_ready_ms(progress)
    if not behind or ready_ms is None:
        return SettleOutcome(account_id)
    if now_ms < ready_ms:
        # Later than asked (a late log, or a duplicate that raised the mark without one): the request
        # moves to that instant, unless another one already has.
        if ready_ms > due_ms and not stats_store.raise_settle_due(account_id, ready_ms):
            return SettleOutcome(account_id, superseded=True)
        target = max(ready_ms, due_ms)
        delay = delay_until(target, now_ms)
        settling.request_settling(account_id, target, delay)
        return SettleOutcome(account_id, asked_again_in_s=delay)
    settling.put_settle_markers(account_id, behind, now_ms)
    return SettleOutcome(account_id, markers=behind)
