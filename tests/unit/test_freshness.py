"""The settled horizon (``domain/freshness``) and the write-side facts it rests on: ingest's timeout bounds
how long after its stamp a log is written, the stamp survives the stored item, and the aggregator takes a
partition's stamp only from records applied together with every earlier one of that partition."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal

import pytest

from local.emulator.events import dynamodb_stream_record
from local.stack.template import load_template
from request_logs.domain.freshness import (
    LATE_AFTER_MS,
    SETTLE_MS,
    Progress,
    is_late,
    rollups_settled_before,
    settle_ready_ms,
    shards_holding_back,
)
from request_logs.domain.log import RequestLog
from request_logs.domain.rollups import HOUR_MS
from request_logs.logic.aggregate import StreamLog, applied_stamps, late_stamps, stream_log_from
from request_logs.logic.settle import delay_until
from request_logs.store import keys
from request_logs.store.items import log_from_item, log_to_item
from request_logs.store.keys import log_shard
from tests.unit.test_rollups import log

H0 = 1_794_960_000_000 + 13 * HOUR_MS  # 2026-11-19T13:00:00Z, an hour boundary
# A stamp whose settled instant is exactly H0: the horizon is the stamp less SETTLE_MS, and logs created
# LATE_AFTER_MS before the horizon are the last ones known to be stamped by then.
EXACT = H0 + SETTLE_MS + LATE_AFTER_MS
EVERY_SHARD = frozenset(range(keys.LOG_SHARDS))
END = H0 + 10 * HOUR_MS


def progress(stamp: int = EXACT, **changes: object) -> Progress:
    base = Progress(applied_stamps=dict.fromkeys(EVERY_SHARD, stamp))
    return replace(base, **changes)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the template holds ingest to SETTLE_MS
def test_the_ingest_function_times_out_before_a_stamp_settles() -> None:
    """A log is written no later than the function's timeout after its stamp: the horizon waits SETTLE_MS."""
    template = load_template()
    ingest = template.functions()["IngestFunction"]  # its own Timeout, else the template's Globals
    assert ingest.timeout * 1000 <= SETTLE_MS


# ------------------------------------------------------------------ rollups_settled_before
def test_no_shard_with_logs_settles_nothing() -> None:
    assert rollups_settled_before(progress(), frozenset(), END) is None


def test_a_shard_with_logs_but_no_applied_stamp_settles_nothing() -> None:
    stamps = {shard: EXACT for shard in EVERY_SHARD if shard != 5}
    assert rollups_settled_before(Progress(applied_stamps=stamps), EVERY_SHARD, END) is None
    # Without logs in shard 5 there is nothing there the rollups could lack.
    assert rollups_settled_before(Progress(applied_stamps=stamps), EVERY_SHARD - {5}, END) == H0


def test_the_slowest_shard_with_logs_sets_the_horizon_and_shards_without_logs_do_not() -> None:
    stamps = {0: EXACT + 5 * HOUR_MS, 1: EXACT + 2 * HOUR_MS, 2: EXACT}
    assert rollups_settled_before(Progress(applied_stamps=stamps), frozenset({0, 1}), END) == H0 + 2 * HOUR_MS
    assert rollups_settled_before(Progress(applied_stamps=stamps), frozenset({0, 1, 2}), END) == H0


@pytest.mark.parametrize(
    ("stamp", "settled"),
    [
        (EXACT, H0),  # on an hour boundary: kept
        (EXACT - 1, H0 - HOUR_MS),  # one millisecond short: the whole hour is not settled
        (EXACT + HOUR_MS - 1, H0),
        (EXACT + HOUR_MS, H0 + HOUR_MS),
    ],
)
def test_the_settled_instant_is_floored_to_an_hour(stamp: int, settled: int) -> None:
    assert rollups_settled_before(progress(stamp), EVERY_SHARD, END) == settled


def test_a_late_log_that_may_be_pending_unsettles_ranges_reaching_its_creation() -> None:
    horizon = EXACT - SETTLE_MS
    created = H0 - 30 * HOUR_MS
    pending = progress(late_ingested_max=horizon + 1, late_created_min=created)
    assert rollups_settled_before(pending, EVERY_SHARD, END) is None
    assert rollups_settled_before(pending, EVERY_SHARD, created + 1) is None
    # A range that ends at (exclusive) or before its creation cannot hold it.
    assert rollups_settled_before(pending, EVERY_SHARD, created) == H0
    assert rollups_settled_before(pending, EVERY_SHARD, created - HOUR_MS) == H0


