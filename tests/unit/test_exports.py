"""The pure parts of exports: ids, retention, what a status says, progress, and each format's writer read
back by another reader (money exact, nulls, JSON columns), pyarrow loaded by the Parquet writer only."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
import tempfile
from decimal import Decimal
from typing import Any

import pyarrow.parquet as pq
import pytest

from local.stack.template import LAYER_PATH, ROOT
from request_logs.domain.exports import (
    STALL_MS,
    PartLimits,
    export_created_ms,
    export_expiry_s,
    export_visible,
    first_visible_export_ms,
    make_export_id,
    part_name,
    progress_fraction,
    shown_status,
)
from request_logs.logic.export_files import open_part
from request_logs.models.export_rows import Column, export_columns

CREATED_MS = 1_795_176_000_000  # 2026-11-20T12:00:00Z


def test_an_export_id_carries_its_instant_and_sorts_by_it() -> None:
    first, later = make_export_id(CREATED_MS, 2**64 - 1), make_export_id(CREATED_MS + 1, 0)
    assert export_created_ms(first) == CREATED_MS
    assert first < later  # the table sorts an account's exports by creation
    for malformed in ("exp_x", first + "0", first.upper(), "log_" + first[4:], first + "\n"):
        assert export_created_ms(malformed) is None


def test_an_export_is_visible_for_7_days_to_the_second_its_ttl_names() -> None:
    expiry_ms = export_expiry_s(CREATED_MS) * 1000
    assert export_visible(CREATED_MS, expiry_ms - 1)
    assert not export_visible(CREATED_MS, expiry_ms)
    assert first_visible_export_ms(expiry_ms - 1) <= CREATED_MS < first_visible_export_ms(expiry_ms)


def test_an_active_export_silent_for_30_minutes_shows_as_failed() -> None:
    assert shown_status("running", None, CREATED_MS, CREATED_MS + STALL_MS).status == "running"
    stalled = shown_status("queued", None, CREATED_MS, CREATED_MS + STALL_MS + 1)
    assert stalled.status == "failed" and stalled.error and "30 minutes" in stalled.error
    assert shown_status("succeeded", None, CREATED_MS, CREATED_MS + 10 * STALL_MS).status == "succeeded"


@pytest.mark.parametrize(
    ("rows", "total", "status", "fraction"),
    [(0, None, "queued", None), (25, 100, "running", 0.25), (0, 0, "running", 0.0), (7, 5, "succeeded", 1.0)],
)
def test_progress_is_a_fraction_only_of_a_known_total(rows: int, total: int | None, status: Any, fraction: Any) -> None:
    assert progress_fraction(rows, total, status) == fraction


def test_a_part_ends_at_its_rows_or_its_bytes() -> None:
    limits = PartLimits(max_rows=10, max_bytes=100)
    assert not limits.part_full(9, 99)
    assert limits.part_full(10, 0) and limits.part_full(0, 100)
    assert part_name(3, "csv") == "part-00003.csv.gz"


COLUMNS = (
    Column("id", "string"),
    Column("status_code", "int"),
    Column("streaming", "bool"),
    Column("cost", "money"),
    Column("metadata", "json"),
    Column("user", "string"),
)
ROWS: list[dict[str, Any]] = [
    {
        "id": "log_a",
        "status_code": 200,
        "streaming": True,
        "cost": Decimal("0.000000123456"),
        "metadata": {"feature": 'search, "quoted"\nline'},
        "user": "café",
    },
    {"id": "log_b", "status_code": 429, "streaming": False, "cost": None, "metadata": {}, "user": None},
    {
        "id": "log_c",
        "status_code": 200,
        "streaming": False,
        "cost": Decimal("123456.123456789012"),
        "metadata": {},
        "user": "",
    },
]


def written(export_format: Any) -> bytes:
    with tempfile.TemporaryFile() as file:
        writer = open_part(export_format, COLUMNS, file)
        for row in ROWS:
            writer.write(row)
        writer.close()
        assert writer.rows == len(ROWS)
        assert writer.written_bytes() == file.tell() > 0
        file.seek(0)
        return file.read()


def test_ndjson_keeps_money_exact_and_json_as_json() -> None:
    lines = gzip.decompress(written("ndjson")).decode().splitlines()
    read = [json.loads(line, parse_float=Decimal) for line in lines]
    assert [row["cost"] for row in read] == [row["cost"] for row in ROWS]
    assert read[0]["metadata"] == ROWS[0]["metadata"] and read[1]["user"] is None
    assert '"cost":1.23456E-7' not in lines[0] and '"cost":0.000000123456' in lines[0]


def test_csv_writes_a_header_digits_and_empty_nulls() -> None:
    read = list(csv.DictReader(io.StringIO(gzip.decompress(written("csv")).decode())))
    assert list(read[0]) == [column.name for column in COLUMNS]
    assert [row["cost"] for row in read] == ["0.000000123456", "", "123456.123456789012"]
    assert json.loads(read[0]["metadata"]) == ROWS[0]["metadata"]
    assert [row["streaming"] for row in read] == ["true", "false", "false"]
    assert read[0]["user"] == "café" and read[1]["user"] == read[2]["user"] == ""


def test_parquet_types_every_column() -> None:
    table = pq.read_table(io.BytesIO(written("parquet")))
    assert str(table.schema.field("cost").type) == "decimal128(38, 12)"
    assert str(table.schema.field("status_code").type) == "int64"
    read = table.to_pylist()
    assert [row["cost"] for row in read] == [row["cost"] for row in ROWS]
    assert json.loads(read[0]["metadata"]) == ROWS[0]["metadata"]
    assert read[1]["user"] is None and read[2]["user"] == ""


def test_content_columns_only_when_asked() -> None:
    assert {"request", "response"} <= {column.name for column in export_columns(True)}
    assert not {"request", "response"} & {column.name for column in export_columns(False)}


def test_only_the_parquet_writer_loads_pyarrow() -> None:
    probe = (
        "import sys\n"
        "import request_logs.logic.export_run, request_logs.logic.export_files\n"
        "assert 'pyarrow' not in sys.modules, 'imported with the module'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}:{LAYER_PATH}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
