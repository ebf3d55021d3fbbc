"""``rlogs export``: every log of a filtered set into one NDJSON, CSV or Parquet file, resumable.

How rows reach the file is an ``ExportSource``. Today there is one, ``PagedExport``: it pages through
``/enhanced`` by cursor (its rows are the list's plus the token and cost breakdown, user and metadata, and
it takes every list filter plus cost bounds and order). ``select_export_source`` is where a server-side
source plugs in (``POST /api/account/request-logs/exports``, poll ``GET …/exports/{id}``, download the
presigned parts): same job, same output file, same state file beside it, with its own ``source`` name.

Bounded memory: one page (at most 100 logs) is held at a time; Parquet is written from a spool file in
row groups of ``ROW_GROUP_ROWS``.

Resume: after every page the rows are written, flushed and synced, then ``OUTPUT.state.json`` is replaced
atomically with the cursor of the next page, the rows written and the output's size. ``--resume`` reads
it, refuses other filters or another format, truncates the output back to that size (a page half
written when the process died is dropped) and continues from the cursor. So a log is written exactly once
however the run was cut. A Parquet file cannot be appended to once its writer is gone, so a Parquet
export spools its rows to ``OUTPUT.spool.ndjson`` (resumed the same way) and writes the Parquet file from
it when the last page is in.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from request_logs_client import _json
from request_logs_client._client import Client
from request_logs_client.cli.render import as_data

ExportFormat = Literal["ndjson", "csv", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("ndjson", "csv", "parquet")
STATE_VERSION = 1
ROW_GROUP_ROWS = 10_000
MAX_PAGE_SIZE = 100


class ExportError(Exception):
    """An export that cannot start or resume, with a sentence for the person running it."""


@dataclass(frozen=True)
class ExportJob:
    output: Path
    format: ExportFormat
    filters: Mapping[str, Any]
    """The ``/enhanced`` parameters (no limit, offset or cursor): the export's identity for ``--resume``."""
    page_size: int = MAX_PAGE_SIZE
    resume: bool = False
    overwrite: bool = False

    @property
    def state_path(self) -> Path:
        return self.output.with_name(self.output.name + ".state.json")

    @property
    def spool_path(self) -> Path:
        return self.output.with_name(self.output.name + ".spool.ndjson")


@dataclass
class ExportState:
    """What ``OUTPUT.state.json`` holds: enough to continue without writing a row twice."""

    source: str
    format: str
    filters: dict[str, Any]
    page_size: int
    position: str | None = None  # the source's opaque position: for PagedExport, the next page's cursor
    rows: int = 0
    bytes: int = 0  # size of the file rows are appended to (the output, or Parquet's spool) at the checkpoint
    total: int | None = None
    paged_all: bool = False
    version: int = STATE_VERSION
    updated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


@dataclass(frozen=True)
class ExportResult:
    output: Path
    rows: int
    resumed_from: int


class ExportProgress(Protocol):
    def begin(self, description: str, total: int | None, completed: int) -> None: ...

    def advance(self, rows: int) -> None: ...

    def notice(self, text: str) -> None: ...


class ExportSource(Protocol):
    """One way of filling ``job.output``; ``name`` is recorded in the state file so that a resume
    continues with the source that started."""

    name: str

    def run(self, job: ExportJob, progress: ExportProgress) -> ExportResult: ...


def select_export_source(client: Client, job: ExportJob) -> ExportSource:
    """The source for ``job``. The seam for the server-side export: when the API offers
    ``POST /api/account/request-logs/exports``, a ``ServerExport`` source is chosen here for large sets
    (the filtered total from one ``limit=1`` page above a threshold, or a ``--server-side`` flag), and a
    state file naming another source resumes with that source."""
    return PagedExport(client)


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


# --- the rows -------------------------------------------------------------------------------------------

