"""``rlogs export`` paging a stand-in API (httpx.MockTransport): the file formats' columns and values (the
server-side export's rows), and the refusals that keep ``--resume`` from writing a row twice. The
server-side source is tests/client/test_server_export.py; both against the real stack, whole and
interrupted, tests/e2e/test_client_cli.py."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
from typer.testing import CliRunner, Result

from request_logs_client import _json
from request_logs_client.cli.app import EVERY_KEPT_LOG, app
from request_logs_client.cli.export import normalized_filters
from request_logs_client.cli.rows import COLUMN_NAMES, flatten_log
from tests.client.fake_api import API_KEY, BASE_URL

LOGS = 7
SUMMARY = {
    "total_cost": Decimal("0.006"),
    "total_tokens": 7070,
    "avg_cost_per_request": Decimal("0.001"),
    "requests": LOGS,
    "priced_requests": 4,
    "unpriced_requests": 3,
    **dict.fromkeys(("input_tokens", "output_tokens", "cached_input_tokens", "cache_creation_input_tokens"), 0),
    "reasoning_tokens": 0,
    **dict.fromkeys(("input_cost", "output_cost", "cached_input_cost", "cache_creation_input_cost"), None),
    "reasoning_cost": None,
}


def enhanced_log(number: int) -> dict[str, Any]:
    priced = number % 3 != 0
    return {
        "id": f"log_{number:04d}",
        "request_id": f"req_{number:04d}",
        "model": "openai/gpt-4o",
        "provider": "openai",
        "status": "error" if number == 2 else "success",
        "status_code": 429 if number == 2 else 200,
        "latency_ms": 100 + number,
        "tokens": {
            "input": 1000,
            "output": 10,
            "total": 1010,
            "cached_input": 400,
            "cache_creation_input": 0,
            "reasoning": 3,
        },
        "cost": {
            "input": Decimal("0.001234567891"),
            "output": Decimal("0.0001"),
            "total": Decimal("0.001334567891"),
            "cached_input": Decimal("0.0002"),
            "cache_creation_input": 0,  # a bare 0 in JSON reads back as an int
            "reasoning": Decimal("0.00003"),
        }
        if priced
        else None,
        "pricing": {
            "input_per_million": Decimal("2.50"),
            "output_per_million": Decimal("10.00"),
            "cached_input_per_million": Decimal("1.25"),
            "cache_creation_input_per_million": None,
            "reasoning_per_million": None,
            "above_input_tokens": None,
        }
        if priced
        else None,
        "cost_source": "catalog" if priced else "unpriced",
        "catalog_version": "2026-01" if priced else None,
        "created_at": f"2026-01-02T03:04:{number:02d}.5Z",
        "api_key_id": "key_abc",
        "api_key_prefix": "sk-abc1...",
        "input_tokens": 1000,
        "output_tokens": 10,
        "total_tokens": 1010,
        "error": {"type": "rate_limit_error", "code": "rate_limit_exceeded", "message": 'Slow, "down"'}
        if number == 2
        else None,
        "user": "user_1" if number % 2 else None,
        "metadata": {"feature": "search, beta"} if number % 2 else {},
        "endpoint": "/v1/chat/completions",
        "method": "POST",
        "time_to_first_token_ms": 50 if number % 2 else None,
        "streaming": number % 2 == 1,
        "completed_at": f"2026-01-02T03:04:{number:02d}.6Z",
        "user_agent": "Python/3.13 openai/1.0.0",
        "ip_address": None,
        "resolution": {"gateway_type": 2, "gateway_id": "gw_1", "connection_id": "conn_1"} if number else None,
    }


def fake_enhanced(request: httpx.Request) -> httpx.Response:
    """``/enhanced`` by cursor: ``c<offset>``, two logs a page."""
    assert request.url.path.endswith("/api/account/request-logs/enhanced")
    limit = int(request.url.params.get("limit", 50))
    cursor = request.url.params.get("cursor")
    offset = int(cursor[1:]) if cursor else 0
    numbers = range(offset, min(offset + limit, LOGS))
    end = offset + len(numbers)
    body = {
        "logs": [enhanced_log(number) for number in numbers],
        "summary": SUMMARY,
        "pagination": {
            "total": LOGS,
            "limit": limit,
            "offset": offset,
            "hasMore": end < LOGS,
            "nextCursor": f"c{end}" if end < LOGS else None,
        },
    }
    return httpx.Response(200, content=_json.dumps(body).encode(), headers={"Content-Type": "application/json"})


def rlogs(*args: str) -> Result:
    env = {"RL_BASE_URL": BASE_URL, "RL_API_KEY": API_KEY}
    obj = {"transport": httpx.MockTransport(fake_enhanced), "sleep": lambda seconds: None}
    return CliRunner().invoke(app, list(args), obj=obj, env=env)


def export(output: Path, export_format: str, *extra: str) -> Result:
    return rlogs("export", "-f", export_format, "-o", str(output), "--page-size", "2", *extra)


def test_ndjson_is_the_flat_rows_digit_for_digit(tmp_path: Path) -> None:
    result = export(tmp_path / "logs.ndjson", "ndjson")

    assert result.exit_code == 0, result.output
    lines = (tmp_path / "logs.ndjson").read_text(encoding="utf-8").splitlines()
    assert [_json.loads(line) for line in lines] == [flatten_log(enhanced_log(number)) for number in range(LOGS)]
    assert list(_json.loads(lines[0])) == list(COLUMN_NAMES)
    assert '"cost":0.001334567891,' in lines[1] and '"cost_cache_creation_input":0,' in lines[1]
    assert '"gateway_type":2,"gateway_id":"gw_1"' in lines[1] and '"streaming":true' in lines[1]


def test_csv_has_the_flat_columns(tmp_path: Path) -> None:
    result = export(tmp_path / "logs.csv", "csv")

    assert result.exit_code == 0, result.output
    with (tmp_path / "logs.csv").open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == COLUMN_NAMES
    assert b"\r\n" in (tmp_path / "logs.csv").read_bytes()  # the server's line ends (csv's default)
    assert [row["id"] for row in rows] == [f"log_{number:04d}" for number in range(LOGS)]
    priced, unpriced, failed = rows[1], rows[0], rows[2]
    assert (priced["cost"], priced["cost_cached_input"], priced["price_input_per_million"]) == (
        "0.001334567891",
        "0.0002",
        "2.50",
    )
    assert (priced["cached_input_tokens"], priced["reasoning_tokens"], priced["streaming"]) == ("400", "3", "true")
    assert priced["metadata"] == '{"feature":"search, beta"}' and priced["user"] == "user_1"
    assert (unpriced["cost"], unpriced["cost_source"], unpriced["metadata"], unpriced["user"]) == (
        "",
        "unpriced",
        "{}",
        "",
    )
    assert (unpriced["streaming"], unpriced["time_to_first_token_ms"], unpriced["gateway_id"]) == ("false", "", "")
    assert (failed["error_code"], failed["error_message"]) == ("rate_limit_exceeded", 'Slow, "down"')


def test_parquet_has_typed_exact_columns(tmp_path: Path) -> None:
    result = export(tmp_path / "logs.parquet", "parquet")

    assert result.exit_code == 0, result.output
    table = pq.read_table(tmp_path / "logs.parquet")
    assert tuple(table.column_names) == COLUMN_NAMES
    assert str(table.schema.field("cost").type) == "decimal128(38, 12)"
    assert str(table.schema.field("streaming").type) == "bool"
    rows = table.to_pylist()
    assert rows[1]["cost"] == Decimal("0.001334567891") and rows[1]["cost_cache_creation_input"] == 0
    assert rows[0]["cost"] is None
    assert rows[1]["created_at"] == "2026-01-02T03:04:01.5Z"  # the API's text, as the server writes it
    assert rows[1]["metadata"] == '{"feature":"search, beta"}' and rows[0]["metadata"] == "{}"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["logs.parquet"]


def test_an_existing_output_is_kept_unless_overwrite(tmp_path: Path) -> None:
    output = tmp_path / "logs.ndjson"
    output.write_text("precious\n")

    refused = export(output, "ndjson")
    assert refused.exit_code == 2 and "--overwrite" in refused.stderr
    assert output.read_text() == "precious\n"

    again = export(output, "ndjson", "--resume")
    assert again.exit_code == 2 and "nothing to resume" in again.stderr

    assert export(output, "ndjson", "--overwrite").exit_code == 0
    assert len(output.read_text().splitlines()) == LOGS


def interrupted(tmp_path: Path, export_format: str) -> Path:
    """An export stopped after its first page, as its state file and output would be."""
    output = tmp_path / f"logs.{export_format}"
    assert export(output, export_format, "--status", "success").exit_code == 0
    state = {
        "source": "paged",
        "format": export_format,
        "filters": {"start_date": EVERY_KEPT_LOG, "status": "success"},
        "page_size": 2,
        "position": "c2",
        "rows": 2,
        "bytes": len("".join(line + "\n" for line in output.read_text().splitlines()[:2]).encode()),
        "total": LOGS,
        "paged_all": False,
        "version": 2,
        "updated_at": "2026-01-01T00:00:00+00:00",
    }
    (tmp_path / f"{output.name}.state.json").write_text(json.dumps(state))
    return output


def test_resume_refuses_other_filters_or_another_format(tmp_path: Path) -> None:
    output = interrupted(tmp_path, "ndjson")

    other_filters = export(output, "ndjson", "--resume", "--status", "error")
    said = " ".join(other_filters.stderr.split())
    assert other_filters.exit_code == 2
    assert (
        f"other filters (start_date={EVERY_KEPT_LOG}, status=success; now start_date={EVERY_KEPT_LOG}, status=error)"
        in said
    )
    other_format = export(output, "csv", "--resume", "--status", "success")
    assert other_format.exit_code == 2 and "--format ndjson" in other_format.stderr


def test_resume_refuses_an_output_shorter_than_its_checkpoint(tmp_path: Path) -> None:
    output = interrupted(tmp_path, "ndjson")
    output.write_text("")

    result = export(output, "ndjson", "--resume", "--status", "success")

    assert result.exit_code == 2 and "shorter than its checkpoint" in result.stderr


def test_resume_continues_after_the_checkpoint(tmp_path: Path) -> None:
    output = interrupted(tmp_path, "ndjson")
    with output.open("ab") as file:
        file.write(b'{"id": "torn')  # what a process killed mid-page leaves behind, and beyond

    result = export(output, "ndjson", "--resume", "--status", "success")

    assert result.exit_code == 0, result.output
    assert [_json.loads(line)["id"] for line in output.read_text().splitlines()] == [
        f"log_{number:04d}" for number in range(LOGS)
    ]


def test_filters_are_compared_as_json_values() -> None:
    assert normalized_filters(
        {
            "status": "error",
            "min_cost": Decimal("0.50"),
            "metadata": {"b": "2", "a": "1"},
            "user": None,
            "min_latency": 5,
        }
    ) == {"metadata": {"a": "1", "b": "2"}, "min_cost": "0.50", "min_latency": 5, "status": "error"}
