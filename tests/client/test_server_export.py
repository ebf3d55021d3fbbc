"""``rlogs export`` from a server-side export, on a stand-in API (httpx.MockTransport): the POST, the polls,
the parts downloaded, checked and assembled in each format (the same file as paging writes), a 409, the
choice of source, an interrupted run re-attached to the same export, a corrupted part, an expired URL.
Against the real stack and its export function: tests/e2e/test_client_cli.py."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from request_logs_client.cli.app import EVERY_KEPT_LOG, app
from request_logs_client.cli.rows import (
    COLUMN_NAMES,
    COLUMNS,
    csv_cells,
    csv_header,
    csv_lines,
    flatten_log,
    ndjson_lines,
    parquet_schema,
    parquet_value,
)
from tests.client.export_files import read_back
from tests.client.fake_api import (
    API_KEY,
    BASE_URL,
    EXPORTS,
    conflict,
    error_body,
    export_created,
    export_detail,
    json_response,
)
from tests.client.test_export import LOGS, enhanced_log, fake_enhanced

PART_ROWS = (3, 3, 1)  # LOGS rows in three parts
ROWS = [flatten_log(enhanced_log(number)) for number in range(LOGS)]


def part_bytes(export_format: str, rows: list[dict[str, Any]]) -> bytes:
    """A part as the export function writes it: gzip around NDJSON or CSV (a header in every part), Parquet."""
    if export_format == "ndjson":
        return gzip.compress(ndjson_lines(rows))
    if export_format == "csv":
        return gzip.compress(csv_header(COLUMNS) + csv_lines(csv_cells(row, COLUMNS) for row in rows))
    schema = parquet_schema(COLUMNS)
    data = {name: [parquet_value(kind, row[name]) for row in rows] for name, kind in COLUMNS}
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pydict(data, schema=schema), buffer, compression="zstd")
    return buffer.getvalue()


class FakeExports:
    """The export routes and the storage host: an export is queued, then running, then succeeded."""

    def __init__(self, export_format: str, *, running: dict[str, Any] | None = None, total: int = LOGS) -> None:
        self.format = export_format
        self.running = running  # an export of the account already in progress: POST answers 409 naming it
        self.total = total
        self.posted: list[dict[str, Any]] = []
        self.polls = 0
        self.url_version = 0  # bumped to sign new URLs (an old one is then a 403)
        self.corrupt: set[int] = set()  # part numbers whose next download is one byte off
        self.interrupt: Callable[[httpx.Request], bool] = lambda request: False
        suffix = {"ndjson": ".ndjson.gz", "csv": ".csv.gz", "parquet": ".parquet"}[export_format]
        self.files: list[tuple[str, bytes]] = []
        start = 0
        for number, rows in enumerate(PART_ROWS, start=1):
            self.files.append((f"part-{number:05d}{suffix}", part_bytes(export_format, ROWS[start : start + rows])))
            start += rows

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.interrupt(request):
            raise KeyboardInterrupt
        if request.url.host == "s3.test":
            return self.download(request)
        if request.url.path.endswith("/enhanced"):
            return fake_enhanced(request)
        if request.method == "POST":
            assert request.url.path == EXPORTS and "authorization" in request.headers
            body = json.loads(request.content)
            if self.running is not None:
                return conflict(self.running["id"])
            self.posted.append(body)
            filters = {k: v for k, v in body.items() if k not in ("format", "include_content")}
            shape = {"format": body["format"], "include_content": body["include_content"]}
            self.running = {
                **export_detail(f"exp_{len(self.posted):027x}", status="queued", **shape),
                "filters": filters,
            }
            return json_response(202, {**export_created(self.running["id"], **shape), "filters": filters})
        assert self.running is not None and request.url.path == f"{EXPORTS}/{self.running['id']}"
        self.polls += 1
        return json_response(200, self.status())

    def status(self) -> dict[str, Any]:
        assert self.running is not None
        statuses = ("queued", "running", "succeeded")
        status = statuses[min(self.polls - 1, 2)]
        rows = {"queued": 0, "running": 3, "succeeded": LOGS}[status]
        parts = [
            {
                "number": number,
                "name": name,
                "rows": rows,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for number, ((name, data), rows) in enumerate(zip(self.files, PART_ROWS, strict=True), start=1)
        ]
        urls = [f"https://s3.test/{name}?X-Amz-Signature=v{self.url_version}" for name, _ in self.files]
        return {
            **self.running,
            "status": status,
            "rows": rows,
            "progress": {"rows": rows, "total": self.total, "fraction": rows / self.total},
            "parts": parts if status == "succeeded" else [],
            "urls": urls if status == "succeeded" else None,
            "finished_at": "2026-01-01T00:01:00.000Z" if status == "succeeded" else None,
            "urls_expire_at": "2999-01-01T00:00:00.000Z" if status == "succeeded" else None,
        }

    def download(self, request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers
        if request.url.params["X-Amz-Signature"] != f"v{self.url_version}":
            return httpx.Response(403, content=b"<Error><Code>AccessDenied</Code>Request has expired</Error>")
        number = int(request.url.path.split("-")[1][:5])
        data = self.files[number - 1][1]
        if number in self.corrupt:
            self.corrupt.discard(number)
            data = data[:-1] + bytes([data[-1] ^ 1])
        return httpx.Response(200, content=data)


def rlogs(
    fake: FakeExports, *args: str, sleeps: list[float] | None = None, env: dict[str, str] | None = None
) -> Result:
    environment = {"RL_BASE_URL": BASE_URL, "RL_API_KEY": API_KEY, "COLUMNS": "250", **(env or {})}
    slept = sleeps if sleeps is not None else []
    obj = {"transport": httpx.MockTransport(fake), "sleep": slept.append}
    return CliRunner().invoke(app, list(args), obj=obj, env=environment)


def export(fake: FakeExports, output: Path, *extra: str, **options: Any) -> Result:
    return rlogs(fake, "export", "-f", fake.format, "-o", str(output), *extra, **options)


@pytest.mark.parametrize("export_format", ["ndjson", "csv", "parquet"])
def test_server_mode_assembles_the_parts_into_the_file_paging_writes(tmp_path: Path, export_format: str) -> None:
    fake = FakeExports(export_format)
    output = tmp_path / f"server.{export_format}"
    sleeps: list[float] = []

    result = export(fake, output, "--mode", "server", "--status", "success", "--min-cost", "0.5", sleeps=sleeps)

    assert result.exit_code == 0, result.output
    assert fake.posted == [
        {
            "format": export_format,
            "include_content": False,
            "status": "success",
            "start_date": EVERY_KEPT_LOG,  # no --start-date: every log the API keeps
            "min_cost": "0.5",
        }
    ]
    assert sleeps == [1.0, 2.0]  # polled while queued and running, backing off
    assert f"wrote {LOGS} logs to {output}, from server-side export exp_" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == [output.name]  # no state, download or parts left
    paged = tmp_path / f"paged.{export_format}"
    assert export(FakeExports(export_format), paged, "--mode", "paged", "--status", "success").exit_code == 0
    if export_format == "parquet":
        assert pq.read_table(output).equals(pq.read_table(paged))
        assert pq.read_table(output).column_names == list(COLUMN_NAMES)
    else:
        assert output.read_bytes() == paged.read_bytes()  # one CSV header, the same rows, the same bytes
    assert [row["id"] for row in read_back(output, export_format)] == [row["id"] for row in ROWS]


def test_a_corrupted_part_is_an_error_and_resume_downloads_it_again(tmp_path: Path) -> None:
    fake = FakeExports("csv")
    fake.corrupt.add(2)
    output = tmp_path / "logs.csv"

    failed = export(fake, output, "--mode", "server")

    assert failed.exit_code == 1, failed.output
    assert "part-00002.csv.gz" in failed.stderr and "failed its check" in failed.stderr
    assert "nothing of it was written" in failed.stderr and "--resume" in failed.stderr
    state = json.loads((tmp_path / "logs.csv.state.json").read_text())
    assert (state["source"], state["parts_done"], state["rows"]) == ("server", 1, 3)
    assert len(read_back(output, "csv")) == 3  # the first part only: the bad one never reached the file

    resumed = export(fake, output, "--mode", "server", "--resume")

    assert resumed.exit_code == 0, resumed.output
    assert "resuming" in resumed.stderr and f"from server-side export {state['export_id']}" in resumed.stderr
    assert len(fake.posted) == 1  # the same export, not a second one
    assert [row["id"] for row in read_back(output, "csv")] == [row["id"] for row in ROWS]


def test_an_interrupted_run_re_attaches_to_its_export(tmp_path: Path) -> None:
    fake = FakeExports("ndjson")
    fake.interrupt = lambda request: request.method == "GET" and fake.polls == 1  # Ctrl-C while it runs
    output = tmp_path / "logs.ndjson"

    cut = export(fake, output, "--mode", "server")

    assert cut.exit_code == 130, cut.output
    state = json.loads((tmp_path / "logs.ndjson.state.json").read_text())
    assert state["source"] == "server" and state["export_id"] == fake.running["id"]  # type: ignore[index]
    assert f"server-side export {state['export_id']} goes on" in cut.stderr and "--resume" in cut.stderr
    wrong_mode = export(fake, output, "--resume", "--mode", "paged")
    assert wrong_mode.exit_code == 2 and "--mode server" in wrong_mode.stderr
    fake.interrupt = lambda request: False

    resumed = export(fake, output, "--resume")  # --mode auto: the state file names the source

    assert resumed.exit_code == 0, resumed.output
    assert len(fake.posted) == 1  # re-attached, never a second export
    assert [row["id"] for row in read_back(output, "ndjson")] == [row["id"] for row in ROWS]


def test_an_interrupted_parquet_download_keeps_its_verified_parts(tmp_path: Path) -> None:
    fake = FakeExports("parquet")
    fake.interrupt = lambda request: request.url.path == "/part-00002.parquet"
    output = tmp_path / "logs.parquet"

    cut = export(fake, output, "--mode", "server")

    assert cut.exit_code == 130, cut.output
    assert "3 rows are safely written" in cut.stderr
    assert sorted(path.name for path in (tmp_path / "logs.parquet.parts").iterdir()) == ["part-00001.parquet"]
    fake.interrupt = lambda request: request.url.path == "/part-00001.parquet"  # must not be fetched again

    resumed = export(fake, output, "--resume")

    assert resumed.exit_code == 0, resumed.output
    assert pq.read_table(output).column("id").to_pylist() == [row["id"] for row in ROWS]
    assert sorted(path.name for path in tmp_path.iterdir()) == [output.name]


def test_a_409_for_the_same_logs_follows_the_running_export(tmp_path: Path) -> None:
    running = export_detail("exp_running", status="running", format="csv")
    running["filters"] = {"start_date": EVERY_KEPT_LOG, "status": "error"}
    fake = FakeExports("csv", running=running)

    result = export(fake, tmp_path / "logs.csv", "--mode", "server", "--status", "error")

    assert result.exit_code == 0, result.output
    assert "already exporting these logs: following export exp_running" in result.stderr
    assert fake.posted == [] and "from server-side export exp_running" in result.stderr


def test_a_409_for_other_logs_is_a_clear_error(tmp_path: Path) -> None:
    running = export_detail("exp_other", status="running", format="csv")
    running["filters"] = {"status": "success"}
    fake = FakeExports("csv", running=running)

    result = export(fake, tmp_path / "logs.csv", "--mode", "server", "--status", "error")

    assert result.exit_code == 1, result.output
    assert "exp_other" in result.stderr and "status=success" in result.stderr and "--mode paged" in result.stderr
    assert not (tmp_path / "logs.csv.state.json").exists()


def test_a_failed_server_export_says_why(tmp_path: Path) -> None:
    fake = FakeExports("ndjson")
    original = fake.status

    def failing() -> dict[str, Any]:
        return {**original(), "status": "failed", "error": {"message": "The export stopped making progress."}}

    fake.status = failing  # type: ignore[method-assign]
    result = export(fake, tmp_path / "logs.ndjson", "--mode", "server")

    assert result.exit_code == 1 and "stopped making progress" in result.stderr and "--overwrite" in result.stderr


def test_an_expired_url_is_signed_again(tmp_path: Path) -> None:
    fake = FakeExports("ndjson")
    output = tmp_path / "logs.ndjson"
    downloads: list[str] = []
    serve = fake.download

    def expire_at_the_first(request: httpx.Request) -> httpx.Response:
        downloads.append(str(request.url))
        if len(downloads) == 1:
            fake.url_version += 1  # every URL given so far has expired by the first download: a 403
        return serve(request)

    fake.download = expire_at_the_first  # type: ignore[method-assign]
    result = export(fake, output, "--mode", "server")

    assert result.exit_code == 0, result.output
    assert [url.rsplit("/", 1)[1] for url in downloads] == [
        "part-00001.ndjson.gz?X-Amz-Signature=v0",  # refused: a GET signs the URLs again
        "part-00001.ndjson.gz?X-Amz-Signature=v1",
        "part-00002.ndjson.gz?X-Amz-Signature=v1",
        "part-00003.ndjson.gz?X-Amz-Signature=v1",
    ]
    assert len(read_back(output, "ndjson")) == LOGS


@pytest.mark.parametrize(
    ("options", "environment", "source"),
    [
        ((), {}, "paged"),  # 7 logs: below the default 10,000
        ((), {"RLOGS_SERVER_THRESHOLD": "6"}, "server"),
        (("--server-threshold", "7"), {"RLOGS_SERVER_THRESHOLD": "6"}, "paged"),  # not above it
        (("--server-threshold", "0", "--sort", "cost"), {}, "paged"),  # an order only paging gives
        (("--include-content",), {}, "server"),  # content only the server has
    ],
)
def test_auto_mode_chooses_by_the_filtered_total(
    tmp_path: Path, options: tuple[str, ...], environment: dict[str, str], source: str
) -> None:
    fake = FakeExports("ndjson")

    result = export(fake, tmp_path / "logs.ndjson", *options, env=environment)

    assert result.exit_code == 0, result.output
    assert bool(fake.posted) == (source == "server")
    if "--include-content" in options:
        assert fake.posted[0]["include_content"] is True
    if source == "server" and "--include-content" not in options:
        assert "7 logs: exporting server-side (more than 6" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--mode", "paged", "--include-content"), "--include-content needs the server-side export"),
        (("--mode", "server", "--order", "asc"), "--sort and --order need --mode paged"),
        (("--include-content", "--sort", "latency"), "--sort and --order need --mode paged"),
    ],
)
def test_modes_that_cannot_do_what_is_asked_refuse_before_anything_runs(
    tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    fake = FakeExports("ndjson")

    result = export(fake, tmp_path / "logs.ndjson", *options)

    assert result.exit_code == 2 and message in result.stderr
    assert fake.posted == [] and fake.polls == 0


def test_parquet_without_pyarrow_fails_before_starting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed: importing it raises ImportError
    fake = FakeExports("ndjson")

    result = rlogs(fake, "export", "-f", "parquet", "-o", str(tmp_path / "logs.parquet"), "--mode", "server")

    assert result.exit_code == 2 and "pip install pyarrow" in result.stderr
    assert fake.posted == []


def test_a_request_the_api_refuses_is_its_error_without_a_resume_hint(tmp_path: Path) -> None:
    refusal = error_body("invalid_request_error", "invalid_parameter", "Unknown metadata key 'team'.", "metadata.team")
    transport = httpx.MockTransport(lambda request: json_response(400, refusal))  # the count call, first

    result = CliRunner().invoke(
        app,
        ["export", "-o", str(tmp_path / "logs.ndjson"), "--metadata", "team=a"],
        obj={"transport": transport, "sleep": lambda seconds: None},
        env={"RL_BASE_URL": BASE_URL, "RL_API_KEY": API_KEY, "COLUMNS": "250"},
    )

    assert result.exit_code == 1, result.output
    assert "400: Unknown metadata key 'team'. (type invalid_request_error" in result.stderr
    assert "param metadata.team" in result.stderr and "--resume" not in result.stderr
