"""When the rollups may answer for a time range: the settled horizon of an account. Pure: no I/O.

Rollups lag the logs by the aggregator's delay, and a log may be ingested long after it was created (a
gateway that queued its messages through an outage). Totals and summaries taken from rollups must never
miss such a log, so the list and enhanced endpoints read rollups only where every log is known to be
folded in, and the raw logs after that (decisions §16).

Three facts make it exact:

* Ingest stamps each log with ``ingested_ms`` before writing it, and writes it within ``SETTLE_MS`` of
  the stamp (the ingest function times out sooner; a test holds the template to it).
* The aggregator applies the records of one log partition in stream order and then records, per
  partition, the stamp of a log it has applied. Every log of that partition stamped ``SETTLE_MS``
  earlier was written before it, so it came earlier in the stream and is applied too.
* A log whose stamp is more than ``LATE_AFTER_MS`` past its creation is *late*: before writing it,
  ingest raises the account's late-arrival marks (the latest stamp, the earliest creation). Every other
  log was stamped within ``LATE_AFTER_MS`` of its creation.

So, with ``S`` the smallest partition horizon, every log created before ``S - LATE_AFTER_MS`` is folded
into the rollups, unless a late log stamped after ``S`` may be missing, in which case the rollups are not
used for ranges reaching back to that late log's creation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from request_logs.domain.rollups import HOUR_MS

# At least the ingest function's timeout: a log is written no later than this after its stamp.
SETTLE_MS = 120_000
# A log ingested more than this after its creation is late and is announced before it is written.
LATE_AFTER_MS = 300_000


def is_late(created_ms: int, ingested_ms: int) -> bool:
    return ingested_ms - created_ms > LATE_AFTER_MS


@dataclass(frozen=True)
class Progress:
    """What the stats table knows of one account's logs: the aggregator's and ingest's marks."""

    applied_stamps: dict[int, int] = field(default_factory=dict)  # log shard → stamp of an applied log
    late_ingested_max: int | None = None  # latest stamp of a late log
    late_created_min: int | None = None  # earliest creation of a late log
    settle_due: int | None = None  # the instant the latest settle request is for (logic/settle)


def rollups_settled_before(progress: Progress, shards_with_logs: frozenset[int], range_end_ms: int) -> int | None:
    """Every log created before the returned instant (an hour boundary) is in the rollups.

    ``shards_with_logs`` are the account's log shards that hold retained logs: a shard without any
    cannot hide an unapplied one, a shard with logs but no applied stamp leaves nothing settled (None).
    A late log that may not be applied yet makes ranges ending after its creation unsettled (None).
    """
    stamps = [progress.applied_stamps.get(shard) for shard in shards_with_logs]
    if any(stamp is None for stamp in stamps):
        return None
    if not stamps:
        return None  # no logs at all: nothing for rollups to answer, the raw read is empty and exact
    horizon = min(stamp for stamp in stamps if stamp is not None) - SETTLE_MS
    late_may_be_pending = progress.late_ingested_max is not None and progress.late_ingested_max > horizon
    if late_may_be_pending and progress.late_created_min is not None and progress.late_created_min < range_end_ms:
        return None
    settled = horizon - LATE_AFTER_MS
    return settled - settled % HOUR_MS


# ---------------------------------------------------------------- settling after late logs
# The horizon moves only when newer logs are applied. After a backfill of late logs (a gateway flushing
# its outage queue, an import) an account that then goes quiet would keep ``late_may_be_pending`` true for
# good, and every total would read its logs one by one. A settle marker is a log-less item written into a
# log partition with a stamp taken just before the write, like ingest's: the aggregator records its stamp
# like a log's, so the same argument makes it a valid horizon for its partition.


def settle_ready_ms(progress: Progress) -> int | None:
    """From when markers stamped then clear the latest late log (None: no late log was ever announced)."""
    if progress.late_ingested_max is None:
        return None
    return progress.late_ingested_max + SETTLE_MS


def shards_holding_back(progress: Progress, shards: range) -> list[int]:
    """The log shards whose horizon does not yet pass the latest late log: the ones a marker must move.
    A shard without a stamp counts (it may hold logs); a marker gives it one."""
    if progress.late_ingested_max is None:
        return []
    late = progress.late_ingested_max
    return [
        shard for shard in shards if (stamp := progress.applied_stamps.get(shard)) is None or stamp - SETTLE_MS < late
    ]