# The flat columns of CSV and Parquet, in order, with their Parquet kinds. NDJSON keeps the API's objects.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "string"),
    ("request_id", "string"),
    ("created_at", "timestamp"),
    ("model", "string"),
    ("provider", "string"),
    ("status", "string"),
    ("status_code", "int"),
    ("latency_ms", "int"),
    ("api_key_id", "string"),
    ("api_key_prefix", "string"),
    ("user", "string"),
    ("metadata", "map"),
    ("input_tokens", "int"),
    ("output_tokens", "int"),
    ("total_tokens", "int"),
    ("cached_input_tokens", "int"),
    ("cache_creation_input_tokens", "int"),
    ("reasoning_tokens", "int"),
    ("cost", "decimal"),
    ("input_cost", "decimal"),
    ("output_cost", "decimal"),
    ("cached_input_cost", "decimal"),
    ("cache_creation_input_cost", "decimal"),
    ("reasoning_cost", "decimal"),
    ("cost_source", "string"),
    ("catalog_version", "string"),
    ("input_per_million", "decimal"),
    ("output_per_million", "decimal"),
    ("cached_input_per_million", "decimal"),
    ("cache_creation_input_per_million", "decimal"),
    ("reasoning_per_million", "decimal"),
    ("above_input_tokens", "int"),
    ("error_type", "string"),
    ("error_code", "string"),
    ("error_message", "string"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)


def flatten_log(log: Mapping[str, Any]) -> dict[str, Any]:
    """An ``/enhanced`` log as one flat row: the breakdowns as columns, ``cost`` the total (None unpriced)."""
    tokens = log.get("tokens") or {}
    cost = log.get("cost") or {}
    pricing = log.get("pricing") or {}
    error = log.get("error") or {}
    return {
        "id": log["id"],
        "request_id": log.get("request_id"),
        "created_at": log["created_at"],
        "model": log.get("model"),
        "provider": log.get("provider"),
        "status": log.get("status"),
        "status_code": log.get("status_code"),
        "latency_ms": log.get("latency_ms"),
        "api_key_id": log.get("api_key_id"),
        "api_key_prefix": log.get("api_key_prefix"),
        "user": log.get("user"),
        "metadata": dict(log.get("metadata") or {}),
        "input_tokens": log.get("input_tokens"),
        "output_tokens": log.get("output_tokens"),
        "total_tokens": log.get("total_tokens"),
        "cached_input_tokens": tokens.get("cached_input"),
        "cache_creation_input_tokens": tokens.get("cache_creation_input"),
        "reasoning_tokens": tokens.get("reasoning"),
        "cost": cost.get("total"),
        "input_cost": cost.get("input"),
        "output_cost": cost.get("output"),
        "cached_input_cost": cost.get("cached_input"),
        "cache_creation_input_cost": cost.get("cache_creation_input"),
        "reasoning_cost": cost.get("reasoning"),
        "cost_source": log.get("cost_source"),
        "catalog_version": log.get("catalog_version"),
        "input_per_million": pricing.get("input_per_million"),
        "output_per_million": pricing.get("output_per_million"),
        "cached_input_per_million": pricing.get("cached_input_per_million"),
        "cache_creation_input_per_million": pricing.get("cache_creation_input_per_million"),
        "reasoning_per_million": pricing.get("reasoning_per_million"),
        "above_input_tokens": pricing.get("above_input_tokens"),
        "error_type": error.get("type"),
        "error_code": error.get("code"),
        "error_message": error.get("message"),
    }


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return _json.dumps(dict(sorted(value.items())))
    return str(value)


# --- appending rows with checkpoints -------------------------------------------------------------------


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


class RowWriter(Protocol):
    def write(self, logs: Sequence[Mapping[str, Any]]) -> None: ...

    def checkpoint(self) -> int: ...

    def close(self) -> None: ...


class NdjsonWriter:
    """The API's log objects, one per line, money digit for digit."""

    def __init__(self, path: Path, size: int) -> None:
        self._file = AppendFile(path, size)

    def write(self, logs: Sequence[Mapping[str, Any]]) -> None:
        self._file.write("".join(_json.dumps(log) + "\n" for log in logs).encode())

    def checkpoint(self) -> int:
        return self._file.checkpoint()

    def close(self) -> None:
        self._file.close()