def test_a_late_log_stamped_by_the_horizon_is_applied_and_changes_nothing() -> None:
    horizon = EXACT - SETTLE_MS
    applied = progress(late_ingested_max=horizon, late_created_min=H0 - 30 * HOUR_MS)
    assert rollups_settled_before(applied, EVERY_SHARD, END) == H0


def test_a_half_raised_pair_of_late_marks_announces_no_written_log() -> None:
    """Ingest writes a late log only once both marks are raised; a failure between the two updates leaves
    the stamp raised alone, and no late log was written under it."""
    half = progress(late_ingested_max=EXACT + HOUR_MS)
    assert rollups_settled_before(half, EVERY_SHARD, END) == H0


def test_lateness_is_measured_from_creation_to_the_stamp() -> None:
    assert not is_late(H0, H0 + LATE_AFTER_MS)
    assert is_late(H0, H0 + LATE_AFTER_MS + 1)


# ------------------------------------------------------------------ the stamp on the stored item
def test_the_stamp_is_stored_and_read_back_as_an_integer() -> None:
    stamped = replace(log(), ingested_ms=H0 + 123)
    item = log_to_item(stamped)
    assert item["ingested_ms"] == H0 + 123
    # DynamoDB gives numbers back as Decimal (a stream image, a GetItem through the deserializer).
    read = log_from_item({**item, "ingested_ms": Decimal(H0 + 123)})
    assert read == stamped and type(read.ingested_ms) is int
    # Logs written before ingest stamped them read back without a stamp.
    unstamped = {name: value for name, value in item.items() if name != "ingested_ms"}
    assert log_from_item(unstamped).ingested_ms is None


# ------------------------------------------------------------------ the aggregator's applied stamps
def entries_by_partition(per_shard: int = 4) -> list[StreamLog]:
    """Logs of several shards interleaved in stream order, each stamped after its sequence number, so a
    stamp tells how far into the batch a record was."""
    by_shard: dict[int, list[RequestLog]] = {}
    for position in itertools.count():
        candidate = log(position)
        if log_shard(candidate.id) in by_shard or len(by_shard) < 3:
            by_shard.setdefault(log_shard(candidate.id), []).append(candidate)
        if len(by_shard) == 3 and all(len(logs) >= per_shard for logs in by_shard.values()):
            break
    ordered = [logs[i] for i in range(per_shard) for logs in by_shard.values()]  # round robin
    return [StreamLog.of_log(replace(entry, ingested_ms=n), str(1000 + n)) for n, entry in enumerate(ordered)]


def brute_stamps(entries: list[StreamLog], cut: dict[str, int], cut_all: int | None) -> dict[int, int]:
    best: dict[int, int] = {}
    for entry in entries:
        limits = [limit for limit in (cut.get(entry.partition), cut_all) if limit is not None]
        if limits and entry.sequence >= min(limits):
            continue
        assert entry.stamp is not None
        best[entry.shard] = max(best.get(entry.shard, 0), entry.stamp)
    return best


def test_every_partition_gives_its_latest_stamp_when_nothing_failed() -> None:
    entries = entries_by_partition()
    stamps = applied_stamps(entries, set(), set())
    assert stamps == {"acct_unit": brute_stamps(entries, {}, None)}
    assert len(stamps["acct_unit"]) == 3


def test_a_failed_record_cuts_its_own_partition_only() -> None:
    entries = entries_by_partition()
    victim = entries[3]  # the second record of the first partition (round robin over three)
    last_of_its_partition = max(e.sequence for e in entries if e.partition == victim.partition)
    failed = {victim.sequence, last_of_its_partition}
    stamps = applied_stamps(entries, failed, set())["acct_unit"]
    assert stamps == brute_stamps(entries, {victim.partition: victim.sequence}, None)
    assert stamps[victim.shard] == entries[0].stamp  # only the record before the failure
    others = {e.shard: e.stamp for e in entries if e.partition != victim.partition}
    assert {shard: stamps[shard] for shard in others} == others  # the latest of each other partition


def test_a_failed_first_record_leaves_its_partition_without_a_stamp() -> None:
    entries = entries_by_partition()
    stamps = applied_stamps(entries, {entries[0].sequence}, set())["acct_unit"]
    assert entries[0].shard not in stamps
    assert len(stamps) == 2


