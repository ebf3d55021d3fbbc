"""What importing the Python client costs a customer's program: ``import request_logs_client`` against
``import httpx`` (the transport it is built on), CPU time in fresh interpreters.

Each run is a new ``python -c`` process that reads ``time.process_time()`` around the one import statement
(the interpreter's own start is not counted); the two imports alternate, ``RUNS`` times each, and the
figure is the ratio of their medians, measured in one run on the same machine.

- ``client_cold_import_ms_ratio`` (reported): the client's median ÷ httpx's median;
- ``client_cold_import_ms``, ``client_cold_import_httpx_ms``: the medians, in milliseconds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Mapping

RUNS = 15
_PROBE = "import time; started = time.process_time(); import {module}; print(time.process_time() - started)"


def _import_cpu_ms(module: str) -> float:
    printed = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)], check=True, capture_output=True, text=True
    ).stdout
    return float(printed) * 1000


def measure_client_import(runs: int = RUNS) -> dict[str, float]:
    client, httpx = [], []
    for _ in range(runs):
        client.append(_import_cpu_ms("request_logs_client"))
        httpx.append(_import_cpu_ms("httpx"))
    client_ms, httpx_ms = statistics.median(client), statistics.median(httpx)
    return {
        "client_cold_import_ms": client_ms,
        "client_cold_import_httpx_ms": httpx_ms,
        "client_cold_import_ms_ratio": client_ms / httpx_ms,
    }


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    return {"client_import_runs": str(RUNS)}


if __name__ == "__main__":
    print(json.dumps(measure_client_import(), indent=2))
