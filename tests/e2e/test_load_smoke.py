"""``make load`` in miniature (4 clients × 5 s), so that the load code keeps working between load runs.

Asserts what the load run checks (only expected statuses, nothing lost or duplicated), never its
figures: performance is measured by ``make load``, not by tests.
"""

from __future__ import annotations

import pytest

from bench.load import LoadConfig, LoadRun, load_routes
from bench.report import load_section
from tests.e2e.conftest import LocalApi

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_short_load_run_loses_nothing_and_answers_only_as_expected(local_runtime: LocalApi) -> None:
    config = LoadConfig(
        clients=4,
        duration_s=5,
        keys_per_account=(2, 1),
        greedy_clients=1,
        seed_messages_per_account=40,
        ingest_per_second=4,
        redelivery_share=0.25,
    )

    results = LoadRun(local_runtime.backend, config, on_progress=lambda _: None).run()

    summary = results["summary"]
    assert summary["unexpected_examples"] == []
    assert set(summary["outcomes"]) <= {"ok", "not_found_expected", "throttled"}
    assert set(summary["routes"]) == set(load_routes(local_runtime.template))
    assert {"/api/account/request-logs", "/api/account/request-logs/stats"} <= set(summary["routes"])
    for account in results["ingest"]["accounts"]:
        assert account["lost"] == account["duplicated"] == account["unexpected"] == 0, account
        assert account["listed"] == account["expected"] == account["stats_total_requests"], account
    assert results["ingest"]["sent_during_run"] > 0
    assert results["passed"]
    assert "## Load" in load_section(results)
