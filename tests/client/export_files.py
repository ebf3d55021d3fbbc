"""Reading back a file ``rlogs export`` wrote, in any of its formats, as rows of strings or values."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from request_logs_client import _json


def read_back(path: Path, export_format: str) -> list[dict[str, Any]]:
    if export_format == "ndjson":
        return [_json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if export_format == "csv":
        with path.open(newline="", encoding="utf-8") as file:
            return list(csv.DictReader(file))
    return pq.read_table(path).to_pylist()
