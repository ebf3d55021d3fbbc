"""Exports over HTTP on the local runtime: POST through the gateway, the export queue's poller runs the export
function as the template's event source does, and the presigned URLs download from moto's server on
loopback, byte for byte what the manifest says."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
import requests

from local.stack.template import ROOT
from request_logs.domain.ids import make_log_id
from request_logs.domain.timeutil import parse_instant
from tests.e2e.conftest import LocalApi

pytestmark = pytest.mark.e2e

EXPORTS = "/api/account/request-logs/exports"
CONTENT_RETENTION = timedelta(days=30)


@pytest.fixture
def api(export_api: LocalApi) -> LocalApi:
    return export_api


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def finished(api: LocalApi, location: str, key: str, timeout_s: float = 60) -> dict[str, Any]:
    """GET the export until it has succeeded or failed (the poller runs it meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while True:
        api.clock.advance(1)  # one token of the route's throttle
        answer = requests.get(f"{api.base_url}{location}", headers=bearer(key), timeout=30)
        assert answer.status_code == 200, answer.text
        detail: dict[str, Any] = answer.json()
        if detail["status"] in ("succeeded", "failed"):
            return detail
        assert time.monotonic() < deadline, detail
        time.sleep(0.1)


def start(api: LocalApi, body: dict[str, Any], key: str) -> str:
    api.clock.advance(2)
    answer = requests.post(f"{api.base_url}{EXPORTS}", json=body, headers=bearer(key), timeout=30)
    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"] == f"{EXPORTS}/{answer.json()['id']}"
    return answer.headers["Location"]


def download(url: str) -> bytes:
    assert urlsplit(url).hostname == "127.0.0.1"  # the local stack's S3, on loopback
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    return answer.content


def expected_ids(api: LocalApi, start_date: str) -> list[str]:
    since = parse_instant(start_date)
    mine = [m for m in api.first_messages if parse_instant(m["created_at"]) >= since]
    newest_first = sorted(mine, key=lambda m: (parse_instant(m["created_at"]), log_id(api, m)), reverse=True)
    return [log_id(api, m) for m in newest_first]


def log_id(api: LocalApi, message: dict[str, Any]) -> str:
    return make_log_id(api.first.account_id, message["request_id"], parse_instant(message["created_at"]))


@pytest.mark.parametrize("export_format", ["ndjson", "parquet"])
def test_an_export_runs_on_the_local_stack_and_its_urls_download_from_loopback(
    api: LocalApi, export_format: str
) -> None:
    start_date = (datetime.now(UTC) - timedelta(days=89)).date().isoformat()
    location = start(
        api, {"format": export_format, "start_date": start_date, "include_content": True}, api.first.api_key
    )

    detail = finished(api, location, api.first.api_key)
    assert detail["status"] == "succeeded", detail
    expected = expected_ids(api, start_date)
    assert detail["progress"] == {"rows": len(expected), "total": len(expected), "fraction": 1.0}
    assert len(detail["parts"]) >= 3
    manifest = json.loads(download(detail["manifest_url"]))
    assert [part["sha256"] for part in manifest["parts"]] == [part["sha256"] for part in detail["parts"]]
    rows: list[dict[str, Any]] = []
    for part, url in zip(detail["parts"], detail["urls"], strict=True):
        data = download(url)
        assert hashlib.sha256(data).hexdigest() == part["sha256"]
        if export_format == "ndjson":
            rows += [json.loads(line) for line in gzip.decompress(data).decode().splitlines()]
        else:
            rows += pq.read_table(io.BytesIO(data)).to_pylist()
    assert [row["id"] for row in rows] == expected  # every log once, newest first
    by_id = {log_id(api, m): m for m in api.first_messages}
    content_since = datetime.now(UTC) - CONTENT_RETENTION + timedelta(minutes=5)
    for row in rows:
        message = by_id[row["id"]]
        request = json.loads(row["request"]) if isinstance(row["request"], str) else row["request"]
        if datetime.fromisoformat(message["created_at"]) > content_since:
            assert request == message["request"]
        elif datetime.fromisoformat(message["created_at"]) < content_since - timedelta(minutes=10):
            assert request is None


def test_another_key_of_another_account_sees_no_export_of_the_first(api: LocalApi) -> None:
    location = start(api, {"format": "csv", "status": "error"}, api.first.api_key)
    finished(api, location, api.first.api_key)

    api.clock.advance(1)
    theirs = requests.get(f"{api.base_url}{location}", headers=bearer(api.second.api_key), timeout=30)
    assert theirs.status_code == 404
    assert theirs.json()["error"]["param"] == "id"
    api.clock.advance(1)
    listed = requests.get(f"{api.base_url}{EXPORTS}", headers=bearer(api.second.api_key), timeout=30).json()
    assert location.rsplit("/", 1)[-1] not in {export["id"] for export in listed["exports"]}
    api.clock.advance(1)
    own = requests.get(f"{api.base_url}{EXPORTS}", headers=bearer(api.first.api_key), timeout=30).json()
    assert own["exports"][0]["id"] == location.rsplit("/", 1)[-1]


def test_a_bad_export_request_is_a_400_naming_the_parameter_over_http(api: LocalApi) -> None:
    api.clock.advance(2)
    answer = requests.post(
        f"{api.base_url}{EXPORTS}", json={"format": "xml"}, headers=bearer(api.first.api_key), timeout=30
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "format"


def readme_export_block() -> str:
    """The README's bulk-export example, as a reader pastes it after `make run`."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Bulk export") :]
    start = section.index("```bash\n") + len("```bash\n")
    return section[start : section.index("\n```", start)]


@pytest.mark.skipif(
    not (shutil.which("bash") and shutil.which("curl")), reason="the README's example runs in bash with curl"
)
def test_the_readmes_export_example_works_verbatim(api: LocalApi, tmp_path: Path) -> None:
    environment = {**os.environ, "RL_BASE_URL": api.base_url, "RL_API_KEY": api.first.api_key}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_export_block()],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "EXPORT_ID" in readme_export_block()
    parts = sorted(tmp_path.glob("part-*.csv.gz"))
    assert parts, (done.stdout, sorted(tmp_path.iterdir()))
    rows = [row for part in parts for row in csv.DictReader(io.StringIO(gzip.decompress(part.read_bytes()).decode()))]
    errors = [m for m in api.in_default_window(api.first_messages) if m["status"] == "error"]
    assert sorted(row["id"] for row in rows) == sorted(log_id(api, m) for m in errors)
    listed = json.loads(done.stdout.strip().splitlines()[-1])
    assert listed["exports"][0]["status"] == "succeeded"
