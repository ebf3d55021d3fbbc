"""Cold start of each API handler against a bare boto3 client, each in a fresh process, same run.

The parent starts a moto server on loopback, provisions it from ``template.yaml`` and ingests a few logs
through the real ingest path. Each child is a fresh interpreter pointed at that server with
``AWS_ENDPOINT_URL`` and fake credentials, so the measured process never imports moto: the baseline
runs ``import boto3; boto3.client("dynamodb")``; a handler child imports one function's ``app.py`` and
handles one event, its DynamoDB calls going over loopback like any SDK call; a bare Powertools +
pydantic handler (``bench/bare_handler``) is the reference the issue calibrates the budget with.

The budgeted figure compares CPU time (user + system, all threads) from the start of the process until
the event is handled, or the client created for the baseline, as each child reports it: the work of a
cold start. It leaves out the time the child waits for moto's answers (milliseconds of Python each,
one at a time, where DynamoDB takes a few: a property of the test double, and the list handler makes a
COUNT and a page query per shard) or for a CPU on a shared machine, and the interpreter's shutdown,
which a Lambda environment never goes through. Beside it: CPU time of the whole process, exit
included, and wall-clock time. Variants run interleaved, the order rotated every round, so that noise
falls on all of them alike; figures are ratios of medians.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from moto.server import ThreadedMotoServer

from bench.dataset import ACCOUNT_ID, DAY_MS, KEYS, api_event
from bench.dynamo_tally import tally
from local.demo.messages import generate_messages
from local.emulator.lambda_runtime import FunctionRegistry
from local.stack.provision import Stack, provision
from local.stack.template import LAYER_PATH, REGION
from request_logs.config import get_settings
from request_logs.domain.timeutil import now_ms
from request_logs.logic.ingest import ingest
from request_logs.store.dynamo import dynamodb, reset_clients

CHILD = Path(__file__).with_name("cold_init_child.py")
# The floor: a bare Powertools + pydantic handler with a DynamoDB client, serving the single-log event.
BARE_HANDLER = Path(__file__).with_name("bare_handler")
BOTO3_BASELINE = 'import boto3; boto3.client("dynamodb")'
# Appended to the baseline, as the handler child reports them: modules loaded, CPU time so far.
_REPORT = "; import sys, time; print(len(sys.modules), time.process_time())"
# Handler name in the results → the request it handles, about an error log (responses carry `error`).
HANDLER_PATHS = {
    "list_request_logs": "/api/account/request-logs",
    "get_request_log": "/api/account/request-logs/{id}",
    "get_request_log_details": "/api/account/request-logs/{id}/details",
    "enhanced_request_logs": "/api/account/request-logs/enhanced",
}
_SEEDED_LOGS = 40


@dataclass(frozen=True)
class _Variant:
    command: list[str]
    environment: dict[str, str]


@dataclass(frozen=True)
class _Sample:
    cpu_s: float  # until the event was handled (the client created), as the child reports it
    process_cpu_s: float  # the whole process, exit included, from getrusage once it has exited
    wall_s: float
    modules: int


@contextmanager
def _moto_server() -> Iterator[dict[str, str]]:
    """A moto server on a free loopback port; yields the AWS environment that points at it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
        }
    finally:
        server.stop()


def _seed() -> str:
    """Ingest a few recent logs (content included); returns the id of the newest error log."""
    messages = generate_messages(
        ACCOUNT_ID, KEYS, _SEEDED_LOGS, now_ms() - 2 * DAY_MS, now_ms(), seed=5, error_rate=0.2
    )
    error_ids = [ingest(json.dumps(message))[1].id for message in messages if message["status"] == "error"]
    if not error_ids:
        raise RuntimeError("the seed produced no error log")
    return error_ids[-1]


def _child_environment(aws: dict[str, str], stack: Stack, code_uri: Path | None, pycache: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "POWERTOOLS_")) and name not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    }
    environment.update(aws)
    environment.update(stack.function_environment())
    # Deployed functions emit their metrics (the local runtime turns them off): the cold start pays for them.
    environment["POWERTOOLS_METRICS_DISABLED"] = "false"
    # Every variant runs from bytecode that the untimed first run compiled, as from a precompiled
    # deployment package: the benchmark measures importing and running code, not compiling it.
    environment["PYTHONPYCACHEPREFIX"] = str(pycache)
    if code_uri is not None:
        # Lambda's sys.path: the function's code (/var/task), then the layer (/opt/python).
        environment["PYTHONPATH"] = os.pathsep.join([str(code_uri), str(LAYER_PATH)])
    return environment