class CsvWriter:
    """``COLUMNS`` with a header line; metadata as a JSON object, money in positional notation."""

    def __init__(self, path: Path, size: int) -> None:
        self._file = AppendFile(path, size)
        if size == 0:
            self._write_rows([list(COLUMN_NAMES)])

    def write(self, logs: Sequence[Mapping[str, Any]]) -> None:
        self._write_rows([[csv_cell(row[name]) for name in COLUMN_NAMES] for row in map(flatten_log, logs)])

    def _write_rows(self, rows: list[list[str]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        self._file.write(buffer.getvalue().encode())

    def checkpoint(self) -> int:
        return self._file.checkpoint()

    def close(self) -> None:
        self._file.close()


class SpoolWriter:
    """Parquet's first step: flat rows as NDJSON in the spool file, resumable like the others."""

    def __init__(self, path: Path, size: int) -> None:
        self._file = AppendFile(path, size)

    def write(self, logs: Sequence[Mapping[str, Any]]) -> None:
        self._file.write("".join(_json.dumps(flatten_log(log)) + "\n" for log in logs).encode())

    def checkpoint(self) -> int:
        return self._file.checkpoint()

    def close(self) -> None:
        self._file.close()


def parquet_schema() -> Any:
    import pyarrow as pa

    kinds = {
        "string": pa.string(),
        "int": pa.int64(),
        # Money and prices exactly: the API has at most 12 decimal places and amounts below 10^6.
        "decimal": pa.decimal128(38, 18),
        "timestamp": pa.timestamp("ms", tz="UTC"),
        "map": pa.map_(pa.string(), pa.string()),
    }
    return pa.schema([(name, kinds[kind]) for name, kind in COLUMNS])


def _parquet_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "timestamp":
        return datetime.fromisoformat(value)
    if kind == "map":
        return sorted(value.items())
    if kind == "decimal":
        return Decimal(value)
    return value


def write_parquet_from_spool(spool: Path, output: Path, progress: ExportProgress, rows: int) -> None:
    """Row groups of ``ROW_GROUP_ROWS`` from the spool into ``output`` (written to a temporary name, then
    renamed: an interrupted conversion leaves no half file and simply runs again on ``--resume``)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # checked before paging starts too; kept for a direct call
        raise ExportError(_PYARROW_MISSING) from exc
    schema = parquet_schema()
    kinds = dict(COLUMNS)
    partial = output.with_name(output.name + ".partial")
    progress.begin("writing parquet", rows, 0)
    with pq.ParquetWriter(partial, schema, compression="zstd") as writer, spool.open("rb") as lines:
        for batch in _batches((_json.loads(line) for line in lines), ROW_GROUP_ROWS):
            columns = {name: [_parquet_value(kinds[name], row[name]) for row in batch] for name in COLUMN_NAMES}
            writer.write_table(pa.Table.from_pydict(columns, schema=schema))
            progress.advance(len(batch))
    partial.replace(output)


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


_PYARROW_MISSING = "Parquet needs pyarrow: pip install 'request-logs-client[parquet]' (or pip install pyarrow)"


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
    for leftover in (job.state_path, job.spool_path):
        leftover.unlink(missing_ok=True)
    return ExportState(source=source, format=job.format, filters=filters, page_size=job.page_size), 0


def _describe(filters: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in filters.items()) or "no filters"


# --- the source of today: pages of /enhanced by cursor ----------------------------------------------------


class PagedExport:
    """Pages through ``GET /api/account/request-logs/enhanced`` by cursor, at most 100 logs a call (the
    list's 60 calls a minute make this right for up to some hundred thousand logs; beyond, the server-side
    export is the way)."""

    name = "paged"

    def __init__(self, client: Client) -> None:
        self._client = client

    def run(self, job: ExportJob, progress: ExportProgress) -> ExportResult:
        if job.format == "parquet":
            try:
                import pyarrow  # noqa: F401 - fail before paging, not after
            except ImportError as exc:
                raise ExportError(_PYARROW_MISSING) from exc
        state, resumed_from = start_state(job, self.name)
        if resumed_from:
            progress.notice(f"resuming {job.output}: {resumed_from:,} rows already written")
        if not state.paged_all:
            self._page_into(job, state, progress)
        if job.format == "parquet":
            write_parquet_from_spool(job.spool_path, job.output, progress, state.rows)
            job.spool_path.unlink(missing_ok=True)
        job.state_path.unlink(missing_ok=True)
        return ExportResult(job.output, state.rows, resumed_from)

    def _page_into(self, job: ExportJob, state: ExportState, progress: ExportProgress) -> None:
        path = job.spool_path if job.format == "parquet" else job.output
        writer: RowWriter
        if job.format == "ndjson":
            writer = NdjsonWriter(path, state.bytes)
        elif job.format == "csv":
            writer = CsvWriter(path, state.bytes)
        else:
            writer = SpoolWriter(path, state.bytes)
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
                writer.write([as_data(log) for log in page.logs])
                state.bytes = writer.checkpoint()
                state.rows += len(page.logs)
                state.position = page.pagination.nextCursor
                state.paged_all = state.position is None
                save_state(job.state_path, state)
                progress.advance(len(page.logs))
        finally:
            writer.close()
