"""``rlogs export``: every log of a filtered set into one NDJSON, CSV or Parquet file, resumable.

How rows reach the file is an ``ExportSource``, chosen by ``select_export_source``:

- ``PagedExport`` pages ``/enhanced`` by cursor, at most 100 logs a call (the list's 60 calls a minute:
  about 360,000 logs an hour). It can sort (``--sort``/``--order``) and needs no export slot.
- ``ServerExport`` starts a server-side export (``POST /api/account/request-logs/exports``), follows it
  (``GET …/exports/{id}``) with the progress bar, then downloads its parts through their presigned URLs,
  streamed, checks each against the SHA-256 the status gives, and assembles them into the one output:
  NDJSON and CSV parts gunzipped and appended (CSV keeps the first part's header only), Parquet parts' row
  groups copied into one file. It can include each log's prompt and completion (``--include-content``).

``--mode auto`` (the default) asks the API for the filtered total (one ``limit=1`` page) and exports
server-side above ``SERVER_EXPORT_THRESHOLD`` logs; ``--mode server`` / ``--mode paged`` force either.
Both write the server-side export's own rows (``cli/rows.py``): the same file for the same logs.

Bounded memory: a page (at most 100 logs), a download chunk, or a Parquet row group at a time.

Resume: ``OUTPUT.state.json`` records the source and, after every page or part, what is safely written:
the rows, the output's size, and the next cursor (paged) or the export's id and the parts done (server).
``--resume`` refuses other filters, format or content, truncates the output back to that size (a page or
part half written when the process died is dropped) and continues: the cursor's walk, or the same
server-side export (re-attached, never started twice; its URLs signed again), from the next part. A
Parquet file cannot be appended to once its writer is gone, so paged Parquet spools its rows to
``OUTPUT.spool.ndjson`` and server Parquet keeps verified parts in ``OUTPUT.parts/``; the file is written
from them at the end.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from request_logs_client import _json
from request_logs_client._client import Client
from request_logs_client.cli.render import as_data
from request_logs_client.cli.rows import (
    COLUMNS,
    PYARROW_MISSING,
    ROW_GROUP_ROWS,
    ColumnKind,
    batches,
    csv_cells,
    csv_header,
    csv_lines,
    flatten_log,
    has_pyarrow,
    ndjson_lines,
    parquet_schema,
    parquet_value,
)
from request_logs_client.errors import ConflictError, NotFoundError, PermissionDeniedError
from request_logs_client.models import ExportDetail

ExportFormat = Literal["ndjson", "csv", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("ndjson", "csv", "parquet")
ExportMode = Literal["auto", "server", "paged"]
EXPORT_MODES: tuple[ExportMode, ...] = ("auto", "server", "paged")
# 2: every format writes the server-side export's flat rows, and the server source's fields.
STATE_VERSION = 2
MAX_PAGE_SIZE = 100
# Above this many logs --mode auto exports server-side. Paging moves 6,000 logs a minute, so up to here it
# is done in under two minutes, can sort, and leaves the account's one export slot free; beyond, the
# server-side export's few seconds of queueing and polling are soon repaid (it reads 1,000 logs a page, no
# rate limit, and a million logs download as one compressed part).
SERVER_EXPORT_THRESHOLD = 10_000
POLL_FIRST_S = 1.0
POLL_MAX_S = 5.0  # the status route allows 120 reads a minute; a poll every 5 s keeps the bar moving
URL_MARGIN = timedelta(minutes=1)  # re-sign a part's URL this close to its expiry rather than meet a 403
_COPY_CHUNK = 1024 * 1024
_ORDERED = "a server-side export is newest first: --sort and --order need --mode paged"
_NO_CONTENT_PAGED = (
    "paging the API cannot include prompts and completions: --include-content needs the server-side export "
    "(--mode server or auto)"
)


class ExportError(Exception):
    """An export that cannot start, go on or resume, with a sentence for the person running it.
    ``exit_code``: 2 for a command to correct, 1 for a failure of the export itself."""

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class ExportJob:
    output: Path
    format: ExportFormat
    filters: Mapping[str, Any]
    """The ``/enhanced`` parameters (no limit, offset or cursor): the export's identity for ``--resume``."""
    page_size: int = MAX_PAGE_SIZE
    resume: bool = False
    overwrite: bool = False
    mode: ExportMode = "auto"
    include_content: bool = False
    server_threshold: int = SERVER_EXPORT_THRESHOLD

    @property
    def state_path(self) -> Path:
        return self.beside("state.json")

    @property
    def spool_path(self) -> Path:
        return self.beside("spool.ndjson")

    @property
    def download_path(self) -> Path:
        return self.beside("download")

    @property
    def parts_path(self) -> Path:
        return self.beside("parts")

    def beside(self, suffix: str) -> Path:
        return self.output.with_name(f"{self.output.name}.{suffix}")


