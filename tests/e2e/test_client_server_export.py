"""``rlogs export`` from server-side exports on the local runtime: the CLI starts the export through the
gateway, the export queue's poller runs the export function, and the parts download from moto's S3 on
loopback. Every log exactly once in each format, the same file as paging writes, filters, the choice by the
filtered total, a run cut after the export started or after a part and resumed onto the same export, a
corrupted part, and the account's one export at a time (409).

The CLI runs in process (typer's CliRunner); its client's ``sleep`` moves the gateway's manual clock and
lets the export function's thread work a moment, and transports cut or corrupt the run where a test says.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
import requests
from typer.testing import CliRunner, Result

from request_logs.domain.ids import make_log_id
from request_logs.domain.timeutil import parse_instant
from request_logs_client.cli.app import app
from request_logs_client.cli.rows import COLUMN_NAMES
from tests.client.export_files import read_back
from tests.e2e.conftest import LocalApi

pytestmark = pytest.mark.e2e

EXPORTS = "/api/account/request-logs/exports"
EXPORT_FUNCTION = "ExportLogsFunction"
EVERYTHING = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
FORMATS = ["ndjson", "csv", "parquet"]


@pytest.fixture
def api(export_api: LocalApi) -> LocalApi:
    return export_api


def waiting(api: LocalApi, before_first: Callable[[], None] = lambda: None) -> Callable[[float], None]:
    """The client's ``sleep``: the gateway's clock moves the whole wait (its throttles refill), the export
    function's thread gets a moment of real time; ``before_first`` runs at the first wait."""
    calls = 0

    def sleep(seconds: float) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            before_first()
        api.clock.advance(seconds)
        time.sleep(min(seconds, 0.1))

    return sleep


def rlogs(api: LocalApi, *args: str, env: dict[str, str] | None = None, **client_options: Any) -> Result:
    environment = {"RL_BASE_URL": api.base_url, "RL_API_KEY": api.first.api_key, "COLUMNS": "250", **(env or {})}
    options = {"sleep": waiting(api), **client_options}
    return CliRunner().invoke(app, list(args), obj=options, env=environment)


def export(api: LocalApi, output: Path, export_format: str, *extra: str, **client_options: Any) -> Result:
    args = ("export", "-f", export_format, "-o", str(output), "--start-date", EVERYTHING, *extra)
    return rlogs(api, *args, **client_options)


def log_id(api: LocalApi, message: dict[str, Any]) -> str:
    return make_log_id(api.first.account_id, message["request_id"], parse_instant(message["created_at"]))


def newest_first(api: LocalApi, keep: Callable[[dict[str, Any]], bool] = lambda message: True) -> list[str]:
    """The brute force: the account's messages the filters keep, in the export's order (newest first, then id)."""
    kept = [m for m in api.first_messages if keep(m)]
    ordered = sorted(kept, key=lambda m: (parse_instant(m["created_at"]), log_id(api, m)), reverse=True)
    return [log_id(api, m) for m in ordered]


def exports_of_the_account(api: LocalApi) -> list[dict[str, Any]]:
    api.clock.advance(1)
    answer = api.get(EXPORTS, {"limit": 100})
    assert answer.status_code == 200, answer.text
    exports: list[dict[str, Any]] = answer.json()["exports"]
    return exports


def first_part_rows(api: LocalApi, export_id: str) -> int:
    api.clock.advance(1)
    answer = api.get(f"{EXPORTS}/{export_id}")
    assert answer.status_code == 200, answer.text
    rows: int = answer.json()["parts"][0]["rows"]
    return rows


