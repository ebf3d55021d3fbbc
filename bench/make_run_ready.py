"""How long ``make run`` takes to serve, once its virtualenv exists: ``python -m local.run`` (what the
Makefile's ``run`` target executes) started as a process of its own, timed from its start to the first
answer of the API it announces.

The process is the real one with its real demo data (thousands of messages loading in the background);
the clock stops when a list request with the printed key answers 200, which proves the gateway, the
authorizer, the functions and moto serve. Then Ctrl-C, as a user would, and the figure
``make_run_ready_s`` (the issue's budget: 20 s on an idle two-core machine) with
``make_run_ready_line_s``, the time to the "ready" line alone.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from local.stack.template import ROOT

READY_TIMEOUT_S = 300
_READY = re.compile(r"\[\s*([\d.]+)s\] ready: the API is at (\S+)")
_EXPORT = re.compile(r"^export RL_BASE_URL=\S+ RL_API_KEY=(\S+) ")


def measure_make_run_ready() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        environment = {
            **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
            "PORT": "0",  # any free port: the ready line says which
            "RL_LOCAL_STACK_FILE": str(Path(scratch) / "stack.json"),
        }
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "local.run"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            ready_line_s, base_url, api_key = _announced(process, started)
            response = requests.get(
                f"{base_url}/api/account/request-logs",
                params={"limit": "1"},
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=60,
            )
            answered_s = time.monotonic() - started
            if response.status_code != 200:
                raise RuntimeError(f"the first request answered {response.status_code}: {response.text[:300]}")
        finally:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    return {"make_run_ready_s": round(answered_s, 2), "make_run_ready_line_s": ready_line_s}


def _announced(process: subprocess.Popen[str], started: float) -> tuple[float, str, str]:
    """(seconds to the ready line as the process stamps it, API URL, key) from its output."""
    assert process.stdout is not None
    ready: tuple[float, str] | None = None
    for line in process.stdout:
        if time.monotonic() - started > READY_TIMEOUT_S:
            break
        if found := _READY.search(line):
            ready = float(found.group(1)), found.group(2)
        elif ready is not None and (exported := _EXPORT.search(line)):
            return ready[0], ready[1], exported.group(1)
    raise RuntimeError(f"make run announced no ready API within {READY_TIMEOUT_S} s")


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    return {"ready_timeout_s": str(READY_TIMEOUT_S)}


if __name__ == "__main__":
    print(measure_make_run_ready())
