"""The curl examples ``make run`` prints: the spec's own, run verbatim (host and key swapped)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import date

import pytest
import requests

from local.run import curl_examples
from tests.e2e.conftest import LIST, LocalApi

pytestmark = pytest.mark.e2e

# The spec's example URLs, in the spec's order, with https://api.langmart.ai swapped.
SPEC_EXAMPLES = [
    '"$RL_BASE_URL/api/account/request-logs?limit=10&status=success"',
    '"$RL_BASE_URL/api/account/request-logs/{log_id}"',
    '"$RL_BASE_URL/api/account/request-logs/{log_id}/details"',
    '"$RL_BASE_URL/api/account/request-logs?status=error"',
    '"$RL_BASE_URL/api/account/request-logs?start_date=$(date -I)"',
    '"$RL_BASE_URL/api/account/request-logs?min_latency=5000"',
    '"$RL_BASE_URL/api/account/request-logs/stats?group_by=day&start_date=2025-01-01"',
    '"$RL_BASE_URL/api/account/request-logs/stats?group_by=model"',
    '"$RL_BASE_URL/api/account/request-logs/enhanced?sort=cost&order=desc&limit=10"',
]


def commands(text: str) -> list[str]:
    """The shell commands of the printed examples (comment lines dropped, continuations kept)."""
    blocks = [block for block in text.split("\n\n") if block.strip()]
    return ["\n".join(line for line in block.splitlines() if not line.startswith("#")) for block in blocks]


def run_verbatim(command: str, api: LocalApi) -> str:
    """Through a shell with curl when there is one; else requests on the identical URL."""
    if shutil.which("curl") and shutil.which("bash"):
        environment = {**os.environ, "RL_BASE_URL": api.base_url, "RL_API_KEY": api.first.api_key}
        done = subprocess.run(
            ["bash", "-c", command], env=environment, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout
    (url,) = re.findall(r'curl "([^"]+)"', command)
    url = url.replace("$RL_BASE_URL", api.base_url).replace("$(date -I)", date.today().isoformat())
    return requests.get(url, headers={"Authorization": f"Bearer {api.first.api_key}"}, timeout=30).text


def test_printed_examples_are_the_specs_and_work_verbatim(local_api: LocalApi) -> None:
    log_id = local_api.get(LIST, {"limit": 1, "status": "success"}).json()["logs"][0]["id"]
    text = curl_examples(local_api.backend.stack, log_id)
    printed = commands(text)

    urls = [re.search(r'"[^"]+"', command).group(0) for command in printed]  # type: ignore[union-attr]
    expected = [url.format(log_id=log_id) for url in SPEC_EXAMPLES]
    assert sorted(urls) == sorted(expected)
    assert all(command.endswith('-H "Authorization: Bearer $RL_API_KEY"') for command in printed)
    by_url = dict(zip(urls, printed, strict=True))
    bodies = [json.loads(run_verbatim(by_url[url], local_api)) for url in expected]

    assert all("error" not in body for body in bodies), bodies
    listed, single, details, errors, today, slow, by_day, by_model, enhanced = bodies
    assert {log["status"] for log in listed["logs"]} == {"success"}
    assert listed["pagination"]["limit"] == 10
    assert single["id"] == log_id
    assert single["resolution"] is not None
    assert details["id"] == log_id
    assert {"request", "response", "metadata"} <= details.keys()
    assert errors["logs"]
    assert all(log["status"] == "error" and set(log["error"]) == {"type", "code", "message"} for log in errors["logs"])
    assert "pagination" in today
    assert slow["logs"]
    assert all(log["latency_ms"] >= 5000 for log in slow["logs"])
    assert by_day["by_day"] and by_day["stats"]["total_requests"] > 0
    assert by_model["by_model"]
    costs = [log["cost"]["total"] for log in enhanced["logs"]]
    assert len(costs) == 10 and costs == sorted(costs, reverse=True)
    assert enhanced["summary"]["total_cost"] >= sum(costs)
    assert enhanced["pagination"]["total"] == len(local_api.in_default_window(local_api.first_messages))