@dataclass
class ExportState:
    """What ``OUTPUT.state.json`` holds: enough to continue without writing a row twice."""

    source: str
    format: str
    filters: dict[str, Any]
    page_size: int
    include_content: bool = False
    position: str | None = None  # PagedExport: the next page's cursor
    rows: int = 0
    bytes: int = 0  # size of the file rows are appended to (the output, or Parquet's spool) at the checkpoint
    total: int | None = None
    paged_all: bool = False
    export_id: str | None = None  # ServerExport: the export this output is assembled from
    parts_done: int = 0  # ServerExport: parts downloaded, verified and written (Parquet: kept in OUTPUT.parts/)
    version: int = STATE_VERSION
    updated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


@dataclass(frozen=True)
class ExportResult:
    output: Path
    rows: int
    resumed_from: int
    source: str
    export_id: str | None = None


class ExportProgress(Protocol):
    def begin(self, description: str, total: int | None, completed: int) -> None: ...

    def advance(self, rows: int) -> None: ...

    def notice(self, text: str) -> None: ...


class ExportSource(Protocol):
    """One way of filling ``job.output``; ``name`` is recorded in the state file so that a resume
    continues with the source that started."""

    name: str

    def run(self, job: ExportJob, progress: ExportProgress) -> ExportResult: ...


def select_export_source(
    client: Client, job: ExportJob, notice: Callable[[str], None] | None = None
) -> PagedExport | ServerExport:
    """The source for ``job``: the one that started it when resuming; the one ``--mode`` names; else, by the
    filtered total (one ``limit=1`` call), server-side above ``job.server_threshold``. Content forces the
    server; an order other than newest first forces paging."""
    say = notice or (lambda text: None)
    if job.resume and job.state_path.exists():
        started = load_state(job.state_path).source
        if job.mode not in ("auto", started):
            raise ExportError(f"{job.output} was started by the {started} export: resume it with --mode {started}")
        return source_named(started, client)
    ordered = is_ordered(job.filters)
    if job.mode == "paged":
        if job.include_content:
            raise ExportError(_NO_CONTENT_PAGED)
        return PagedExport(client)
    if job.mode == "server" or job.include_content:
        if ordered:
            raise ExportError(_ORDERED)
        return ServerExport(client)
    if ordered:
        return PagedExport(client)
    total = client.enhanced.list(limit=1, **job.filters).pagination.total
    if total > job.server_threshold:
        say(f"{total:,} logs: exporting server-side (more than {job.server_threshold:,}; --mode paged pages the API)")
        return ServerExport(client)
    return PagedExport(client)


def source_named(name: str, client: Client) -> PagedExport | ServerExport:
    if name == PagedExport.name:
        return PagedExport(client)
    if name == ServerExport.name:
        return ServerExport(client)
    raise ExportError(f"unknown export source {name!r} in the state file; start again with --overwrite")


def is_ordered(filters: Mapping[str, Any]) -> bool:
    """Whether the filters ask for another order than the server-side export's (newest first)."""
    return str(filters.get("sort") or "created_at") != "created_at" or str(filters.get("order") or "desc") != "desc"


def server_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The filters as the export's body takes them: newest first is its only order."""
    return {name: value for name, value in filters.items() if name not in ("sort", "order") and value is not None}