def test_an_unparsed_record_cuts_every_partition() -> None:
    """A poison record names no partition it could be trusted for: nothing after it gives a stamp."""
    entries = entries_by_partition()
    poison = entries[5].sequence  # a sequence number in the batch that no entry carries
    kept = [entry for entry in entries if entry.sequence != poison]
    stamps = applied_stamps(kept, set(), {poison})["acct_unit"]
    assert stamps == brute_stamps(kept, {}, poison)
    assert max(stamps.values()) < poison - 1000
    assert applied_stamps(kept, set(), {-1}) == {}  # a record without a sequence number: no place at all


def test_logs_without_a_stamp_give_none() -> None:
    entries = [replace(entry, stamp=None) for entry in entries_by_partition()]
    assert applied_stamps(entries, set(), set()) == {}


def test_stamps_are_kept_per_account() -> None:
    entries = entries_by_partition()
    other = [
        StreamLog.of_log(replace(entry.log, account_id="acct_other", ingested_ms=7), entry.sequence_number)
        for entry in entries[:1]
        if entry.log is not None
    ]
    stamps = applied_stamps([*entries, *other], set(), set())
    assert stamps["acct_other"] == {entries[0].shard: 7}
    assert stamps["acct_unit"] == brute_stamps(entries, {}, None)


# ------------------------------------------------------------------ settling (logic/settle)
@pytest.mark.parametrize("late", [None, EXACT - SETTLE_MS - 1, EXACT - SETTLE_MS, EXACT - SETTLE_MS + 1, EXACT])
def test_the_shards_holding_back_are_those_a_late_log_keeps_unsettled(late: int | None) -> None:
    """Brute force: a shard holds back exactly when, without it, the settled instant would be later."""
    stamps = {0: EXACT, 1: EXACT - 10, 3: EXACT + 5}  # shard 2 never applied anything
    marks = Progress(applied_stamps=stamps, late_ingested_max=late, late_created_min=None if late is None else H0 - 1)
    behind = shards_holding_back(marks, range(4))
    expected = [] if late is None else [s for s in range(4) if s not in stamps or stamps[s] - SETTLE_MS < late]
    assert behind == expected
    # Markers stamped when settling is ready give every shard a stamp that clears the late log.
    ready = settle_ready_ms(marks)
    if ready is not None:
        settled = replace(marks, applied_stamps={**stamps, **dict.fromkeys(behind, ready)})
        assert shards_holding_back(settled, range(4)) == []
        assert rollups_settled_before(settled, frozenset(range(4)), END) is not None


def test_the_delay_asked_for_reaches_the_ready_instant_whatever_the_milliseconds() -> None:
    for gap_ms in (0, 1, 999, 1000, 1001, SETTLE_MS):
        delay = delay_until(EXACT + gap_ms, EXACT)
        assert EXACT + delay * 1000 >= EXACT + gap_ms
        assert delay * 1000 - gap_ms < 3000  # the margin, not more
    assert delay_until(EXACT - 5000, EXACT) == delay_until(EXACT, EXACT)  # late already: at once (plus margin)


def test_a_settle_marker_record_gives_its_partition_a_stamp_and_no_log() -> None:
    account = "acct_unit"
    image = {
        "pk": {"S": keys.log_pk(account, 5)},
        "sk": {"S": keys.settle_marker_sk(EXACT)},
        "ingested_ms": {"N": str(EXACT)},
        "expires_at": {"N": str(EXACT // 1000 + 86_400)},
    }
    record = dynamodb_stream_record(
        event_name="INSERT",
        keys={n: image[n] for n in ("pk", "sk")},
        sequence_number="42",
        stream_arn="arn:s",
        new_image=image,
    )
    entry = stream_log_from(record)
    assert (entry.account_id, entry.shard, entry.stamp, entry.log, entry.partition) == (
        account,
        5,
        EXACT,
        None,
        keys.log_pk(account, 5),
    )
    # With the logs of a batch: it moves its partition's stamp like a log, cut by a failure before it.
    logs = entries_by_partition()
    marker = replace(entry, partition=logs[0].partition, shard=logs[0].shard, sequence=10**6, stamp=EXACT)
    assert applied_stamps([*logs, marker], set(), set())[account][logs[0].shard] == EXACT
    assert applied_stamps([*logs, marker], {logs[0].sequence}, set())[account].get(logs[0].shard) is None
    assert late_stamps([*logs, marker], set()) == {}  # a marker is no late log


def test_no_range_of_creation_instants_reaches_a_marker() -> None:
    low, high = keys.sk_range(0, 9_999_999_999_999)
    assert not low <= keys.settle_marker_sk(EXACT) <= high
    assert keys.is_settle_marker_sk(keys.settle_marker_sk(0))
    assert not keys.is_settle_marker_sk(keys.log_sk(EXACT, "log_x"))
