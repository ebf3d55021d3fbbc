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

import time
from collections.abc import Mapping

import requests

from bench.local_run import local_run

READY_TIMEOUT_S = 300


def measure_make_run_ready() -> dict[str, float]:
    with local_run() as run:
        announced = run.announced(READY_TIMEOUT_S)
        response = requests.get(
            f"{announced.base_url}/api/account/request-logs",
            params={"limit": "1"},
            headers={"Authorization": f"Bearer {announced.api_key}"},
            timeout=60,
        )
        answered_s = time.monotonic() - run.started
        if response.status_code != 200:
            raise run.failure(f"the first request answered {response.status_code}: {response.text[:300]}")
    return {"make_run_ready_s": round(answered_s, 2), "make_run_ready_line_s": announced.ready_line_s}


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    return {"ready_timeout_s": str(READY_TIMEOUT_S)}


if __name__ == "__main__":
    print(measure_make_run_ready())
