"""The AWS cost of logging one million requests, all-in, from what one run measures on moto.

A sample of gateway traffic goes through the real write path, in process, on moto provisioned from
``template.yaml``: ``SAMPLE_LOGS`` messages of ``local.demo.messages`` (several accounts, keys, models
and providers, over ``SAMPLE_DAYS`` days) to ``IngestFunction`` as SQS events, then every record of the
logs table's stream to ``StatsAggregatorFunction``. botocore hooks on the handlers' clients see every
request (``Recorder``); the tables, the bucket and the handlers' output are measured afterwards. Nothing
is estimated that the run can count:

- DynamoDB write request units of every write, as DynamoDB bills them: ceil(item size ÷ 1 KB) of the
  larger of the item before and after (``local/stack/dynamodb_limits.item_size``), at least 1; on the
  logs table one more write per index the item has the keys of, of the index entry's size, which depends
  on the index's ``Projection`` read from the template (ALL: the item; KEYS_ONLY: the table's and the
  index's keys; INCLUDE: those and the attributes named). Read request units of the aggregator's
  consistent ``BatchGetItem``: ceil(size ÷ 4 KB) per item found, 1 per key not found.
- Storage: every stored item plus DynamoDB's 100 bytes of per-item overhead, on the table and on each
  index, for its retention (logs 90 days, content 30 days, ``domain/retention``), GB-months at 30 days a
  month; S3 objects for the bucket's lifecycle; point-in-time recovery on the tables the template
  enables it for. Statistics are kept forever: rollups are charged for ``ROLLUP_MONTHS`` months.
- SQS: the gateway's ``SendMessage`` (one request per 64 KB chunk of a message), Lambda's
  ``ReceiveMessage`` (per 64 KB of a batch) and ``DeleteMessageBatch`` per batch.
- Lambda: invocations, and GB-seconds at the template's memory for durations ASSUMED per invocation
  (``assumed_duration_ms``: calls × a round trip per service + CPU per record at the memory's vCPU
  share), since a handler on moto in process runs neither at Lambda's speed nor over a network. The
  handlers' own time here (wall time less the time spent in moto) is reported beside it.
- CloudWatch Logs: the bytes the handlers print per invocation, metrics enabled (EMF documents and log
  lines), plus the runtime's START, END and REPORT lines.

Batching follows a reference traffic, ``REFERENCE_LOGS_PER_DAY`` on one stream shard: SQS batches fill
to the template's ``BatchSize`` within its batching window, and a stream batch holds the records of one
window. The aggregator's writes per log depend on it; the figures at 1 record per batch and at a full
``BatchSize`` are computed from the same records by brute force (``bench.aggregator_writes``).

Left out, as not part of logging a request or not per log: API reads (a customer's reads are billed per
request), fixed monthly costs (custom metrics, alarms, idle SQS long polls, KMS requests of the AWS
managed key, which DynamoDB caches), DynamoDB Streams reads by Lambda and event filtering (free), TTL
deletions (free), cold starts (a few per execution environment's lifetime), free tiers.

``cost_per_million_logs_usd`` is the sample as the gateway sends it today: most messages name an end
user and carry metadata, which the ``by_user`` index and the user rollups also write (issue 12).
``cost_per_million_logs_vs_before`` divides by ``BEFORE_ISSUE_10_USD``, the same model run on the design
before issue 10, the cost of the same traffic without attribution (``cost_per_million_logs_unattributed_usd``:
the sample with ``user`` and ``metadata`` left out), which is what that design was priced on: like for like,
it says whether the bounded-read indexes made a log dearer. ``cost_per_million_logs_attributed_vs_before``
is the whole figure over the same baseline, what attribution adds on top (decisions §29).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import boto3
import time_machine
from moto import mock_aws

from bench.aggregator_writes import progress_items, touched_items
from local.demo.messages import DemoKey, generate_messages
from local.emulator.events import dynamodb_stream_event, sqs_event, sqs_record
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_reader import StreamReader
from local.stack.dynamodb_limits import item_size
from local.stack.provision import Stack, provision
from local.stack.template import Template, load_template
from request_logs.config import get_settings
from request_logs.domain.retention import CONTENT_RETENTION, LOG_RETENTION
from request_logs.domain.timeutil import from_ms, to_ms
from request_logs.store.dynamo import dynamodb, reset_clients, s3

# ---------------------------------------------------------------------------------------------- prices

PRICES_AS_OF = "2026-12"


@dataclass(frozen=True)
class Price:
    list_usd: float  # as the price list writes it: USD per ``per`` units
    per: int
    unit: str
    note: str = ""

    @property
    def usd(self) -> float:
        """USD per single unit."""
        return self.list_usd / self.per


# On-demand list prices, us-east-1, as of PRICES_AS_OF; free tiers ignored; GB = 2^30 bytes. The one table
# the model prices with (bench/cost_model.md renders it).
PRICES: dict[str, Price] = {
    "dynamodb_write_request": Price(0.625, 1_000_000, "write request units, on-demand"),
    "dynamodb_read_request": Price(0.125, 1_000_000, "read request units, on-demand"),
    "dynamodb_storage": Price(0.25, 1, "GB-month, Standard table class (indexes alike)"),
    "dynamodb_pitr": Price(0.20, 1, "GB-month of table size, continuous backups (PITR)"),
    "s3_storage": Price(0.023, 1, "GB-month, S3 Standard (first 50 TB)"),
    "s3_put": Price(0.005, 1_000, "PUT requests, S3 Standard"),
    "sqs_request": Price(0.40, 1_000_000, "requests (64 KB chunks), standard queue"),
    "lambda_request": Price(0.20, 1_000_000, "invocations"),
    "lambda_gb_second": Price(0.0000133334, 1, "GB-second, arm64 (first 7.5 billion GB-seconds a month)"),
    "logs_ingested": Price(
        0.50, 1, "GB ingested, CloudWatch Logs", "Lambda logs are vended logs, tiered: 0.50 is the first 10 TB"
    ),
    "logs_stored": Price(
        0.03, 1, "GB-month stored, CloudWatch Logs", "billed on compressed bytes: charged here uncompressed"
    ),
}

# The figure of the design before issue 10, measured by this model (same sample, assumptions and prices)
# on 2026-12-02 at commit 795ac2b: the logs table and its four filter GSIs (by_status, by_model,
# by_provider, by_api_key), projection ALL. cost_per_million_logs_vs_before divides by it.
BEFORE_ISSUE_10_USD = 13.32299
BEFORE_ISSUE_10_DATE = "2026-12-02"
BEFORE_ISSUE_10_COMMIT = "795ac2b"
BEFORE_ISSUE_10_DESIGN = "the logs table and its four filter GSIs, projection ALL"

# ------------------------------------------------------------------------------ DynamoDB arithmetic

KB = 1024
GB = 2**30
DAYS_PER_MONTH = 30
ITEM_OVERHEAD_BYTES = 100  # DynamoDB's per-item storage overhead, on a table and on each index
SQS_CHUNK_BYTES = 64 * KB
# Statistics are kept forever, so any horizon is a choice: rollups are charged for as long as the logs they
# summarise are kept (90 days); each further month is reported apart.
ROLLUP_MONTHS = 3
# The tables logging writes: logs, content, statistics (the API keys table is read by the authorizer only).
LOGGING_TABLES = ("RequestLogsTable", "RequestContentTable", "StatsTable")


def write_units(item_bytes: int) -> int:
    """On-demand write request units of one item write: 1 per KB, rounded up, at least 1."""
    return max(1, math.ceil(item_bytes / KB))


def read_units(item_bytes: int | None, *, consistent: bool = True) -> float:
    """Read request units of one item read: 1 per 4 KB rounded up (half for an eventually consistent
    read); a key that is not found costs the minimum."""
    units = max(1, math.ceil((item_bytes or 0) / (4 * KB)))
    return units if consistent else units / 2


def sqs_requests(payload_bytes: int) -> int:
    """SQS bills every 64 KB chunk of a request's payload as one request."""
    return max(1, math.ceil(payload_bytes / SQS_CHUNK_BYTES))


