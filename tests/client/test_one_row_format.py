"""One row format: ``rlogs export`` paging the API writes the server-side export's rows, byte for byte.

The client is its own distribution and cannot import the service's ``models/export_rows.py``, so it keeps
a copy of the columns (``request_logs_client/cli/rows.py``); these tests, which may import both, hold the
copy equal to the original and a log's row, as the client builds it from the enhanced list's JSON, equal
to the row the export function writes for the same log, through each format's writer. The same against
the local stack, both sources exporting one account: tests/e2e/test_client_cli.py.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from local.stack.template import LAYER_PATH, ROOT
from request_logs.domain.log import RequestLog
from request_logs.logic.export_files import open_part
from request_logs.models import export_rows
from request_logs.models.exact_json import dumps as api_dumps
from request_logs.models.logs import EnhancedLog as ApiEnhancedLog
from request_logs_client import _json
from request_logs_client.cli import rows
from request_logs_client.cli.export import NdjsonWriter, write_parquet_from_spool
from request_logs_client.cli.render import as_data
from request_logs_client.models import EnhancedLog

CLIENT_ROOT = ROOT / "clients" / "python"
BASE = {
    "account_id": "acct_rows",
    "api_key_id": "key_rows",
    "api_key_prefix": "sk-rows...",
    "model": "anthropic/claude-sonnet-4",
    "provider": "anthropic",
    "endpoint": "/v1/chat/completions",
    "method": "POST",
    "created_ms": 1_795_176_000_123,
    "completed_ms": 1_795_176_001_357,
    "latency_ms": 1234,
}
LOGS = [
    # Priced by the catalog with every component, a long-context tier, attribution, unsorted metadata.
    RequestLog(
        id="log_a",
        request_id="req_a",
        status="success",
        status_code=200,
        input_tokens=250_000,
        output_tokens=900,
        streaming=True,
        cached_input_tokens=9000,
        cache_creation_input_tokens=2000,
        reasoning_tokens=600,
        ttft_ms=245,
        user_agent="Python/3.13 café",
        ip_address="192.168.1.100",
        gateway_type=2,
        gateway_id="gw_abc",
        connection_id="conn_xyz",
        cost_input=Decimal("0.750000000001"),
        cost_output=Decimal("0.0135"),
        price_input_per_million=Decimal("6.00"),
        price_output_per_million=Decimal("22.50"),
        cost_cached_input=Decimal("0.0027"),
        cost_cache_creation_input=Decimal("0.0075"),
        cost_reasoning=Decimal("0.009"),
        price_cached_input_per_million=Decimal("0.30"),
        price_cache_creation_input_per_million=Decimal("3.75"),
        price_reasoning_per_million=Decimal("15"),
        price_tier_above_input_tokens=200_000,
        cost_source="catalog",
        catalog_version="2026-12-01",
        user="user_é",
        metadata={"zeta": 'a, "quoted"\nline', "alpha": "1", "m": ""},
        **BASE,
    ),
    # A gateway's cost of a version-1 log: no components, integral amounts.
    RequestLog(
        id="log_b",
        request_id="req_b",
        status="success",
        status_code=200,
        input_tokens=10,
        output_tokens=0,
        streaming=False,
        cost_input=Decimal("0"),
        cost_output=Decimal("1"),
        price_input_per_million=Decimal("0"),
        price_output_per_million=Decimal("10.00"),
        cost_source="gateway",
        **BASE,
    ),
    # An unpriced error without attribution or resolution.
    RequestLog(
        id="log_c",
        request_id="req_c",
        status="error",
        status_code=429,
        input_tokens=0,
        output_tokens=0,
        streaming=False,
        error_type="rate_limit_error",
        error_code="rate_limit_exceeded",
        error_message='Too many requests, "slow down"',
        **BASE,
    ),
]


def client_row(log: RequestLog) -> dict[str, Any]:
    """The row ``rlogs export --mode paged`` writes: the API's JSON of the enhanced log, read by the client."""
    text = api_dumps(ApiEnhancedLog.from_log(log).model_dump(mode="json"))
    return rows.flatten_log(as_data(EnhancedLog.model_validate(_json.loads(text))))


def server_part(export_format: Any, columns: Any) -> bytes:
    with tempfile.TemporaryFile() as file:
        writer = open_part(export_format, columns, file)
        for log in LOGS:
            writer.write(export_rows.export_row(log, None, include_content=False))
        writer.close()
        file.seek(0)
        return file.read()


class NoProgress:
    def begin(self, description: str, total: int | None, completed: int) -> None: ...

    def advance(self, rows: int) -> None: ...

    def notice(self, text: str) -> None: ...


def test_the_clients_columns_are_the_servers() -> None:
    server = [(column.name, column.kind) for column in export_rows.export_columns(include_content=True)]
    assert list(rows.export_columns(include_content=True)) == server
    assert [(column.name, column.kind) for column in export_rows.LOG_COLUMNS] == list(rows.COLUMNS)


@pytest.mark.parametrize("log", LOGS, ids=lambda log: log.id)
def test_a_logs_row_from_the_enhanced_list_is_the_servers_row(log: RequestLog) -> None:
    assert client_row(log) == export_rows.export_row(log, None, include_content=False)
    assert list(client_row(log)) == list(rows.COLUMN_NAMES)


def test_ndjson_and_csv_are_the_same_bytes() -> None:
    client_rows = [client_row(log) for log in LOGS]
    assert rows.ndjson_lines(client_rows) == gzip.decompress(server_part("ndjson", export_rows.LOG_COLUMNS))
    client_csv = rows.csv_header(rows.COLUMNS) + rows.csv_lines(
        rows.csv_cells(row, rows.COLUMNS) for row in client_rows
    )
    assert client_csv == gzip.decompress(server_part("csv", export_rows.LOG_COLUMNS))


def test_parquet_is_the_same_table(tmp_path: Path) -> None:
    spool, output = tmp_path / "spool.ndjson", tmp_path / "logs.parquet"
    writer = NdjsonWriter(spool, 0)
    writer.write([client_row(log) for log in LOGS])
    writer.close()

    write_parquet_from_spool(spool, output, NoProgress(), len(LOGS), rows.COLUMNS)

    server = pq.read_table(io.BytesIO(server_part("parquet", export_rows.LOG_COLUMNS)))
    client = pq.read_table(output)
    assert client.schema.equals(server.schema)
    assert client.equals(server)


def test_the_client_imports_neither_the_service_nor_pyarrow() -> None:
    """A separate distribution: the service's package is on this path, and still nothing of it is loaded."""
    probe = (
        "import sys\n"
        "import request_logs_client, request_logs_client.cli.app, request_logs_client.cli.export\n"
        "service = sorted(m for m in sys.modules if m == 'request_logs' or m.startswith('request_logs.'))\n"
        "assert not service, service\n"
        "assert 'pyarrow' not in sys.modules, 'pyarrow is for Parquet only'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={"PYTHONPATH": f"{CLIENT_ROOT}:{LAYER_PATH}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
