"""The export function's use case: one run of an export, from its checkpoint to its end or its next run.

A run (one message of the export queue):

1. claims the export's lease for the message's step (``store/exports.claim``). A message for a step the
   export has moved past, or for a finished export, is a no-op; one that finds a live run holding the
   lease is retried later (``ExportBusy``);
2. reads the filtered logs page by page through the list's own walk (``logic/pages.walk_page``: the same
   bounded reads, snapshot and exact total), from the checkpointed position, and streams rows into the
   current part, a local temporary file (memory holds a page, never a part);
3. ends the part at a page boundary once it is full (``PartLimits``), or when the walk ends, or when the
   Lambda's remaining time gets short: uploads it (one PUT, streamed from the file), then checkpoints, in
   one conditional write, the part (rows, bytes, SHA-256), the position after its last row and the rows so
   far, as the export's next step;
4. with time short, sends the next step's message to the queue, then ends its lease and hands the export
   to that message: the next run continues from the checkpoint, so an export has no size limit from the
   15-minute timeout, and this run's message, redelivered, is a no-op;
5. at the end of the walk writes the manifest and marks the export succeeded, which frees the account.

Crash safety: a run that dies (or fails to send its next message) never hands over, so its own message,
redelivered once its lease is over, still owns the export and resumes from the last checkpoint; a part
uploaded but not checkpointed is written again, to the same key, and only checkpointed parts are in the
manifest: every row exactly once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import IO, Any

from request_logs.domain.errors import UseCaseError
from request_logs.domain.exports import (
    STALL_MS,
    TERMINAL_STATUSES,
    PartLimits,
    export_expiry_ms,
    export_visible,
    part_name,
)
from request_logs.domain.log import RequestLog
from request_logs.domain.ordering import Ordering
from request_logs.domain.ranges import anchored
from request_logs.domain.reads import ReadStats
from request_logs.domain.retention import content_visible
from request_logs.domain.timeutil import format_ms
from request_logs.logic.cursors import CursorState, state_from_dict, state_to_dict
from request_logs.logic.export_files import open_part
from request_logs.logic.exports import export_file, query_from_dict
from request_logs.logic.pages import walk_page
from request_logs.models.export_rows import Content, export_columns, export_row
from request_logs.models.exports import ExportMessage
from request_logs.store import content as content_store
from request_logs.store import exports as export_store
from request_logs.store import keys
from request_logs.store.exports import StoredExport, StoredPart

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
# A run's lease outlasts the longest run (the function's 15-minute timeout) with a margin; the queue's
# visibility timeout is longer still, so a crashed run's message comes back only once its lease is over.
LEASE_MS = 16 * 60_000
_HASH_CHUNK = 1024 * 1024


class ExportBusy(Exception):
    """Another run holds the export's lease: the message is retried later (a batch item failure)."""


class Outcome(Enum):
    SKIPPED = "skipped"  # finished, gone, or a step the export has moved past: nothing to do
    CONTINUED = "continued"  # checkpointed and handed over to the next run's message
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the export cannot be completed (a use-case refusal): marked failed
    LOST_LEASE = "lost_lease"  # a checkpoint found the export moved on under another run: stopped


@dataclass
class RunResult:
    outcome: Outcome
    rows: int = 0  # written by this run (in checkpointed parts)
    parts: int = 0
    reads: ReadStats = field(default_factory=ReadStats)


@dataclass
class _Run:
    record: StoredExport
    token: str
    limits: PartLimits
    remaining_ms: Callable[[], int]
    now: Callable[[], int]
    reads: ReadStats
    result: RunResult

    @property
    def account_id(self) -> str:
        return self.record.account_id

    @property
    def export_id(self) -> str:
        return self.record.export_id