def gb_months(stored_bytes: float, days: float) -> float:
    return stored_bytes / GB * days / DAYS_PER_MONTH


@dataclass(frozen=True)
class IndexSpec:
    """A secondary index of a table as the template declares it."""

    name: str
    key_attributes: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: tuple[str, ...] = ()


def table_properties(template: Template, logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = template.resources[logical_id]["Properties"]
    return properties


def table_key_attributes(template: Template, logical_id: str) -> tuple[str, ...]:
    return tuple(key["AttributeName"] for key in table_properties(template, logical_id)["KeySchema"])


def table_indexes(template: Template, logical_id: str) -> list[IndexSpec]:
    """Every global and local secondary index of the table, with its keys and projection."""
    properties = table_properties(template, logical_id)
    return [
        IndexSpec(
            name=index["IndexName"],
            key_attributes=tuple(key["AttributeName"] for key in index["KeySchema"]),
            projection=index["Projection"]["ProjectionType"],
            non_key_attributes=tuple(index["Projection"].get("NonKeyAttributes", ())),
        )
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
        for index in properties.get(kind, [])
    ]


def index_entry(item: dict[str, Any], index: IndexSpec, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
    """The entry an item makes in an index (attribute-value form), or None when the item lacks one of the
    index's key attributes (a sparse index holds no entry for it, and writing the item writes none)."""
    if any(name not in item for name in index.key_attributes):
        return None
    if index.projection == "ALL":
        return dict(item)
    projected = {*table_keys, *index.key_attributes}
    if index.projection == "INCLUDE":
        projected.update(index.non_key_attributes)
    elif index.projection != "KEYS_ONLY":
        raise ValueError(f"unknown projection {index.projection} of index {index.name}")
    return {name: value for name, value in item.items() if name in projected}


def pitr_enabled(template: Template, logical_id: str) -> bool:
    specification = table_properties(template, logical_id).get("PointInTimeRecoverySpecification", {})
    return bool(specification.get("PointInTimeRecoveryEnabled", False))


def function_memory_mb(template: Template, logical_id: str) -> int:
    globals_ = template.document.get("Globals", {}).get("Function", {})
    properties = template.resources[logical_id]["Properties"]
    return int(properties.get("MemorySize", globals_.get("MemorySize", 128)))


def bucket_expiration_days(template: Template, logical_id: str) -> int:
    """The shortest expiration of the bucket's lifecycle rules (content objects)."""
    rules = template.resources[logical_id]["Properties"]["LifecycleConfiguration"]["Rules"]
    return min(int(rule["ExpirationInDays"]) for rule in rules if rule["Status"] == "Enabled")


# ------------------------------------------------------------------------------------ the bill


@dataclass
class Usage:
    """Billed quantities per logged request (means over the sample)."""

    wru_table: float = 0.0  # the log's conditional PutItem on the logs table
    wru_indexes: float = 0.0  # its index entries, every index
    wru_content: float = 0.0  # content items (BatchWriteItem)
    wru_rollups: float = 0.0  # the aggregator's conditional PutItems of rollups
    wru_progress: float = 0.0  # the aggregator's progress UpdateItems
    wru_late_marks: float = 0.0  # ingest's late-arrival UpdateItems
    rru_rollups: float = 0.0  # the aggregator's consistent BatchGetItem
    gb_months_table: float = 0.0
    gb_months_indexes: float = 0.0
    gb_months_content: float = 0.0
    gb_months_rollups: float = 0.0
    gb_months_pitr: float = 0.0  # continuous backups: table size of the tables with PITR on
    gb_months_s3: float = 0.0
    s3_puts: float = 0.0
    sqs_requests: float = 0.0
    lambda_invocations: float = 0.0
    lambda_gb_seconds: float = 0.0
    logs_gb_ingested: float = 0.0
    logs_gb_months: float = 0.0

    @property
    def wru(self) -> float:
        return (
            self.wru_table
            + self.wru_indexes
            + self.wru_content
            + self.wru_rollups
            + self.wru_progress
            + self.wru_late_marks
        )


# Category of the breakdown → its USD per logged request.
def bill(usage: Usage, prices: Mapping[str, Price] = PRICES) -> dict[str, float]:
    """USD per logged request, by category; ``total`` is their sum."""

    def usd(name: str) -> float:
        return prices[name].usd

    storage_gb_months = (
        usage.gb_months_table + usage.gb_months_indexes + usage.gb_months_content + usage.gb_months_rollups
    )
    breakdown = {
        "dynamodb_writes": usage.wru * usd("dynamodb_write_request"),
        "dynamodb_reads": usage.rru_rollups * usd("dynamodb_read_request"),
        "storage": storage_gb_months * usd("dynamodb_storage") + usage.gb_months_s3 * usd("s3_storage"),
        "backups": usage.gb_months_pitr * usd("dynamodb_pitr"),
        "s3_requests": usage.s3_puts * usd("s3_put"),
        "sqs": usage.sqs_requests * usd("sqs_request"),
        "lambda": usage.lambda_invocations * usd("lambda_request") + usage.lambda_gb_seconds * usd("lambda_gb_second"),
        "logs": usage.logs_gb_ingested * usd("logs_ingested") + usage.logs_gb_months * usd("logs_stored"),
    }
    return {**breakdown, "total": sum(breakdown.values())}


def index_share(usage: Usage, prices: Mapping[str, Price] = PRICES) -> float:
    """USD per logged request of the indexes alone: their writes and their storage."""
    return (
        usage.wru_indexes * prices["dynamodb_write_request"].usd
        + usage.gb_months_indexes * prices["dynamodb_storage"].usd
    )


# ------------------------------------------------------------------------------- Lambda durations

# ASSUMED, not measured: moto in process answers in microseconds over no network, on a faster CPU share.
# A DynamoDB request from Lambda in the region takes single-digit milliseconds at the service plus the
# SDK's signing and parsing; 10 ms is a round, slightly pessimistic figure. An S3 PUT of a small object,
# ~30 ms. Python's own work (validation, pricing, gzip, sketch merging) is charged per record at what
# this machine's in-process handlers take, rounded up, times the vCPU share Lambda gives the memory
# (1,769 MB = one vCPU): ~3.5x slower at 512 MB.
CALL_MS = {"dynamodb": 10.0, "s3": 30.0}
INVOCATION_OVERHEAD_MS = 5.0  # the runtime and Powertools around the handler: event parsing, logger, EMF
CPU_MS_PER_RECORD = {"IngestFunction": 1.5, "StatsAggregatorFunction": 3.0}  # on one full vCPU
LAMBDA_FULL_VCPU_MB = 1769


def assumed_duration_ms(function: str, records: int, calls: Mapping[str, int], memory_mb: int) -> float:
    """Billed duration of one invocation (whole milliseconds, as Lambda rounds up)."""
    cpu_share = min(1.0, memory_mb / LAMBDA_FULL_VCPU_MB)
    cpu_ms = (INVOCATION_OVERHEAD_MS + records * CPU_MS_PER_RECORD[function]) / cpu_share
    return math.ceil(cpu_ms + sum(CALL_MS[service] * count for service, count in calls.items()))


def platform_log_bytes(duration_ms: float, memory_mb: int) -> int:
    """The Lambda runtime's own lines per invocation (text format): START, END and REPORT."""
    request_id = "00000000-0000-0000-0000-000000000000"
    lines = [
        f"START RequestId: {request_id} Version: $LATEST",
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {math.ceil(duration_ms)} ms"
        f"\tMemory Size: {memory_mb} MB\tMax Memory Used: {memory_mb // 4} MB\t",
    ]
    return sum(len(line.encode()) + 1 for line in lines)


# ----------------------------------------------------------------------------------- the sample

SAMPLE_LOGS = 3_000
SAMPLE_DAYS = 3
SAMPLE_END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # fixed: the same sizes every run
SAMPLE_SEED = 1_000
# (account, its keys, its share of the traffic): a few tenants of different sizes share the stream. Ids
# of 16 characters after the prefix, as a production gateway's are more like than the demo's short ones.
ACCOUNTS = (
    ("acct_L4rg3T3n4ntQx7Zp", ("key_L4rg3K3yA9m2Rt8", "key_L4rg3K3yB3n7Wq1", "key_L4rg3K3yC6p4Xs5"), 0.55),
    ("acct_M3d1umT3n4ntK8v", ("key_M3d1umK3yA2h6Jd", "key_M3d1umK3yB5k9Lf"), 0.25),
    ("acct_Sm4llT3n4ntR2w9", ("key_Sm4llK3yA7c3Vb8",), 0.12),
    ("acct_T1nyT3n4ntF5j3Yq", ("key_T1nyK3yA4g8Nz2x",), 0.08),
)
# The traffic batching is sized for: a gateway logging a million requests a day, one stream shard.
REFERENCE_LOGS_PER_DAY = 1_000_000
# From a request's completion to ingest's stamp: the gateway's send, SQS, the poller (bench.dataset).
INGEST_DELAY_MS = 1_500


ATTRIBUTION_FIELDS = ("user", "metadata")


def sample_messages(count: int = SAMPLE_LOGS, *, attributed: bool = True) -> list[dict[str, Any]]:
    """The accounts' messages over the sample's days, in the order the gateway sends them (completion);
    without ``user`` and ``metadata`` unless ``attributed``."""
    end_ms = to_ms(SAMPLE_END)
    start_ms = end_ms - SAMPLE_DAYS * 86_400_000
    messages = []
    for position, (account, key_ids, share) in enumerate(ACCOUNTS):
        keys = [DemoKey(key_id, f"sk-{key_id[4:8]}...") for key_id in key_ids]
        messages += generate_messages(
            account, keys, round(count * share), start_ms, end_ms, seed=SAMPLE_SEED + position
        )
    if not attributed:
        messages = [{k: v for k, v in message.items() if k not in ATTRIBUTION_FIELDS} for message in messages]
    return sorted(messages, key=lambda message: (message["completed_at"], message["request_id"]))


def batch_records(batch_size: int, window_s: float) -> int:
    """Records per batch at the reference traffic: what one batching window collects, up to BatchSize."""
    return max(1, min(batch_size, math.ceil(REFERENCE_LOGS_PER_DAY / 86_400 * window_s)))


# ------------------------------------------------------------------------------------ recording


@dataclass(frozen=True)
class Write:
    function: str  # the handler that made it
    operation: str  # PutItem, UpdateItem, BatchWriteItem
    table: str
    billed_bytes: int  # the larger of the item before and after
    index_units: dict[str, int] = field(default_factory=dict)  # index → write units of its entry

    @property
    def units(self) -> int:
        return write_units(self.billed_bytes)


@dataclass
class Invocation:
    function: str
    records: int
    calls: Counter[str]  # service → requests
    own_s: float  # wall time less the time spent in AWS calls (moto, here)
    stdout_bytes: int


def _key(item: dict[str, Any], key_attributes: tuple[str, ...]) -> str:
    return json.dumps([item[name] for name in key_attributes], sort_keys=True)


class Recorder:
    """Every write, read and call the handlers' clients make, with the sizes DynamoDB bills.

    The size of each item is remembered as it is written or read, so an overwrite is billed on the larger
    of its old and new sizes without reading it again. An UpdateItem's result is looked up afterwards
    with a client of its own, which records nothing.
    """

    _BEFORE = "before-parameter-build"

    def __init__(self, stack: Stack) -> None:
        template = stack.template
        self.key_attributes = {
            stack.name(logical): table_key_attributes(template, logical)
            for logical in template.of_type("AWS::DynamoDB::Table")
        }
        self.indexes = {
            stack.name(logical): table_indexes(template, logical)
            for logical in template.of_type("AWS::DynamoDB::Table")
        }
        self.sizes: dict[tuple[str, str], int] = {}
        self.writes: list[Write] = []
        self.reads: list[tuple[str, str, int | None]] = []  # (function, table, size; None: not found)
        self.s3_puts: list[int] = []  # object sizes
        self.calls: Counter[str] = Counter()
        self.call_s = 0.0
        self.function = ""  # the handler being invoked
        self._inspect = boto3.client("dynamodb")

    @contextmanager
    def attached(self) -> Iterator[Recorder]:
        hooks = [
            (dynamodb(), f"{self._BEFORE}.dynamodb", self._dynamodb_request),
            (dynamodb(), "after-call.dynamodb", self._dynamodb_answer),
            (s3(), f"{self._BEFORE}.s3.PutObject", self._s3_put),
        ]
        for client, service in ((dynamodb(), "dynamodb"), (s3(), "s3")):
            hooks.append((client, f"before-call.{service}", self._call_started))
            hooks.append((client, f"after-call.{service}", self._call_ended(service)))
        for client, event, handler in hooks:
            client.meta.events.register(event, handler)
        try:
            yield self
        finally:
            for client, event, handler in hooks:
                client.meta.events.unregister(event, handler)

    def _call_started(self, context: dict[str, Any], **_: Any) -> None:
        context["cost_model_started"] = time.perf_counter()

    def _call_ended(self, service: str) -> Any:
        def ended(context: dict[str, Any], **_: Any) -> None:
            self.calls[service] += 1
            self.call_s += time.perf_counter() - context.pop("cost_model_started", time.perf_counter())

        return ended

    def _put(self, operation: str, table: str, item: dict[str, Any]) -> None:
        key = (table, _key(item, self.key_attributes[table]))
        new = item_size(item)
        old = self.sizes.get(key, 0)
        if old and self.indexes[table]:
            # Replacing an item rewrites (or deletes and puts) its index entries, priced differently; the
            # write path only ever inserts into the indexed table.
            raise RuntimeError(f"an item of {table}, which has indexes, was overwritten")
        index_units = {}
        for index in self.indexes[table]:
            entry = index_entry(item, index, self.key_attributes[table])
            if entry is not None:
                index_units[index.name] = write_units(item_size(entry))
        self.sizes[key] = new
        self.writes.append(Write(self.function, operation, table, max(old, new), index_units))

    def _dynamodb_request(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        operation = model.name
        if operation == "PutItem":
            self._put(operation, params["TableName"], params["Item"])
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" not in request:
                        raise RuntimeError(f"unexpected write in a BatchWriteItem: {sorted(request)}")
                    self._put(operation, table, request["PutRequest"]["Item"])
        elif operation == "UpdateItem":
            context["cost_model_update"] = (params["TableName"], params["Key"])
        elif operation == "BatchGetItem":
            context["cost_model_asked"] = {table: len(keys["Keys"]) for table, keys in params["RequestItems"].items()}
        elif operation in ("DeleteItem", "TransactWriteItems"):
            raise RuntimeError(f"the write path made a {operation}, which this model does not price")

    def _dynamodb_answer(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name == "UpdateItem" and "cost_model_update" in context:
            table, key_item = context.pop("cost_model_update")
            key = (table, _key(key_item, self.key_attributes[table]))
            stored = self._inspect.get_item(TableName=table, Key=key_item, ConsistentRead=True).get("Item")
            new = item_size(stored) if stored else 0
            self.writes.append(Write(self.function, "UpdateItem", table, max(self.sizes.get(key, 0), new)))
            self.sizes[key] = new
        elif model.name == "BatchGetItem" and "cost_model_asked" in context:
            asked = context.pop("cost_model_asked")
            unprocessed = parsed.get("UnprocessedKeys") or {}
            for table, count in asked.items():
                found = parsed.get("Responses", {}).get(table, [])
                for item in found:
                    size = item_size(item)
                    self.sizes[(table, _key(item, self.key_attributes[table]))] = size
                    self.reads.append((self.function, table, size))
                missing = count - len(found) - len(unprocessed.get(table, {}).get("Keys", []))
                self.reads.extend((self.function, table, None) for _ in range(missing))

    def _s3_put(self, params: dict[str, Any], **_: Any) -> None:
        body = params["Body"]
        self.s3_puts.append(len(body) if isinstance(body, (bytes, bytearray)) else len(body.read()))


@contextmanager
def _stdout_bytes() -> Iterator[list[int]]:
    """What the process writes to file descriptor 1 inside the block (Powertools' logger holds its own
    reference to the stream, so only the descriptor catches both its lines and the EMF documents)."""
    counted: list[int] = []
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield counted
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            counted.append(len(sink.read()))


def _invoke(
    functions: FunctionRegistry, recorder: Recorder, function: str, event: dict[str, Any]
) -> tuple[Any, Invocation]:
    calls_before, call_s_before = recorder.calls.copy(), recorder.call_s
    recorder.function = function
    with _stdout_bytes() as printed:
        started = time.perf_counter()
        response = functions.invoke(function, event)
        wall = time.perf_counter() - started
    recorder.function = ""
    calls = recorder.calls - calls_before
    own = wall - (recorder.call_s - call_s_before)
    return response, Invocation(function, len(event["Records"]), calls, own, printed[0])


# ---------------------------------------------------------------------------------- the measurement


@dataclass
class Run:
    """One pass of the sample through the write path: what it did, and the stack it left."""

    stack: Stack
    messages: list[dict[str, Any]]
    recorder: Recorder
    invocations: list[Invocation]
    stream_records: list[dict[str, Any]]
    ingest: str  # the functions' logical ids
    aggregator: str
    ingest_batch: int  # messages per SQS batch
    stream_batch: int  # records per stream batch
    stream_batch_size: int  # the template's BatchSize


def _completed_ms(message: dict[str, Any]) -> int:
    return to_ms(datetime.fromisoformat(message["completed_at"]))


def _push(stack: Stack, messages: list[dict[str, Any]], clock: Any) -> Run:
    """The messages through IngestFunction in SQS batches, then the stream through the aggregator."""
    template = stack.template
    functions = FunctionRegistry(template)
    ingest = "IngestFunction"
    sqs = template.event_source(ingest, "SQS")
    ((aggregator, stream),) = template.event_sources("DynamoDB")
    ingest_batch = batch_records(int(sqs["BatchSize"]), float(sqs.get("MaximumBatchingWindowInSeconds", 0)))
    stream_batch = batch_records(int(stream["BatchSize"]), float(stream.get("MaximumBatchingWindowInSeconds", 0)))
    for function in (ingest, aggregator):
        functions.handler(function)  # imported before anything is timed: Lambda bills the init apart
    dynamodb(), s3()  # the clients too, as a warm execution environment has them
    recorder = Recorder(stack)
    invocations: list[Invocation] = []
    queue_arn = stack.arns["IngestQueue.Arn"]
    stream_records: list[dict[str, Any]] = []
    with recorder.attached():
        for start in range(0, len(messages), ingest_batch):
            batch = messages[start : start + ingest_batch]
            # At the reference traffic a batch fills within a second. The sample is sparser (a batch spans
            # minutes of it), so the clock stands where its first message is received: no log is late,
            # as none would be at that traffic.
            clock.move_to(from_ms(_completed_ms(batch[0]) + INGEST_DELAY_MS))
            records = [
                sqs_record(json.dumps(message), queue_arn=queue_arn, message_id=f"m{start + i}")
                for i, message in enumerate(batch)
            ]
            response, invocation = _invoke(functions, recorder, ingest, sqs_event(records))
            if response["batchItemFailures"]:
                raise RuntimeError(f"ingest reported failures: {response['batchItemFailures'][:3]}")
            invocations.append(invocation)
        reader = StreamReader(stack.stream_arns["RequestLogsTable"])
        while polled := reader.poll(limit=stream_batch):
            for records in polled.values():
                if any(record["eventName"] != "INSERT" for record in records):
                    raise RuntimeError("the stream holds records other than INSERTs, which the filter drops")
                stamps = [int(record["dynamodb"]["NewImage"]["ingested_ms"]["N"]) for record in records]
                clock.move_to(from_ms(max(stamps) + 1_000))  # delivered as the batching window closes
                response, invocation = _invoke(functions, recorder, aggregator, dynamodb_stream_event(records))
                if response["batchItemFailures"]:
                    raise RuntimeError(f"the aggregator reported failures: {response['batchItemFailures'][:3]}")
                invocations.append(invocation)
                stream_records.extend(records)
    if len(stream_records) != len(messages):
        raise RuntimeError(f"{len(messages)} messages sent, {len(stream_records)} logs on the stream")
    return Run(
        stack,
        messages,
        recorder,
        invocations,
        stream_records,
        ingest,
        aggregator,
        ingest_batch,
        stream_batch,
        int(stream["BatchSize"]),
    )


@contextmanager
def sample_run(count: int = SAMPLE_LOGS, *, attributed: bool = True) -> Iterator[Run]:
    """moto in process provisioned from the template, the functions' environment with metrics on, the
    clock frozen and moved by the run, and the sample pushed through."""
    messages = sample_messages(count, attributed=attributed)
    metrics_on = {"POWERTOOLS_METRICS_DISABLED": "false", "POWERTOOLS_DEV": "false"}
    with mock_aws(), time_machine.travel(from_ms(_completed_ms(messages[0])), tick=False) as clock:
        stack = provision()
        with mock.patch.dict(os.environ, {**stack.function_environment(), **metrics_on}):
            get_settings.cache_clear()
            reset_clients()
            try:
                yield _push(stack, messages, clock)
            finally:
                reset_clients()
                get_settings.cache_clear()


def _scan(table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")  # not the handlers' client: these reads are the benchmark's
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": table}
    while True:
        response = client.scan(**params)
        items.extend(response["Items"])
        if "LastEvaluatedKey" not in response:
            return items
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _aggregator_writes_per_log(records: list[dict[str, Any]], batch: int) -> float:
    """Rollup and progress writes per log if the stream came in batches of ``batch`` records: one write per
    rollup item a batch touches (``aggregator_writes_per_rollup_item`` holds the aggregator to that) and
    one per account, brute force from the records (``bench.aggregator_writes``)."""
    writes = 0
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        writes += len(touched_items(chunk)) + len(progress_items(chunk))
    return writes / len(records)


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def usage_of(run: Run) -> tuple[Usage, dict[str, float]]:
    """The billed quantities per log, and the supporting figures they come from."""
    stack, recorder, logs, template = run.stack, run.recorder, len(run.messages), run.stack.template
    logs_table, content_table, stats_table = (stack.name(logical) for logical in LOGGING_TABLES)
    writes = recorder.writes
    unpriced = {w.table for w in writes} - {logs_table, content_table, stats_table}
    if unpriced:
        raise RuntimeError(f"writes to tables this model does not price: {sorted(unpriced)}")
    log_writes = [w for w in writes if w.table == logs_table]
    content_writes = [w for w in writes if w.table == content_table]
    if len(log_writes) != logs or len(content_writes) != logs:
        raise RuntimeError(f"{logs} logs, yet {len(log_writes)} log and {len(content_writes)} content writes")
    stats_writes = [w for w in writes if w.table == stats_table]
    rollup_writes = [w for w in stats_writes if w.function == run.aggregator and w.operation == "PutItem"]
    progress_writes = [w for w in stats_writes if w.function == run.aggregator and w.operation == "UpdateItem"]
    late_marks = [w for w in stats_writes if w.function == run.ingest]
    if len(rollup_writes) + len(progress_writes) + len(late_marks) != len(stats_writes):
        raise RuntimeError("stats table writes this model does not know")
    rollup_reads = [size for function, table, size in recorder.reads if table == stats_table]
    if len(rollup_reads) != len(recorder.reads):
        raise RuntimeError("reads of tables other than the stats table while logging")
    indexes = recorder.indexes[logs_table]
    index_units = {index.name: sum(w.index_units.get(index.name, 0) for w in log_writes) for index in indexes}

    # Storage: what the tables and the bucket hold at the end, for its retention.
    log_items = _scan(logs_table)
    table_keys = recorder.key_attributes[logs_table]
    log_sizes = [item_size(item) for item in log_items]
    entry_sizes = {
        index.name: [
            item_size(entry) for entry in (index_entry(item, index, table_keys) for item in log_items) if entry
        ]
        for index in indexes
    }
    content_sizes = [item_size(item) for item in _scan(content_table)]
    stats_sizes = [item_size(item) for item in _scan(stats_table)]
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=stack.name("ContentBucket"))
    objects = [obj for page in pages for obj in page.get("Contents", [])]
    if len(objects) != len(recorder.s3_puts):
        raise RuntimeError(f"{len(recorder.s3_puts)} S3 PUTs, {len(objects)} objects in the bucket")

    def stored(sizes: list[int]) -> int:
        return sum(size + ITEM_OVERHEAD_BYTES for size in sizes)

    log_days, content_days, rollup_days = LOG_RETENTION.days, CONTENT_RETENTION.days, ROLLUP_MONTHS * DAYS_PER_MONTH
    table_bytes, content_bytes, stats_bytes = stored(log_sizes), stored(content_sizes), stored(stats_sizes)
    index_bytes = sum(stored(sizes) for sizes in entry_sizes.values())
    table_sizes = (table_bytes, log_days), (content_bytes, content_days), (stats_bytes, rollup_days)
    pitr = sum(
        gb_months(size, days)
        for logical, (size, days) in zip(LOGGING_TABLES, table_sizes, strict=True)
        if pitr_enabled(template, logical)
    )

    # Lambda at the assumed durations; CloudWatch Logs from what the handlers printed.
    gb_seconds, log_bytes = 0.0, 0
    durations: dict[str, list[float]] = {run.ingest: [], run.aggregator: []}
    for invocation in run.invocations:
        memory = function_memory_mb(template, invocation.function)
        duration = assumed_duration_ms(invocation.function, invocation.records, invocation.calls, memory)
        durations[invocation.function].append(duration)
        gb_seconds += memory / 1024 * duration / 1000
        log_bytes += invocation.stdout_bytes + platform_log_bytes(duration, memory)
    log_group_days = int(template.parameter_default("LogRetentionInDays"))

    # SQS: the gateway's sends, then per batch one receive (per 64 KB of the batch) and one delete.
    bodies = [len(json.dumps(message).encode()) for message in run.messages]
    batches = [bodies[start : start + run.ingest_batch] for start in range(0, logs, run.ingest_batch)]
    sqs = sum(sqs_requests(size) for size in bodies) + sum(sqs_requests(sum(batch)) + 1 for batch in batches)

    usage = Usage(
        wru_table=sum(w.units for w in log_writes) / logs,
        wru_indexes=sum(index_units.values()) / logs,
        wru_content=sum(w.units for w in content_writes) / logs,
        wru_rollups=sum(w.units for w in rollup_writes) / logs,
        wru_progress=sum(w.units for w in progress_writes) / logs,
        wru_late_marks=sum(w.units for w in late_marks) / logs,
        rru_rollups=sum(read_units(size) for size in rollup_reads) / logs,
        gb_months_table=gb_months(table_bytes, log_days) / logs,
        gb_months_indexes=gb_months(index_bytes, log_days) / logs,
        gb_months_content=gb_months(content_bytes, content_days) / logs,
        gb_months_rollups=gb_months(stats_bytes, rollup_days) / logs,
        gb_months_pitr=pitr / logs,
        gb_months_s3=gb_months(sum(o["Size"] for o in objects), bucket_expiration_days(template, "ContentBucket"))
        / logs,
        s3_puts=len(recorder.s3_puts) / logs,
        sqs_requests=sqs / logs,
        lambda_invocations=len(run.invocations) / logs,
        lambda_gb_seconds=gb_seconds / logs,
        logs_gb_ingested=log_bytes / GB / logs,
        logs_gb_months=gb_months(log_bytes, log_group_days) / logs,
    )
    own_ms = {
        function: [i.own_s * 1000 for i in run.invocations if i.function == function]
        for function in (run.ingest, run.aggregator)
    }
    printed = {
        function: [i.stdout_bytes for i in run.invocations if i.function == function]
        for function in (run.ingest, run.aggregator)
    }
    supporting: dict[str, float] = {
        "cost_model_logs": logs,
        "cost_model_accounts": len(ACCOUNTS),
        "cost_model_days": SAMPLE_DAYS,
        "cost_model_log_item_bytes_mean": _mean(log_sizes),
        "cost_model_log_item_bytes_max": max(log_sizes),
        "cost_model_index_entry_bytes_mean": _mean([s for sizes in entry_sizes.values() for s in sizes]),
        "cost_model_content_item_bytes_mean": _mean(content_sizes),
        "cost_model_rollup_item_bytes_mean": _mean([w.billed_bytes for w in rollup_writes]),
        "cost_model_rollup_items_stored": len(stats_sizes),
        # Stored bytes per log, DynamoDB's per-item overhead included.
        "cost_model_stored_bytes_per_log_table": table_bytes / logs,
        "cost_model_stored_bytes_per_log_indexes": index_bytes / logs,
        "cost_model_stored_bytes_per_log_content": content_bytes / logs,
        "cost_model_stored_bytes_per_log_rollups": stats_bytes / logs,
        "cost_model_s3_puts": len(recorder.s3_puts),
        **{f"cost_model_wru_per_log_{name}": units / logs for name, units in index_units.items()},
        "cost_model_rollup_writes_per_log": len(rollup_writes) / logs,
        "cost_model_progress_writes_per_log": len(progress_writes) / logs,
        "cost_model_late_marks": len(late_marks),
        "cost_model_aggregator_writes_per_log_batch_1": _aggregator_writes_per_log(run.stream_records, 1),
        "cost_model_aggregator_writes_per_log_batch_max": _aggregator_writes_per_log(
            run.stream_records, run.stream_batch_size
        ),
        "cost_model_ingest_batch_records": run.ingest_batch,
        "cost_model_stream_batch_records": run.stream_batch,
        "cost_model_ingest_assumed_ms_mean": _mean(durations[run.ingest]),
        "cost_model_aggregator_assumed_ms_mean": _mean(durations[run.aggregator]),
        "cost_model_ingest_own_ms_median": statistics.median(own_ms[run.ingest]),
        "cost_model_aggregator_own_ms_median": statistics.median(own_ms[run.aggregator]),
        "cost_model_ingest_printed_bytes_mean": _mean(printed[run.ingest]),
        "cost_model_aggregator_printed_bytes_mean": _mean(printed[run.aggregator]),
    }
    return usage, supporting


def cost_figures(usage: Usage, supporting: Mapping[str, float], unattributed: Usage) -> dict[str, float]:
    """results.json's figures: the cost per million logs, its breakdown, the quantities behind it, and the
    same traffic's cost without attribution (``unattributed``), which the issue-10 baseline compares with."""
    million = 1_000_000
    per_log = bill(usage)
    total = per_log.pop("total") * million
    plain = bill(unattributed)["total"] * million
    return {
        "cost_per_million_logs_usd": total,
        **{f"cost_per_million_logs_{name}_usd": usd * million for name, usd in per_log.items()},
        "cost_per_million_logs_indexes_usd": index_share(usage) * million,
        "cost_per_million_logs_unattributed_usd": plain,
        # Rounded: the model is deterministic but for the digits of a few printed numbers.
        "cost_per_million_logs_vs_before": round(plain / BEFORE_ISSUE_10_USD, 3),
        "cost_per_million_logs_attributed_vs_before": round(total / BEFORE_ISSUE_10_USD, 3),
        "cost_model_wru_per_log": usage.wru,
        "cost_model_wru_per_log_table": usage.wru_table,
        "cost_model_wru_per_log_indexes": usage.wru_indexes,
        "cost_model_wru_per_log_content": usage.wru_content,
        "cost_model_wru_per_log_rollups": usage.wru_rollups,
        "cost_model_wru_per_log_progress": usage.wru_progress,
        "cost_model_wru_per_log_late_marks": usage.wru_late_marks,
        "cost_model_rru_per_log": usage.rru_rollups,
        "cost_model_s3_puts_per_log": usage.s3_puts,
        "cost_model_sqs_requests_per_log": usage.sqs_requests,
        "cost_model_lambda_invocations_per_log": usage.lambda_invocations,
        "cost_model_lambda_gb_seconds_per_log": usage.lambda_gb_seconds,
        "cost_model_cloudwatch_bytes_per_log": usage.logs_gb_ingested * GB,
        **supporting,
    }


def measure_cost_model(count: int = SAMPLE_LOGS) -> dict[str, float]:
    started = time.monotonic()
    with sample_run(count) as run:
        usage, supporting = usage_of(run)
    with sample_run(count, attributed=False) as run:
        unattributed, _ = usage_of(run)
    print(f"  {count} logs through ingest and the aggregator, twice, in {time.monotonic() - started:.0f} s")
    return cost_figures(usage, supporting, unattributed)


# ------------------------------------------------------------------------------------- the report

CATEGORIES = {
    "dynamodb_writes": "DynamoDB writes",
    "dynamodb_reads": "DynamoDB reads",
    "storage": "storage",
    "backups": "backups (PITR)",
    "s3_requests": "S3 requests",
    "sqs": "SQS",
    "lambda": "Lambda",
    "logs": "CloudWatch Logs",
}


def _usd(value: float) -> str:
    return f"{value:,.2f}"


def _price_rows() -> str:
    per = {1: "", 1_000: "1,000 ", 1_000_000: "million "}
    rows = []
    for name, price in PRICES.items():
        usd = f"{price.list_usd:.10f}".rstrip("0").rstrip(".")
        rows.append(f"| `{name}` | {usd} | {per[price.per]}{price.unit} | {price.note} |")
    return "\n".join(rows)


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/cost_model.md says besides the figures themselves."""
    template = load_template()
    sqs = template.event_source("IngestFunction", "SQS")
    ((aggregator, stream),) = template.event_sources("DynamoDB")
    indexes = table_indexes(template, "RequestLogsTable")
    memory = function_memory_mb(template, aggregator)
    million = 1_000_000
    write, read, storage = (
        PRICES[n].usd for n in ("dynamodb_write_request", "dynamodb_read_request", "dynamodb_storage")
    )

    def pitr(logical: str) -> float:
        return PRICES["dynamodb_pitr"].usd if pitr_enabled(template, logical) else 0.0

    rollup_gb = figures["cost_model_stored_bytes_per_log_rollups"] * million / GB
    pitr_tables = [logical for logical in LOGGING_TABLES if pitr_enabled(template, logical)]
    return {
        "account_shares": ", ".join(f"{share:.0%}" for _, _, share in ACCOUNTS),
        "account_keys": f"{min(len(keys) for _, keys, _ in ACCOUNTS)} to {max(len(keys) for _, keys, _ in ACCOUNTS)}",
        "reference_logs_per_day": f"{REFERENCE_LOGS_PER_DAY:,}",
        "sqs_window_s": f"{float(sqs.get('MaximumBatchingWindowInSeconds', 0)):g}",
        "stream_window_s": f"{float(stream.get('MaximumBatchingWindowInSeconds', 0)):g}",
        "stream_batch_size": f"{int(stream['BatchSize']):,}",
        "indexes": ", ".join(f"`{index.name}` {index.projection}" for index in indexes) or "no index",
        "log_days": str(LOG_RETENTION.days),
        "content_days": str(CONTENT_RETENTION.days),
        "rollup_months": str(ROLLUP_MONTHS),
        "rollup_extra_month_usd": _usd(rollup_gb * (storage + pitr("StatsTable"))),
        "log_group_days": str(template.parameter_default("LogRetentionInDays")),
        "pitr_tables": ", ".join(f"`{logical}`" for logical in pitr_tables) or "none",
        "before_usd": _usd(BEFORE_ISSUE_10_USD),
        "before_design": BEFORE_ISSUE_10_DESIGN,
        "before_date": BEFORE_ISSUE_10_DATE,
        "before_commit": BEFORE_ISSUE_10_COMMIT,
        "aggregator_write_usd": _usd((write + read) * million),
        "content_kb_usd": _usd(
            write * million + gb_months(KB * million, CONTENT_RETENTION.days) * (storage + pitr("RequestContentTable"))
        ),
        "dynamodb_call_ms": f"{CALL_MS['dynamodb']:g}",
        "s3_call_ms": f"{CALL_MS['s3']:g}",
        "overhead_ms": f"{INVOCATION_OVERHEAD_MS:g}",
        "ingest_cpu_ms": f"{CPU_MS_PER_RECORD['IngestFunction']:g}",
        "aggregator_cpu_ms": f"{CPU_MS_PER_RECORD['StatsAggregatorFunction']:g}",
        "memory_mb": str(memory),
        "vcpu_share": f"{min(1.0, memory / LAMBDA_FULL_VCPU_MB):.2f}",
        "prices_as_of": PRICES_AS_OF,
        "price_rows": _price_rows(),
    }


def breakdown(figures: Mapping[str, float]) -> str:
    """The cost per million logs by category, for a terminal."""
    total = figures["cost_per_million_logs_usd"]
    lines = [f"cost per million logged requests: ${total:,.6f} (list prices as of {PRICES_AS_OF}, us-east-1)"]
    for name, label in CATEGORIES.items():
        usd = figures[f"cost_per_million_logs_{name}_usd"]
        lines.append(f"  {label:<18} ${usd:>8,.3f}  {usd / total:6.1%}")
    lines.append(f"  of which indexes   ${figures['cost_per_million_logs_indexes_usd']:>8,.3f}")
    lines.append(f"  without attribution ${figures['cost_per_million_logs_unattributed_usd']:,.3f}")
    lines.append(
        f"  vs before issue 10: {figures['cost_per_million_logs_vs_before']:.3f} (÷ ${_usd(BEFORE_ISSUE_10_USD)})"
    )
    return "\n".join(lines)


def main() -> None:
    figures = measure_cost_model()
    for name in sorted(figures):
        if not name.startswith("cost_per_million_logs"):
            print(f"{name} = {figures[name]:,.6g}")
    print(breakdown(figures))


if __name__ == "__main__":
    main()