def normalized_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Filters as JSON values, sorted, without unset ones: compared as they are on ``--resume``."""
    out: dict[str, Any] = {}
    for name in sorted(filters):
        value = filters[name]
        if value is None or value == {}:
            continue
        if isinstance(value, Mapping):
            out[name] = {str(key): str(item) for key, item in sorted(value.items())}
        elif isinstance(value, int) and not isinstance(value, bool):
            out[name] = value
        else:
            out[name] = format(value, "f") if isinstance(value, Decimal) else str(value)
    return out


# --- appending with checkpoints ------------------------------------------------------------------------


class AppendFile:
    """A file rows are appended to, truncated back to a checkpoint on open; ``checkpoint()`` makes what was
    written durable and returns the size to record."""

    def __init__(self, path: Path, size: int) -> None:
        if size == 0:
            self._file: IO[bytes] = path.open("wb")
        else:
            actual = path.stat().st_size if path.exists() else -1
            if actual < size:
                raise ExportError(
                    f"{path} is shorter than its checkpoint ({max(actual, 0)} < {size} bytes): it was changed "
                    "since the interruption; start again with --overwrite"
                )
            self._file = path.open("r+b")
            self._file.truncate(size)  # drop what a cut run wrote after its last checkpoint
            self._file.seek(size)

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def checkpoint(self) -> int:
        self._file.flush()
        os.fsync(self._file.fileno())
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


# --- the state file ------------------------------------------------------------------------------------


def save_state(path: Path, state: ExportState) -> None:
    """Replace the state file atomically: a crash leaves the old checkpoint or the new one, never half."""
    state.updated_at = datetime.now(UTC).isoformat()
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        json.dump(asdict(state), file, indent=2)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)


def load_state(path: Path) -> ExportState:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != STATE_VERSION:
            raise ExportError(f"{path} was written by another version of rlogs; start again with --overwrite")
        return ExportState(**raw)
    except (OSError, ValueError, TypeError) as exc:
        raise ExportError(f"cannot read {path} ({exc}); start again with --overwrite") from exc


def start_state(job: ExportJob, source: str) -> tuple[ExportState, int]:
    """The state to run from, and the rows already written before this run (0 when starting)."""
    filters = normalized_filters(job.filters)
    if job.resume and job.state_path.exists():
        state = load_state(job.state_path)
        if state.source != source:
            raise ExportError(f"{job.output} was started by the {state.source} export; resume it with the same")
        if state.format != job.format:
            raise ExportError(
                f"the interrupted export of {job.output} is {state.format}, not {job.format}: "
                f"resume it with --format {state.format}, or start again with --overwrite"
            )
        if state.filters != filters:
            raise ExportError(
                f"the interrupted export of {job.output} used other filters ({_describe(state.filters)}; now "
                f"{_describe(filters)}): resume it with the same filters, or start again with --overwrite"
            )
        if state.include_content != job.include_content:
            flag = "with" if state.include_content else "without"
            raise ExportError(f"the interrupted export of {job.output} ran {flag} --include-content: resume it so")
        return state, state.rows
    if job.resume and job.output.exists() and not job.overwrite:
        raise ExportError(
            f"nothing to resume: {job.output} has no {job.state_path.name} (its export finished); "
            "pass --overwrite to export again"
        )
    if job.state_path.exists() and not job.overwrite:
        raise ExportError(
            f"an interrupted export of {job.output} exists ({job.state_path.name}): "
            "continue it with --resume, or start again with --overwrite"
        )
    if job.output.exists() and not job.overwrite:
        raise ExportError(f"{job.output} exists: pass --overwrite to replace it")
    remove_leftovers(job)
    state = ExportState(
        source=source, format=job.format, filters=filters, page_size=job.page_size, include_content=job.include_content
    )
    return state, 0


def remove_leftovers(job: ExportJob) -> None:
    """What a run keeps beside the output until it ends: the state, the spool, a download, kept parts."""
    for leftover in (job.state_path, job.spool_path, job.download_path):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(job.parts_path, ignore_errors=True)


def _describe(filters: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in filters.items()) or "no filters"


def _require_pyarrow(job: ExportJob) -> None:
    if job.format == "parquet" and not has_pyarrow():
        raise ExportError(PYARROW_MISSING)


# --- paged: pages of /enhanced by cursor ----------------------------------------------------------------


class RowWriter(Protocol):
    def write(self, rows: Sequence[Mapping[str, Any]]) -> None: ...

    def checkpoint(self) -> int: ...

    def close(self) -> None: ...


class NdjsonWriter:
    """Flat rows, one compact JSON object a line, money digit for digit (also Parquet's spool)."""

    def __init__(self, path: Path, size: int) -> None:
        self._file = AppendFile(path, size)

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self._file.write(ndjson_lines(rows))

    def checkpoint(self) -> int:
        return self._file.checkpoint()

    def close(self) -> None:
        self._file.close()


class CsvWriter(NdjsonWriter):
    """The header line first (part of the first checkpoint), then a line per row."""

    def __init__(self, path: Path, size: int) -> None:
        super().__init__(path, size)
        if size == 0:
            self._file.write(csv_header(COLUMNS))

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self._file.write(b"".join(csv_line(row) for row in rows))


def csv_line(row: Mapping[str, Any]) -> bytes:
    return csv_lines([csv_cells(row, COLUMNS)])


def write_parquet_from_spool(
    spool: Path, output: Path, progress: ExportProgress, rows: int, columns: Sequence[tuple[str, ColumnKind]]
) -> None:
    """Row groups of ``ROW_GROUP_ROWS`` from the spool into ``output`` (written to a temporary name, then
    renamed: an interrupted conversion leaves no half file and simply runs again on ``--resume``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(columns)
    partial = output.with_name(output.name + ".partial")
    progress.begin("writing parquet", rows, 0)
    with pq.ParquetWriter(partial, schema, compression="zstd") as writer, spool.open("rb") as lines:
        for batch in batches((_json.loads(line) for line in lines), ROW_GROUP_ROWS):
            data = {name: [parquet_value(kind, row[name]) for row in batch] for name, kind in columns}
            writer.write_table(pa.Table.from_pydict(data, schema=schema))
            progress.advance(len(batch))
    partial.replace(output)


class PagedExport:
    """Pages through ``GET /api/account/request-logs/enhanced`` by cursor, at most 100 logs a call."""

    name = "paged"

    def __init__(self, client: Client) -> None:
        self._client = client

    def run(self, job: ExportJob, progress: ExportProgress) -> ExportResult:
        if job.include_content:
            raise ExportError(_NO_CONTENT_PAGED)
        _require_pyarrow(job)
        state, resumed_from = start_state(job, self.name)
        if resumed_from:
            progress.notice(f"resuming {job.output}: {resumed_from:,} rows already written")
        if not state.paged_all:
            self._page_into(job, state, progress)
        if job.format == "parquet":
            write_parquet_from_spool(job.spool_path, job.output, progress, state.rows, COLUMNS)
            job.spool_path.unlink(missing_ok=True)
        job.state_path.unlink(missing_ok=True)
        return ExportResult(job.output, state.rows, resumed_from, self.name)

    def _page_into(self, job: ExportJob, state: ExportState, progress: ExportProgress) -> None:
        writer: RowWriter
        if job.format == "csv":
            writer = CsvWriter(job.output, state.bytes)
        else:
            writer = NdjsonWriter(job.spool_path if job.format == "parquet" else job.output, state.bytes)
        if state.bytes == 0:  # the header (CSV) is part of the first checkpoint
            state.bytes = writer.checkpoint()
            save_state(job.state_path, state)
        try:
            params: dict[str, Any] = {**job.filters, "limit": state.page_size}
            if state.position is not None:
                params["cursor"] = state.position
            progress.begin(f"exporting {job.output.name}", state.total, state.rows)
            for page in self._client.enhanced.pages(**params):
                if state.total is None:
                    state.total = page.pagination.total
                    progress.begin(f"exporting {job.output.name}", state.total, state.rows)
                writer.write([flatten_log(as_data(log)) for log in page.logs])
                state.bytes = writer.checkpoint()
                state.rows += len(page.logs)
                state.position = page.pagination.nextCursor
                state.paged_all = state.position is None
                save_state(job.state_path, state)
                progress.advance(len(page.logs))
        finally:
            writer.close()


# --- server: one server-side export, its parts downloaded and assembled -----------------------------------


class ServerExport:
    """``POST …/exports`` (or the export already running with the same filters), ``GET …/exports/{id}``
    until it has succeeded, then every part through its presigned URL, checked against its SHA-256."""

    name = "server"

    def __init__(self, client: Client, *, sleep: Callable[[float], None] | None = None) -> None:
        self._client = client
        self._sleep = sleep or client.sleep

    def run(self, job: ExportJob, progress: ExportProgress) -> ExportResult:
        if is_ordered(job.filters):
            raise ExportError(_ORDERED)
        _require_pyarrow(job)
        state, resumed_from = start_state(job, self.name)
        if state.export_id is None:
            state.export_id = self._start(job, progress)
            save_state(job.state_path, state)
        else:
            done = f": {state.parts_done} part(s), {state.rows:,} rows already written" if state.parts_done else ""
            progress.notice(f"resuming {job.output} from server-side export {state.export_id}{done}")
        detail = self._follow(job, state.export_id, progress)
        if job.format == "parquet":
            self._keep_parts(job, state, detail, progress)
            combine_parquet([job.parts_path / part.name for part in detail.parts], job.output, progress, state.rows)
        else:
            self._append_parts(job, state, detail, progress)
        remove_leftovers(job)
        return ExportResult(job.output, state.rows, resumed_from, self.name, state.export_id)

    def _start(self, job: ExportJob, progress: ExportProgress) -> str:
        """The new export's id; or, when the account already runs one of the same logs, that one's."""
        body = server_filters(job.filters)
        for attempt in (1, 2):
            try:
                created = self._client.exports.create(format=job.format, include_content=job.include_content, **body)
            except ConflictError as conflict:
                if conflict.export_id is None:
                    raise ExportError(f"{conflict.message} (--mode paged pages the API instead)", exit_code=1) from None
                running = self._detail(conflict.export_id)
                if same_export(running, job.format, job.include_content, body):
                    progress.notice(f"the account is already exporting these logs: following export {running.id}")
                    return running.id
                if running.status in ("queued", "running") or attempt == 2:
                    raise ExportError(
                        f"the account runs one server-side export at a time, and {running.id} ({running.status}: "
                        f"{running.format}, {_describe(normalized_filters(running.filters))}"
                        f"{', with content' if running.include_content else ''}) is another one. Wait for it to "
                        "finish, or page the API with --mode paged",
                        exit_code=1,
                    ) from None
                continue  # it ended between the POST and the GET: the account is free now
            progress.notice(f"started server-side export {created.id}")
            return created.id
        raise AssertionError("unreachable")

    def _detail(self, export_id: str) -> ExportDetail:
        try:
            return self._client.exports.get(export_id)
        except NotFoundError:
            raise ExportError(
                f"server-side export {export_id} is gone (exports are kept 7 days): start again with --overwrite",
                exit_code=1,
            ) from None

    def _follow(self, job: ExportJob, export_id: str, progress: ExportProgress) -> ExportDetail:
        """Poll until the export has succeeded (its rows against the filtered total on the bar)."""
        wait = POLL_FIRST_S
        while True:
            detail = self._detail(export_id)
            status = str(detail.status)
            progress.begin(
                f"exporting {job.output.name} on the server ({status})", detail.progress.total, detail.progress.rows
            )
            if status == "succeeded":
                return detail
            if status == "failed":
                reason = detail.error.message if detail.error else "no reason given"
                raise ExportError(
                    f"server-side export {export_id} failed: {reason} Start again with --overwrite.", exit_code=1
                )
            self._sleep(wait)
            wait = min(wait * 2, POLL_MAX_S)

    def _append_parts(self, job: ExportJob, state: ExportState, detail: ExportDetail, progress: ExportProgress) -> None:
        """NDJSON and CSV: each part gunzipped onto the output, the output checkpointed after each."""
        progress.begin(f"downloading {job.output.name}", detail.progress.total, state.rows)
        output = AppendFile(job.output, state.bytes)
        try:
            for index in range(state.parts_done, len(detail.parts)):
                part = detail.parts[index]
                detail = self._fetch(detail, index, job.download_path)
                try:
                    with gzip.open(job.download_path, "rb") as data:
                        if job.format == "csv":
                            # Every part starts with the header: the output keeps the first part's.
                            header = data.readline()
                            if index == 0:
                                output.write(header)
                            elif header != _first_line(job.output):
                                raise ExportError(f"{part.name} has other columns than the first part", exit_code=1)
                        while chunk := data.read(_COPY_CHUNK):
                            output.write(chunk)
                except (OSError, EOFError, zlib.error) as exc:
                    raise ExportError(f"{part.name} is not a readable gzip file ({exc})", exit_code=1) from exc
                state.bytes = output.checkpoint()
                self._part_done(job, state, part.rows)
                job.download_path.unlink()
                progress.advance(part.rows)
        finally:
            output.close()

    def _keep_parts(self, job: ExportJob, state: ExportState, detail: ExportDetail, progress: ExportProgress) -> None:
        """Parquet: each part verified into ``OUTPUT.parts/`` (the file is written from them at the end)."""
        progress.begin(f"downloading {job.output.name}", detail.progress.total, state.rows)
        job.parts_path.mkdir(exist_ok=True)
        for index in range(state.parts_done, len(detail.parts)):
            part = detail.parts[index]
            detail = self._fetch(detail, index, job.download_path)
            job.download_path.replace(job.parts_path / part.name)
            self._part_done(job, state, part.rows)
            progress.advance(part.rows)

    @staticmethod
    def _part_done(job: ExportJob, state: ExportState, rows: int) -> None:
        state.parts_done += 1
        state.rows += rows
        save_state(job.state_path, state)

    def _fetch(self, detail: ExportDetail, index: int, destination: Path) -> ExportDetail:
        """Part ``index`` into ``destination``, its bytes checked against the part's size and SHA-256 (a part
        that fails is deleted: nothing of it is written). A URL about to expire, or refused (403), is signed
        again by another GET; the detail whose URL served is returned for the next parts."""
        part = detail.parts[index]
        for attempt in (1, 2):
            if attempt == 2 or _urls_expiring(detail):
                detail = self._detail(detail.id)
            urls = detail.urls or []
            if len(urls) != len(detail.parts):
                mismatch = f"export {detail.id} lists {len(detail.parts)} parts but {len(urls)} URLs"
                raise ExportError(mismatch, exit_code=1)
            try:
                digest, size = self._download(urls[index], destination)
                break
            except PermissionDeniedError as refused:
                destination.unlink(missing_ok=True)
                if attempt == 2:
                    raise ExportError(
                        f"the storage refused {part.name} twice ({refused.message[:200]}); run the same command "
                        "with --resume to try again",
                        exit_code=1,
                    ) from refused
        if (digest, size) != (part.sha256, part.bytes):
            destination.unlink(missing_ok=True)
            raise ExportError(
                f"{part.name} of export {detail.id} failed its check (SHA-256 {digest[:16]}…, {size:,} bytes; "
                f"expected {part.sha256[:16]}…, {part.bytes:,} bytes): nothing of it was written. Run the same "
                "command with --resume to download it again.",
                exit_code=1,
            )
        return detail

    def _download(self, url: str, destination: Path) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        with destination.open("wb") as file:
            for chunk in self._client.exports.download(url):
                digest.update(chunk)
                file.write(chunk)
                size += len(chunk)
            file.flush()
            os.fsync(file.fileno())
        return digest.hexdigest(), size


def same_export(detail: ExportDetail, export_format: str, include_content: bool, filters: Mapping[str, Any]) -> bool:
    """Whether an export of the account writes the rows this job asks for (its filters as the API echoes them)."""
    return (
        str(detail.format) == export_format
        and detail.include_content == include_content
        and normalized_filters(detail.filters) == normalized_filters(filters)
    )


def _urls_expiring(detail: ExportDetail) -> bool:
    if detail.urls_expire_at is None:
        return False
    expires = datetime.fromisoformat(detail.urls_expire_at.replace("Z", "+00:00"))
    return expires - datetime.now(UTC) < URL_MARGIN


def _first_line(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.readline()


def combine_parquet(parts: Sequence[Path], output: Path, progress: ExportProgress, rows: int) -> None:
    """The parts' row groups, in order, into one Parquet file (a row group in memory at a time), written to a
    temporary name and renamed: an interrupted run writes it again from the kept parts."""
    import pyarrow.parquet as pq

    partial = output.with_name(output.name + ".partial")
    progress.begin("writing parquet", rows, 0)
    writer: Any = None
    try:
        for path in parts:
            with pq.ParquetFile(path) as source:
                if writer is None:
                    writer = pq.ParquetWriter(partial, source.schema_arrow, compression="zstd")
                elif not source.schema_arrow.equals(writer.schema):
                    raise ExportError(f"{path.name} has other columns than the parts before it", exit_code=1)
                for group in range(source.num_row_groups):
                    table = source.read_row_group(group)
                    writer.write_table(table)
                    progress.advance(table.num_rows)
    finally:
        if writer is not None:
            writer.close()
    partial.replace(output)