def state_of(output: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(output.with_name(output.name + ".state.json").read_text())
    return state


class Cut(httpx.HTTPTransport):
    """The network as it is, but Ctrl-C at the first request ``where`` picks."""

    def __init__(self, where: Callable[[httpx.Request], bool]) -> None:
        super().__init__()
        self.where = where

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.where(request):
            raise KeyboardInterrupt
        return super().handle_request(request)


class Corrupt(httpx.HTTPTransport):
    """The network as it is, but one byte off in the first download of the part named ``part``."""

    def __init__(self, part: str) -> None:
        super().__init__()
        self.part = part
        self.done = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if self.done or not request.url.path.endswith(self.part):
            return response
        self.done = True
        data = bytearray(response.read())
        data[len(data) // 2] ^= 0xFF
        return httpx.Response(response.status_code, headers=response.headers, content=bytes(data))


def is_part(number: int) -> Callable[[httpx.Request], bool]:
    return lambda request: f"/part-{number:05d}." in request.url.path


@pytest.mark.parametrize("export_format", FORMATS)
def test_server_mode_writes_every_log_once_and_the_file_paging_writes(
    api: LocalApi, tmp_path: Path, export_format: str
) -> None:
    server, paged = tmp_path / f"server.{export_format}", tmp_path / f"paged.{export_format}"

    result = export(api, server, export_format, "--mode", "server")

    assert result.exit_code == 0, result.output
    export_id = exports_of_the_account(api)[0]["id"]
    assert f"wrote {len(api.first_messages)} logs to {server}, from server-side export {export_id}" in result.stderr
    rows = read_back(server, export_format)
    assert [row["id"] for row in rows] == newest_first(api)  # every log once, in the export's order
    assert sorted(path.name for path in tmp_path.iterdir()) == [server.name]  # no state, download or parts
    assert export(api, paged, export_format, "--mode", "paged").exit_code == 0
    if export_format == "parquet":
        assert pq.read_table(server).equals(pq.read_table(paged))  # the same types and values
        assert pq.read_table(server).column_names == list(COLUMN_NAMES)
    else:
        assert server.read_bytes() == paged.read_bytes()  # one header, the same rows, the same bytes
    if export_format == "csv":
        assert server.read_text(encoding="utf-8").count("id,request_id,created_at,") == 1  # parts' headers dropped


def test_auto_mode_exports_server_side_above_the_threshold_with_the_filters(api: LocalApi, tmp_path: Path) -> None:
    def keep(message: dict[str, Any]) -> bool:
        return message["status"] == "error" and message["latency_ms"] >= 100

    expected = newest_first(api, keep)
    assert len(expected) > 5
    filters = ("--status", "error", "--min-latency", "100")
    before = len(exports_of_the_account(api))

    paged = export(api, tmp_path / "paged.csv", "csv", *filters, env={"RLOGS_SERVER_THRESHOLD": str(len(expected))})
    server = export(api, tmp_path / "server.csv", "csv", *filters, env={"RLOGS_SERVER_THRESHOLD": "5"})

    assert paged.exit_code == 0 and server.exit_code == 0, paged.output + server.output
    assert f"{len(expected)} logs: exporting server-side (more than 5;" in server.stderr
    assert "server-side" not in paged.stderr
    exports = exports_of_the_account(api)
    assert len(exports) == before + 1  # the one above the threshold only
    assert exports[0]["filters"] == {"start_date": EVERYTHING, "status": "error", "min_latency": 100}
    assert [row["id"] for row in read_back(tmp_path / "server.csv", "csv")] == expected
    assert (tmp_path / "server.csv").read_bytes() == (tmp_path / "paged.csv").read_bytes()


@pytest.mark.parametrize(
    ("cut_at", "parts_done"),
    [
        (lambda request: request.method == "GET" and "/exports/exp_" in request.url.path, 0),  # once started
        (is_part(2), 1),  # after the first part
    ],
    ids=["after-the-export-started", "after-the-first-part"],
)
@pytest.mark.parametrize("export_format", ["csv", "parquet"])
def test_an_interrupted_run_resumes_onto_the_same_export(
    api: LocalApi, tmp_path: Path, export_format: str, cut_at: Callable[[httpx.Request], bool], parts_done: int
) -> None:
    output = tmp_path / f"logs.{export_format}"
    before = len(exports_of_the_account(api))

    cut = export(api, output, export_format, "--mode", "server", transport=Cut(cut_at))

    assert cut.exit_code == 130, cut.output
    state = state_of(output)
    written = first_part_rows(api, state["export_id"]) if parts_done else 0
    assert (state["source"], state["rows"], state["parts_done"]) == ("server", written, parts_done)
    assert f"server-side export {state['export_id']} goes on, and {written} rows are safely written" in cut.stderr

    resumed = export(api, output, export_format, "--resume")  # --mode auto: the state names the source

    assert resumed.exit_code == 0, resumed.output
    assert f"from server-side export {state['export_id']}" in resumed.stderr
    exports = exports_of_the_account(api)
    assert len(exports) == before + 1 and exports[0]["id"] == state["export_id"]  # never a second export
    assert [row["id"] for row in read_back(output, export_format)] == newest_first(api)


def test_a_corrupted_part_is_an_error_not_a_silent_write(api: LocalApi, tmp_path: Path) -> None:
    output = tmp_path / "logs.ndjson"

    failed = export(api, output, "ndjson", "--mode", "server", transport=Corrupt("part-00002.ndjson.gz"))

    assert failed.exit_code == 1, failed.output
    assert "part-00002.ndjson.gz" in failed.stderr and "failed its check" in failed.stderr
    state = state_of(output)
    assert len(read_back(output, "ndjson")) == state["rows"] == first_part_rows(api, state["export_id"])

    resumed = export(api, output, "ndjson", "--resume")

    assert resumed.exit_code == 0, resumed.output
    assert [row["id"] for row in read_back(output, "ndjson")] == newest_first(api)


def test_the_accounts_running_export_is_followed_when_it_is_the_same_and_named_when_not(
    api: LocalApi, tmp_path: Path
) -> None:
    poller = api.backend.poller_of(EXPORT_FUNCTION)
    restarted = False

    def restart() -> None:
        nonlocal restarted
        if not restarted:
            poller.start()
            restarted = True

    poller.stop()  # the export below stays queued: the account's one export at a time is taken
    try:
        api.clock.advance(2)
        started = requests.post(
            f"{api.base_url}{EXPORTS}",
            json={"format": "csv", "status": "success", "start_date": EVERYTHING},
            headers={"Authorization": f"Bearer {api.first.api_key}"},
            timeout=30,
        )
        assert started.status_code == 202, started.text
        running = started.json()["id"]

        other = export(api, tmp_path / "errors.csv", "csv", "--mode", "server", "--status", "error")

        assert other.exit_code == 1, other.output
        assert running in other.stderr and "status=success" in other.stderr and "--mode paged" in other.stderr

        same = export(
            api,
            tmp_path / "successes.csv",
            "csv",
            *("--mode", "server", "--status", "success"),
            sleep=waiting(api, before_first=restart),  # the poller runs the export once the CLI waits for it
        )
    finally:
        restart()

    assert same.exit_code == 0, same.output
    assert f"following export {running}" in same.stderr and f"from server-side export {running}" in same.stderr
    ids = [row["id"] for row in read_back(tmp_path / "successes.csv", "csv")]
    assert ids == newest_first(api, lambda message: message["status"] == "success")
