"""Server-side exports: what an export reads per row, and how its memory grows with its size, through the
real handlers (``POST …/exports``, then ``ExportLogsFunction`` on each message of the export queue).

- ``export_read_amplification``: DynamoDB items read by every call of every run of the export function
  (``bench.dynamo_tally``: Query ``ScannedCount``, BatchGetItem and GetItem items) ÷ rows exported, for an
  export of 100,000 logs (one account, 30 days, aggregated by the real stream aggregator first, as a
  deployed stack's would be: the filtered total then comes from the rollups). In process, on moto.
- ``export_memory_growth``: the peak of Python's allocations (``tracemalloc``) while the export function
  handles the runs of an export of 100,000 logs ÷ the same for an export of 10,000 logs (the newest of the
  same data: a ``start_date`` at the 10,000th newest log). Against moto's server in a child process, as on
  AWS: S3 and DynamoDB keep their data elsewhere, so the peak is the function's own. Each run is given
  time for 25 pages, then hands over to the next (so the 100,000-log export takes several runs, the
  10,000-log one a single run).

bench/export.md explains the choices. Both exports are checked: every log of the range exactly once.
"""

from __future__ import annotations

import gzip
import json
import os
import time
import tracemalloc
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3

from bench.dataset import ACCOUNT_ID, DAY_MS, KEYS, Dataset, build_dataset, write_logs
from bench.dynamo_tally import tally
from bench.stats_reads import _quiet_functions, aggregated_stack
from local.emulator.events import rest_proxy_event, sqs_event, sqs_record
from local.emulator.lambda_runtime import FunctionRegistry, LambdaContext
from local.stack.moto_server import MotoServer, use_endpoint
from local.stack.provision import Stack, provision
from request_logs.config import get_settings
from request_logs.domain.timeutil import format_ms, now_ms
from request_logs.store.dynamo import dynamodb, reset_clients

EXPORTS_PATH = "/api/account/request-logs/exports"
FUNCTION = "ExportLogsFunction"
LARGE, SMALL = 100_000, 10_000
DAYS = 30
PAGES_PER_RUN = 25
SEED = 1414
MIB = 1024 * 1024


@dataclass
class PagedContext(LambdaContext):
    """A run's remaining time: plenty for ``pages`` pages, then short (the run checks it once a page)."""

    pages: int = PAGES_PER_RUN

    def get_remaining_time_in_millis(self) -> int:
        self.pages -= 1
        return 600_000 if self.pages >= 0 else 1_000


@dataclass(frozen=True)
class ExportRun:
    export_id: str
    rows: int
    runs: int
    parts: int
    peak_bytes: int  # of tracemalloc, while the handler ran (0 when not traced)


def _start(stack: Stack, functions: FunctionRegistry, body: dict[str, Any]) -> str:
    event = rest_proxy_event(
        method="POST",
        resource=EXPORTS_PATH,
        path=EXPORTS_PATH,
        stage=stack.template.stage_name(),
        headers=[("Content-Type", "application/json")],
        authorizer={
            "principalId": ACCOUNT_ID,
            "account_id": ACCOUNT_ID,
            "api_key_id": KEYS[0].api_key_id,
            "api_key_prefix": KEYS[0].prefix,
            "integrationLatency": 0,
        },
        body=json.dumps(body),
    )
    answer = functions.invoke("CreateExportFunction", event)
    if answer["statusCode"] != 202:
        raise RuntimeError(f"POST {EXPORTS_PATH} {body}: {answer['statusCode']} {answer['body']}")
    return str(json.loads(answer["body"])["id"])


def _run(stack: Stack, functions: FunctionRegistry, export_id: str, *, traced: bool) -> ExportRun:
    """Every message of the export queue through the export function until none is left."""
    sqs = boto3.client("sqs")
    queue_url, queue_arn = stack.queue_urls["ExportQueue"], stack.arns["ExportQueue.Arn"]
    handler = functions.handler(FUNCTION)
    runs, peak = 0, 0
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1).get("Messages", []):
        (message,) = messages
        event = sqs_event([sqs_record(message["Body"], queue_arn=queue_arn)])
        if traced:
            tracemalloc.reset_peak()
        result = handler(event, PagedContext(function_name=FUNCTION, timeout_seconds=900))
        if traced:
            peak = max(peak, tracemalloc.get_traced_memory()[1])
        if result != {"batchItemFailures": []}:
            raise RuntimeError(f"an export run failed: {result}")
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        runs += 1
    detail = _detail(stack, functions, export_id)
    if detail["status"] != "succeeded":
        raise RuntimeError(f"export {export_id} ended {detail['status']}: {detail.get('error')}")
    return ExportRun(export_id, detail["rows"], runs, len(detail["parts"]), peak)


def _detail(stack: Stack, functions: FunctionRegistry, export_id: str) -> dict[str, Any]:
    path = f"{EXPORTS_PATH}/{export_id}"
    event = rest_proxy_event(
        method="GET",
        resource=f"{EXPORTS_PATH}/{{id}}",
        path=path,
        stage=stack.template.stage_name(),
        path_parameters={"id": export_id},
        authorizer={"principalId": ACCOUNT_ID, "account_id": ACCOUNT_ID, "integrationLatency": 0},
    )
    answer = functions.invoke("GetExportFunction", event)
    detail: dict[str, Any] = json.loads(answer["body"])
    return detail