def _run(variant: _Variant) -> _Sample:
    """One fresh process; raises if it failed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(variant.command, env=variant.environment, capture_output=True, text=True, check=False)
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"{variant.command} failed:\n{completed.stderr}")
    process_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # The last line is the child's report; a handler's EMF document (its metrics) comes before it.
    modules, cpu_s = completed.stdout.strip().splitlines()[-1].split()
    return _Sample(float(cpu_s), process_cpu_s, wall_s, int(modules))


def _variants(
    aws: dict[str, str], stack: Stack, log_id: str, scratch: Path
) -> tuple[dict[str, _Variant], dict[str, int]]:
    """The processes to time, and the DynamoDB calls each handler makes for its event (counted in process)."""
    functions = FunctionRegistry(stack.template)
    specs = stack.template.functions()
    pycache = scratch / "pycache"
    baseline = [sys.executable, "-c", BOTO3_BASELINE + _REPORT]
    variants = {"boto3": _Variant(baseline, _child_environment(aws, stack, None, pycache))}
    calls: dict[str, int] = {}
    for name, path in HANDLER_PATHS.items():
        function, event = api_event(stack.template, path.format(id=log_id))
        with tally(dynamodb()) as counted:
            if functions.invoke(function, event)["statusCode"] != 200:
                raise RuntimeError(f"{function} failed on {path}")
        calls[name] = counted.calls
        event_file = scratch / f"{name}.json"
        event_file.write_text(json.dumps(event))
        environment = _child_environment(aws, stack, specs[function].code_uri, pycache)
        variants[name] = _Variant([sys.executable, str(CHILD), str(event_file)], environment)
    single_log_event = variants["get_request_log"].command[-1]
    variants["bare"] = _Variant(
        [sys.executable, str(CHILD), single_log_event], _child_environment(aws, stack, BARE_HANDLER, pycache)
    )
    return variants, calls


def _interleaved(variants: dict[str, _Variant], runs: int) -> dict[str, list[_Sample]]:
    samples: dict[str, list[_Sample]] = {name: [] for name in variants}
    names = list(variants)
    for round_number in range(runs):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(_run(variants[name]))
    return samples


def measure_cold_init(runs: int) -> dict[str, float]:
    with _moto_server() as aws, mock.patch.dict(os.environ, aws), tempfile.TemporaryDirectory() as scratch:
        get_settings.cache_clear()
        reset_clients()
        stack = provision()
        os.environ.update(stack.function_environment())
        get_settings.cache_clear()
        variants, calls = _variants(aws, stack, _seed(), Path(scratch))
        for variant in variants.values():
            _run(variant)  # not timed: compiles the bytecode, checks the handler answers 200
        samples = _interleaved(variants, runs)
        reset_clients()
    get_settings.cache_clear()

    def median_ms(name: str, measure: Callable[[_Sample], float]) -> float:
        return statistics.median(measure(sample) for sample in samples[name]) * 1000

    cpu_ms = {name: median_ms(name, lambda sample: sample.cpu_s) for name in variants}
    process_ms = {name: median_ms(name, lambda sample: sample.process_cpu_s) for name in variants}
    wall_ms = {name: median_ms(name, lambda sample: sample.wall_s) for name in variants}
    slowest_ms = max(cpu_ms[name] for name in HANDLER_PATHS)
    results = {
        "cold_init_ratio_vs_boto3": slowest_ms / cpu_ms["boto3"],
        "cold_init_process_ratio_vs_boto3": max(process_ms[name] for name in HANDLER_PATHS) / process_ms["boto3"],
        "cold_init_wall_ratio_vs_boto3": max(wall_ms[name] for name in HANDLER_PATHS) / wall_ms["boto3"],
        "cold_init_bare_ratio_vs_boto3": cpu_ms["bare"] / cpu_ms["boto3"],
        "cold_init_slowest_vs_bare_ratio": slowest_ms / cpu_ms["bare"],
        "cold_init_runs_per_variant": runs,
    }
    for name in variants:
        results[f"cold_init_{name}_cpu_ms_median"] = cpu_ms[name]
        results[f"cold_init_{name}_process_cpu_ms_median"] = process_ms[name]
        results[f"cold_init_{name}_wall_ms_median"] = wall_ms[name]
        results[f"cold_init_{name}_modules_loaded"] = samples[name][0].modules
    for name, count in calls.items():
        results[f"cold_init_{name}_dynamodb_calls"] = count
    return results


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/cold_init.md says besides the figures themselves."""

    def slowest(measure: str) -> str:
        return max(HANDLER_PATHS, key=lambda name: figures[f"cold_init_{name}_{measure}_ms_median"])

    shutdown = 1 - figures["cold_init_boto3_cpu_ms_median"] / figures["cold_init_boto3_process_cpu_ms_median"]
    return {
        "handlers": ", ".join(f"`{name}`" for name in HANDLER_PATHS),
        "slowest_by_cpu": slowest("cpu"),
        "slowest_by_wall": slowest("wall"),
        "baseline_shutdown_share": f"{shutdown:.0%}",
    }