def run_export(
    message: ExportMessage,
    *,
    remaining_ms: Callable[[], int],
    now: Callable[[], int],
    limits: PartLimits | None = None,
) -> RunResult:
    """One run of the export ``message`` names (module docstring). Raises ``ExportBusy`` when another run
    holds its lease, and any unexpected error after ending this run's lease (the message is then retried)."""
    limits = limits or PartLimits()
    reads = ReadStats()
    result = RunResult(Outcome.SKIPPED, reads=reads)
    now_ms = now()
    current = export_store.get_export(message.account_id, message.export_id, reads)
    if current is None or not export_visible(current.created_ms, now_ms) or current.status in TERMINAL_STATUSES:
        return result
    if message.step not in (current.step, current.claimed_step):
        return result  # a step the export has moved past (a duplicate or an old redelivery)
    token = os.urandom(16).hex()
    claimed = export_store.claim(
        message.account_id,
        message.export_id,
        step=message.step,
        token=token,
        now_ms=now_ms,
        lease_until_ms=now_ms + LEASE_MS,
    )
    if claimed is None:
        latest = export_store.get_export(message.account_id, message.export_id, reads)
        if (
            latest is not None
            and latest.status not in TERMINAL_STATUSES
            and latest.lease_held(now())
            and message.step in (latest.step, latest.claimed_step)
        ):
            raise ExportBusy(f"export {message.export_id} is being run")
        return result  # finished or moved on meanwhile
    run = _Run(claimed, token, limits, remaining_ms, now, reads, result)
    # The account's lock names this export while it runs (a redriven export that lost it to a newer one
    # stops here rather than run beside it).
    if not export_store.refresh_lock(run.account_id, run.export_id, now_ms=now_ms, until_ms=now_ms + STALL_MS):
        _fail(run, "A newer export of the account started while this one was stalled.")
        return result
    try:
        _work(run)
    except UseCaseError as refusal:
        _fail(run, refusal.message)
    except BaseException:
        export_store.release_lease(run.account_id, run.export_id, token=token)
        raise
    return result


def _fail(run: _Run, message: str) -> None:
    export_store.finish(
        run.account_id, run.export_id, token=run.token, status="failed", now_ms=run.now(), error=message
    )
    export_store.release_lock(run.account_id, run.export_id)
    run.result.outcome = Outcome.FAILED


@contextmanager
def _part_file() -> Iterator[IO[bytes]]:
    """A part's bytes on local disk (Lambda's /tmp), deleted once uploaded."""
    with tempfile.TemporaryFile() as file:
        yield file


def _work(run: _Run) -> None:
    record = run.record
    query = query_from_dict(record.query)
    ordering = Ordering()  # newest first, like the list
    columns = export_columns(record.include_content)
    state = state_from_dict(record.cursor) if record.cursor is not None else None
    step, rows = record.step, record.rows
    started = state is not None or record.parts
    done = False
    while not done:
        with _part_file() as file:
            writer = open_part(record.format, columns, file)
            while True:
                page_ms = run.now()
                page = walk_page(
                    query, ordering, limit=run.limits.page_rows, state=state, now_ms=page_ms, reads=run.reads
                )
                if not started:
                    # The first page pins the walk: its instant anchors a default range and ends the snapshot.
                    walk = anchored(query, page_ms)
                    export_store.save_walk(
                        run.account_id,
                        run.export_id,
                        token=run.token,
                        total=page.totals.requests,
                        range_ms=(walk.start_ms, min(walk.end_ms, page_ms + 1)),
                    )
                    started = True
                for log, content in zip(page.logs, _contents(run, page.logs), strict=True):
                    writer.write(export_row(log, content, include_content=record.include_content))
                state = page.next_state
                done = state is None
                time_short = run.remaining_ms() < run.limits.reserve_ms
                if done or time_short or run.limits.part_full(writer.rows, writer.written_bytes()):
                    break
            writer.close()
            part = None
            # An empty part only when the whole export is empty: a file with its header (CSV) or schema (Parquet).
            if writer.rows or (done and not record.parts and not run.result.parts):
                part = _upload_part(run, file, len(record.parts) + run.result.parts + 1, writer.rows)
            rows += writer.rows
            checkpointed = export_store.checkpoint(
                run.account_id,
                run.export_id,
                token=run.token,
                step=step,
                part=part,
                cursor=state_to_dict(state) if state is not None else None,
                rows=rows,
                now_ms=run.now(),
            )
            if not checkpointed:
                run.result.outcome = Outcome.LOST_LEASE
                return
            step += 1
            if part is not None:
                run.result.parts += 1
                run.result.rows += part.rows
            export_store.refresh_lock(run.account_id, run.export_id, now_ms=run.now(), until_ms=run.now() + STALL_MS)
            if done:
                _succeed(run, rows)
                return
            if time_short:
                # The next step's message first, then the lease: should the send fail, this run's own
                # message (redelivered) still owns the export and resumes it from this checkpoint.
                export_store.send_export_message(
                    {"account_id": run.account_id, "export_id": run.export_id, "step": step}
                )
                handed = export_store.hand_over(run.account_id, run.export_id, token=run.token, step=step)
                run.result.outcome = Outcome.CONTINUED if handed else Outcome.LOST_LEASE
                return