def _check_rows(stack: Stack, export_id: str, expected_ids: list[str]) -> None:
    """Brute force: the parts hold exactly the logs of the range, once each, newest first."""
    bucket = stack.name("ExportsBucket")
    s3 = boto3.client("s3")
    prefix = f"exports/{ACCOUNT_ID}/{export_id}/"
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix + "manifest.json")["Body"].read())
    ids: list[str] = []
    for part in manifest["parts"]:
        data = s3.get_object(Bucket=bucket, Key=prefix + part["name"])["Body"].read()
        ids += [json.loads(line)["id"] for line in gzip.decompress(data).splitlines()]
    if ids != expected_ids:
        raise RuntimeError(f"export {export_id}: {len(ids)} rows, not exactly the {len(expected_ids)} logs expected")


def _expected(dataset: Dataset, start_ms: int) -> list[str]:
    chosen = [log for log in dataset.logs if log.created_ms >= start_ms]
    return [log.id for log in sorted(chosen, key=lambda log: (log.created_ms, log.id), reverse=True)]


def measure_read_amplification() -> dict[str, float]:
    with aggregated_stack(LARGE, days=DAYS, seed=SEED) as world, _quiet_functions():
        start_ms = world.dataset.start_ms
        export_id = _start(world.stack, world.functions, {"format": "ndjson", "start_date": format_ms(start_ms)})
        with tally(dynamodb()) as reads:
            run = _run(world.stack, world.functions, export_id, traced=False)
        _check_rows(world.stack, export_id, _expected(world.dataset, start_ms))
    return {
        "export_read_amplification": reads.items_read / run.rows,
        "export_reads_rows": run.rows,
        "export_reads_items_read": reads.items_read,
        "export_reads_dynamodb_calls": reads.calls,
        "export_reads_runs": run.runs,
    }


@contextmanager
def _server_stack(dataset: Dataset) -> Iterator[tuple[Stack, FunctionRegistry]]:
    """moto's server in a child process, every resource of the template, the dataset's logs loaded."""
    with mock.patch.dict(os.environ), MotoServer() as server:
        use_endpoint(server.endpoint_url)
        stack = provision()
        os.environ.update(stack.function_environment())
        get_settings.cache_clear()
        reset_clients()
        try:
            started = time.monotonic()
            table = get_settings().logs_table
            chunks = [dataset.logs[start : start + 2_500] for start in range(0, len(dataset.logs), 2_500)]
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda chunk: write_logs(boto3.client("dynamodb"), table, chunk), chunks))
            print(f"  wrote {len(dataset.logs)} logs to moto's server in {time.monotonic() - started:.0f} s")
            yield stack, FunctionRegistry(stack.template)
        finally:
            reset_clients()
            get_settings.cache_clear()


def measure_memory_growth() -> dict[str, float]:
    end_ms = now_ms() // DAY_MS * DAY_MS
    dataset = build_dataset(LARGE, days=DAYS, end_ms=end_ms, error_rate=0.02, seed=SEED)
    exports: dict[int, ExportRun] = {}
    with _server_stack(dataset) as (stack, functions), _quiet_functions():
        # Warm: the modules and clients every run uses exist before anything is traced (a Lambda's init).
        warm = _start(stack, functions, {"format": "ndjson", "start_date": format_ms(end_ms - 3_600_000)})
        _run(stack, functions, warm, traced=False)
        tracemalloc.start()
        try:
            newest_first = sorted(dataset.logs, key=lambda log: (log.created_ms, log.id), reverse=True)
            for size, start_ms in ((SMALL, newest_first[SMALL - 1].created_ms), (LARGE, dataset.start_ms)):
                export_id = _start(stack, functions, {"format": "ndjson", "start_date": format_ms(start_ms)})
                exports[size] = _run(stack, functions, export_id, traced=True)
                _check_rows(stack, export_id, _expected(dataset, start_ms))
        finally:
            tracemalloc.stop()
    small, large = exports[SMALL], exports[LARGE]
    return {
        "export_memory_growth": large.peak_bytes / small.peak_bytes,
        "export_memory_peak_mib_100k": large.peak_bytes / MIB,
        "export_memory_peak_mib_10k": small.peak_bytes / MIB,
        "export_memory_rows_100k": large.rows,
        "export_memory_rows_10k": small.rows,
        "export_memory_runs_100k": large.runs,
        "export_memory_runs_10k": small.runs,
        "export_memory_parts_100k": large.parts,
    }


def measure_export() -> dict[str, float]:
    print(f"export read amplification: {LARGE} logs over {DAYS} days, aggregated, one export of them all")
    results = measure_read_amplification()
    print(f"export memory: {LARGE} logs on moto's server, exports of the newest {SMALL} and of all, traced")
    results.update(measure_memory_growth())
    return results


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/export.md says besides the figures themselves."""
    return {"pages_per_run": str(PAGES_PER_RUN), "days": str(DAYS)}


if __name__ == "__main__":
    import sys

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    # --memory or --reads: one of the two measurements alone.
    only = {"--memory": measure_memory_growth, "--reads": measure_read_amplification}
    measure = only.get(sys.argv[1], measure_export) if len(sys.argv) > 1 else measure_export
    print(json.dumps(measure(), indent=2, sort_keys=True))
