"""``rlogs`` against the local runtime, its output checked against the API's answers: JSON and tables,
``--all`` with its progress on stderr, errors, and ``export`` in every format parsed back (Parquet with
pyarrow), whole and after an interruption with ``--resume``: every log of the account exactly once.

The CLI runs in process (typer's CliRunner); ``obj`` hands its client a ``sleep`` that moves the
gateway's manual clock, and for the interrupted exports a transport that stops the run mid-way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from request_logs.domain.ids import make_log_id
from request_logs.domain.timeutil import parse_instant
from request_logs_client import _json
from request_logs_client.cli.app import app
from request_logs_client.cli.rows import flatten_log
from tests.client.export_files import read_back
from tests.e2e.conftest import LIST, LocalApi

pytestmark = pytest.mark.e2e

ENHANCED = f"{LIST}/enhanced"
EVERYTHING = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
TODAY = datetime.now(UTC).date().isoformat()
FORMATS = ["ndjson", "csv", "parquet"]


def rlogs(api: LocalApi, *args: str, **client_options: Any) -> Result:
    runner = CliRunner()
    env = {"RL_BASE_URL": api.base_url, "RL_API_KEY": api.first.api_key, "COLUMNS": "250"}
    return runner.invoke(app, list(args), obj={"sleep": api.clock.advance, **client_options}, env=env)


def exact(api: LocalApi, path: str, params: dict[str, Any] | None = None) -> Any:
    response = api.get(path, params)
    assert response.status_code == 200, response.text
    return _json.loads(response.content)


def every_log_id(api: LocalApi) -> set[str]:
    account = api.first.account_id
    return {make_log_id(account, m["request_id"], parse_instant(m["created_at"])) for m in api.first_messages}


# --- list, get, details, enhanced, stats -----------------------------------------------------------------


def test_json_output_is_the_apis_answer(local_api: LocalApi) -> None:
    listed = rlogs(local_api, "logs", "list", "--status", "error", "--limit", "10")  # piped: JSON by default

    assert listed.exit_code == 0, listed.output
    assert _json.loads(listed.stdout) == exact(local_api, LIST, {"status": "error", "limit": 10})["logs"]
    assert "--cursor" in listed.stderr  # where the next page is, kept off stdout

    enhanced = rlogs(local_api, "enhanced", "--sort", "cost", "--order", "desc", "--limit", "5", "--json")
    assert (
        _json.loads(enhanced.stdout)
        == exact(local_api, ENHANCED, {"sort": "cost", "order": "desc", "limit": 5})["logs"]
    )

    stats = rlogs(local_api, "stats", "--group-by", "model", "--start-date", EVERYTHING, "--end-date", TODAY)
    expected = exact(local_api, f"{LIST}/stats", {"group_by": "model", "start_date": EVERYTHING, "end_date": TODAY})
    assert _json.loads(stats.stdout) == expected

    log_id = _json.loads(listed.stdout)[0]["id"]
    single = rlogs(local_api, "logs", "get", log_id)
    assert _json.loads(single.stdout) == exact(local_api, f"{LIST}/{log_id}")
    details = rlogs(local_api, "logs", "details", log_id)
    assert _json.loads(details.stdout) == exact(local_api, f"{LIST}/{log_id}/details")


def test_tables_show_the_apis_rows(local_api: LocalApi) -> None:
    listed = rlogs(local_api, "logs", "list", "--status", "error", "--limit", "10", "--table")

    assert listed.exit_code == 0, listed.output
    page = exact(local_api, LIST, {"status": "error", "limit": 10})
    assert f"10 of {page['pagination']['total']} logs from offset 0" in listed.stdout
    for log in page["logs"]:
        row = next(line for line in listed.stdout.splitlines() if log["id"] in line)
        assert log["model"] in row and "error" in row and log["error"]["message"][:30] in row

    stats = rlogs(local_api, "stats", "--group-by", "day,model", "--table")
    assert stats.exit_code == 0, stats.output
    assert "by_day" in stats.stdout and "by_model" in stats.stdout and "p95_latency_ms" in stats.stdout

    log_id = page["logs"][0]["id"]
    details = rlogs(local_api, "logs", "details", log_id, "--table")
    content = exact(local_api, f"{LIST}/{log_id}/details")
    assert details.exit_code == 0, details.output
    assert content["request"]["messages"][-1]["content"][:40] in details.stdout
    single = rlogs(local_api, "logs", "get", log_id, "--table")
    assert log_id in single.stdout and "api_key_prefix" in single.stdout


def test_all_walks_every_page_as_ndjson_with_progress_on_stderr(local_api: LocalApi) -> None:
    result = rlogs(local_api, "logs", "list", "--all", "--start-date", EVERYTHING, "--limit", "100", "--json")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    logs = [json.loads(line) for line in lines]  # every line one JSON object: nothing else on stdout
    created = [parse_instant(log["created_at"]) for log in logs]
    assert created == sorted(created, reverse=True)  # newest first, page after page
    assert len(logs) == len({log["id"] for log in logs}) == len(local_api.first_messages)
    assert {log["id"] for log in logs} == every_log_id(local_api)
    total = len(local_api.first_messages)
    assert f"{total}/{total}" in result.stderr  # the progress bar, sized by pagination.total

    enhanced_table = rlogs(local_api, "enhanced", "--all", "--status", "error", "--start-date", EVERYTHING, "--table")
    assert enhanced_table.exit_code == 0, enhanced_table.output
    errors = {i for i in every_log_id(local_api) if i in enhanced_table.stdout}
    assert len(errors) == sum(1 for m in local_api.first_messages if m["status"] == "error")


def test_errors_are_one_line_on_stderr_with_the_apis_fields(local_api: LocalApi) -> None:
    bad = rlogs(local_api, "logs", "list", "--limit", "101")
    assert bad.exit_code == 1
    message = local_api.get(LIST, {"limit": 101}).json()["error"]["message"]
    assert message in bad.stderr and "param limit" in bad.stderr and bad.stdout == ""

    unknown = rlogs(local_api, "logs", "get", "log_0000000000000000000000000000")
    assert unknown.exit_code == 1 and "404" in unknown.stderr and "not_found_error" in unknown.stderr

    metadata = rlogs(local_api, "enhanced", "--metadata", "feature=search")
    assert metadata.exit_code == 1 and "param metadata.feature" in metadata.stderr

    malformed = rlogs(local_api, "enhanced", "--metadata", "feature")
    assert malformed.exit_code == 2 and "KEY=VALUE" in malformed.output

    runner = CliRunner()
    no_key = runner.invoke(app, ["logs", "list"], env={"RL_BASE_URL": local_api.base_url, "RL_API_KEY": ""})
    assert no_key.exit_code == 2 and "RL_API_KEY" in no_key.stderr


# --- export ---------------------------------------------------------------------------------------------


def assert_every_log_once(api: LocalApi, rows: list[dict[str, Any]]) -> None:
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == len(api.first_messages)
    assert set(ids) == every_log_id(api)


@pytest.mark.parametrize("export_format", FORMATS)
def test_export_writes_every_log_exactly_once(local_api: LocalApi, tmp_path: Path, export_format: str) -> None:
    output = tmp_path / f"logs.{export_format}"

    result = rlogs(local_api, "export", "--format", export_format, "--output", str(output), "--start-date", EVERYTHING)

    assert result.exit_code == 0, result.output
    rows = read_back(output, export_format)
    assert_every_log_once(local_api, rows)
    assert f"wrote {len(rows)} logs" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == [output.name]  # no state or spool left

    # Values as the API gives them: the priciest log's cost digit for digit.
    priciest = exact(local_api, ENHANCED, {"sort": "cost", "limit": 1, "start_date": EVERYTHING})["logs"][0]
    row = next(row for row in rows if row["id"] == priciest["id"])
    if export_format == "ndjson":
        assert row == flatten_log(priciest)  # the server-side export's row of it
    cost = row["cost"]
    assert Decimal(str(cost)) == priciest["cost"]["total"]
    assert int(row["input_tokens"]) == priciest["input_tokens"]
    assert row["model"] == priciest["model"] and row["completed_at"] == priciest["completed_at"]


def test_export_applies_filters(local_api: LocalApi, tmp_path: Path) -> None:
    output = tmp_path / "errors.csv"
    expected = {
        make_log_id(local_api.first.account_id, m["request_id"], parse_instant(m["created_at"]))
        for m in local_api.first_messages
        if m["status"] == "error" and m["latency_ms"] >= 100
    }

    result = rlogs(
        local_api,
        *("export", "-f", "csv", "-o", str(output), "--status", "error", "--min-latency", "100"),
        *("--start-date", EVERYTHING, "--page-size", "7"),
    )

    assert result.exit_code == 0, result.output
    rows = read_back(output, "csv")
    assert len(rows) == len(expected) and {row["id"] for row in rows} == expected
    assert {row["status"] for row in rows} == {"error"} and all(row["error_code"] for row in rows)


class StopAfter(httpx.HTTPTransport):
    """The network as it was until ``requests`` answers, then Ctrl-C in the middle of the next call."""

    def __init__(self, requests: int, interrupt: Callable[[], BaseException] = KeyboardInterrupt) -> None:
        super().__init__()
        self.left = requests
        self.interrupt = interrupt

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.left == 0:
            raise self.interrupt()
        self.left -= 1
        return super().handle_request(request)


@pytest.mark.parametrize("export_format", FORMATS)
def test_an_interrupted_export_resumes_without_writing_a_log_twice(
    local_api: LocalApi, tmp_path: Path, export_format: str
) -> None:
    output = tmp_path / f"logs.{export_format}"
    command = ("export", "--format", export_format, "--output", str(output), "--start-date", EVERYTHING)
    command += ("--mode", "paged")

    cut = rlogs(local_api, *command, "--page-size", "40", transport=StopAfter(3))

    assert cut.exit_code == 130, cut.output
    assert "120 rows are safely written" in cut.stderr and "--resume" in cut.stderr
    state_path = tmp_path / f"{output.name}.state.json"
    state = json.loads(state_path.read_text())
    assert (state["rows"], state["format"], state["filters"]) == (120, export_format, {"start_date": EVERYTHING})
    assert state["position"]  # the next page's cursor
    # The process died while writing the next page: a torn line after the checkpoint.
    appended_to = output if export_format != "parquet" else tmp_path / f"{output.name}.spool.ndjson"
    with appended_to.open("ab") as file:
        file.write(b'{"id": "log_torn' if export_format != "csv" else b"log_torn,req_torn,2026")

    refused = rlogs(local_api, *command, "--resume", "--status", "error")
    assert refused.exit_code == 2 and "other filters" in refused.stderr
    not_resumed = rlogs(local_api, *command)
    assert not_resumed.exit_code == 2 and "--resume" in not_resumed.stderr

    resumed = rlogs(local_api, *command, "--resume")

    assert resumed.exit_code == 0, resumed.output
    assert "resuming" in resumed.stderr and "120 before this run" in resumed.stderr
    assert_every_log_once(local_api, read_back(output, export_format))
    assert not state_path.exists()


def test_an_api_error_mid_export_keeps_the_checkpoint(local_api: LocalApi, tmp_path: Path) -> None:
    output = tmp_path / "logs.ndjson"
    command = ("export", "--output", str(output), "--start-date", EVERYTHING, "--page-size", "100", "--mode", "paged")

    failed = rlogs(
        local_api,
        "--max-attempts",
        "2",
        *command,
        transport=StopAfter(2, lambda: httpx.ConnectError("network down")),
        sleep=lambda seconds: None,
    )

    assert failed.exit_code == 1, failed.output
    assert "network down" in failed.stderr and "200 rows are safely written" in failed.stderr
    resumed = rlogs(local_api, *command, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert_every_log_once(local_api, read_back(output, "ndjson"))