def _contents(run: _Run, logs: list[RequestLog]) -> list[Content | None]:
    """The prompt and completion of each log, when asked for and still inside the 30-day retention."""
    if not run.record.include_content:
        return [None] * len(logs)
    now_ms = run.now()
    retained = [log.id for log in logs if content_visible(log.created_ms, now_ms)]
    stored = content_store.get_contents(run.account_id, retained, run.reads) if retained else {}
    contents: list[Content | None] = []
    for log in logs:
        found = stored.get(log.id)
        if found is None or not content_visible(log.created_ms, now_ms):
            contents.append(None)
            continue
        contents.append(Content(content_store.load_body(found, "request"), content_store.load_body(found, "response")))
    return contents


def _upload_part(run: _Run, file: IO[bytes], number: int, rows: int) -> StoredPart:
    size = file.seek(0, os.SEEK_END)
    file.seek(0)
    digest = hashlib.sha256()
    while chunk := file.read(_HASH_CHUNK):
        digest.update(chunk)
    file.seek(0)
    key = keys.export_object_key(run.account_id, run.export_id, part_name(number, run.record.format))
    export_store.upload(export_file(run.record, key), file)
    return StoredPart(number=number, key=key, rows=rows, bytes=size, sha256=digest.hexdigest())


def _succeed(run: _Run, rows: int) -> None:
    """The manifest (from the checkpointed record: exactly the parts recorded), then the end."""
    record = export_store.get_export(run.account_id, run.export_id, run.reads)
    if record is None or record.lease_token != run.token:
        run.result.outcome = Outcome.LOST_LEASE
        return
    finished_ms = run.now()
    manifest = manifest_of(replace(record, finished_ms=finished_ms))
    key = keys.export_object_key(run.account_id, run.export_id, MANIFEST_NAME)
    with tempfile.TemporaryFile() as file:
        file.write(json.dumps(manifest, indent=2).encode() + b"\n")
        file.seek(0)
        export_store.upload(export_file(record, key), file)
    if export_store.finish(
        run.account_id, run.export_id, token=run.token, status="succeeded", now_ms=finished_ms, manifest_key=key
    ):
        export_store.release_lock(run.account_id, run.export_id)
        run.result.outcome = Outcome.SUCCEEDED
    else:
        run.result.outcome = Outcome.LOST_LEASE


def manifest_of(record: StoredExport) -> dict[str, Any]:
    """What ``manifest.json`` says: the parts in order with their rows and SHA-256, the format, the filters
    as given and the range the walk covered, and when the export was created and finished."""
    return {
        "version": MANIFEST_VERSION,
        "export_id": record.export_id,
        "format": record.format,
        "compression": "zstd (inside the Parquet file)" if record.format == "parquet" else "gzip",
        "include_content": record.include_content,
        "filters": record.filters,
        "range": {"start": format_ms(record.range_ms[0]), "end": format_ms(record.range_ms[1])}
        if record.range_ms is not None
        else None,
        "order": "created_at desc, then id desc",
        "rows": sum(part.rows for part in record.parts),
        "parts": [
            {
                "number": part.number,
                "name": part.key.rsplit("/", 1)[-1],
                "rows": part.rows,
                "bytes": part.bytes,
                "sha256": part.sha256,
            }
            for part in record.parts
        ],
        "created_at": format_ms(record.created_ms),
        "finished_at": format_ms(record.finished_ms) if record.finished_ms is not None else None,
        "expires_at": format_ms(export_expiry_ms(record.created_ms)),
    }


def state_of(record: StoredExport) -> CursorState | None:
    """Where the export's walk stands (tests and tools)."""
    return state_from_dict(record.cursor) if record.cursor is not None else None
