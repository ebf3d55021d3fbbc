"""Writers of one export part: rows in, compressed bytes out to a local file, memory bounded by design.

- NDJSON: one JSON object per line through gzip (money as exact JSON numbers);
- CSV: a header line, then one line per row through gzip (null is an empty field, money its digits,
  ``metadata``/``request``/``response`` JSON text);
- Parquet: columns typed from ``models/export_rows`` (money ``decimal128(38, 12)``, JSON columns as
  strings), zstd inside, a row group every ``PARQUET_ROW_GROUP_ROWS`` rows or ``PARQUET_ROW_GROUP_BYTES``
  of text, whichever comes first.

pyarrow is imported here lazily, by the Parquet writer only: it is the export function's own dependency
(``functions/export_logs/requirements.txt``), never the shared layer's, so no other function loads it or
pays for it on a cold start (decisions §34).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import IO, Any, Protocol

from request_logs.domain.exports import ExportFormat
from request_logs.models.exact_json import dumps as exact_dumps
from request_logs.models.exact_json import mark_number
from request_logs.models.export_rows import Column, money_text

PARQUET_ROW_GROUP_ROWS = 10_000
PARQUET_ROW_GROUP_BYTES = 32 * 1024 * 1024
# Money columns: ingest keeps at most 12 decimal places, and 26 digits before the point hold any sum.
MONEY_PRECISION, MONEY_SCALE = 38, 12
_GZIP_LEVEL = 6


class PartWriter(Protocol):
    rows: int

    def write(self, row: dict[str, Any]) -> None: ...

    def written_bytes(self) -> int:
        """Bytes written to the file so far (compressed), give or take what the compressor holds."""
        ...

    def close(self) -> None:
        """Flush everything to the file (which stays open: the caller uploads it)."""
        ...


def open_part(export_format: ExportFormat, columns: Sequence[Column], file: IO[bytes]) -> PartWriter:
    if export_format == "ndjson":
        return _NdjsonWriter(columns, file)
    if export_format == "csv":
        return _CsvWriter(columns, file)
    return _ParquetWriter(columns, file)


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class _NdjsonWriter:
    def __init__(self, columns: Sequence[Column], file: IO[bytes]) -> None:
        self._file = file
        self._money = [column.name for column in columns if column.kind == "money"]
        self._gzip = gzip.GzipFile(fileobj=file, mode="wb", compresslevel=_GZIP_LEVEL, mtime=0)
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        marked = dict(row)
        for name in self._money:
            value = marked[name]
            if value is not None:
                marked[name] = mark_number(value)
        self._gzip.write(exact_dumps(marked).encode() + b"\n")
        self.rows += 1

    def written_bytes(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._gzip.close()  # writes the gzip trailer; the underlying file stays open


class _CsvWriter:
    def __init__(self, columns: Sequence[Column], file: IO[bytes]) -> None:
        self._file = file
        self._columns = list(columns)
        self._gzip = gzip.GzipFile(fileobj=file, mode="wb", compresslevel=_GZIP_LEVEL, mtime=0)
        self._text = io.TextIOWrapper(self._gzip, encoding="utf-8", newline="", write_through=True)
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._csv.writerow([column.name for column in self._columns])
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        self._csv.writerow([self._cell(column, row[column.name]) for column in self._columns])
        self.rows += 1

    @staticmethod
    def _cell(column: Column, value: Any) -> str:
        if value is None:
            return ""
        if column.kind == "money":
            return money_text(value)
        if column.kind == "bool":
            return "true" if value else "false"
        if column.kind == "json":
            return _json_text(value)
        return str(value)

    def written_bytes(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # closing the wrapper would close the gzip stream's file too
        self._gzip.close()


class _ParquetWriter:
    def __init__(self, columns: Sequence[Column], file: IO[bytes]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self._file = file
        self._columns = list(columns)
        types = {
            "string": pa.string(),
            "int": pa.int64(),
            "bool": pa.bool_(),
            "money": pa.decimal128(MONEY_PRECISION, MONEY_SCALE),
            "json": pa.string(),
        }
        self._schema = pa.schema([pa.field(column.name, types[column.kind]) for column in self._columns])
        self._writer = pq.ParquetWriter(file, self._schema, compression="zstd")
        self._buffer: dict[str, list[Any]] = {column.name: [] for column in self._columns}
        self._buffered_rows = 0
        self._buffered_bytes = 0
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        for column in self._columns:
            value = row[column.name]
            if column.kind == "json" and value is not None:
                value = _json_text(value)
                self._buffered_bytes += len(value)
            elif column.kind == "money" and value is not None:
                value = Decimal(value)
            elif isinstance(value, str):
                self._buffered_bytes += len(value)
            self._buffer[column.name].append(value)
        self._buffered_rows += 1
        self.rows += 1
        if self._buffered_rows >= PARQUET_ROW_GROUP_ROWS or self._buffered_bytes >= PARQUET_ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._buffered_rows:
            return
        table = self._pa.Table.from_pydict(self._buffer, schema=self._schema)
        self._writer.write_table(table)
        self._buffer = {column.name: [] for column in self._columns}
        self._buffered_rows = self._buffered_bytes = 0

    def written_bytes(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._flush()
        self._writer.close()
