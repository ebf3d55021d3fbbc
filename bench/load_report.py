"""What bench/load_report.md, the "Load" section of docs/benchmarks.md, says besides its prose: the figures
of ``make load`` (bench/load.py) from bench/load_results.json, written out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _statuses(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{status}: {count:,}" for status, count in counts.items())


def report_values(load: Mapping[str, Any]) -> dict[str, str]:
    config, summary, ingest = load["config"], load["summary"], load["ingest"]
    baseline = load.get("baseline", {})
    routes = [
        f"| `{route}` | {figures['requests']:,} | {figures['requests_per_s']:.1f} | {figures['served_per_s']:.1f} "
        f"| {_ms(figures['p50_ms'])} | {_ms(figures['p99_ms'])} | {_ms(baseline.get(route))} "
        f"| {_statuses(figures['statuses'])} |"
        for route, figures in summary["routes"].items()
    ]
    routes.append(
        f"| **all** | {summary['requests']:,} | {summary['requests_per_s']:.1f} | {summary['served_per_s']:.1f} "
        f"| {_ms(summary['p50_ms'])} | {_ms(summary['p99_ms'])} | | {_statuses(summary['statuses'])} |"
    )
    accounts = [
        f"| `{check['account_id']}` | {check['expected']:,} | {check['listed']:,} | {check['lost']} "
        f"| {check['duplicated']} | {check['unexpected']} | {check['pagination_total']:,} "
        f"| {check['stats_total_requests']:,} |"
        for check in ingest["accounts"]
    ]
    return {
        "generated_on": load["generated_on"],
        "machine": load["machine"],
        "result": "passed" if load["passed"] else "FAILED",
        "clients": str(config["clients"]),
        "duration_s": f"{config['duration_s']:g}",
        "accounts": str(config["accounts"]),
        "sharing_clients": str(config["clients"] - config["greedy_clients"]),
        "keys": str(config["keys"]),
        "greedy_clients": str(config["greedy_clients"]),
        "not_found_share": f"{config['not_found_share']:.0%}",
        "sent_during_run": f"{ingest['sent_during_run']:,}",
        "ingest_per_second": f"{config['ingest_per_second']:g}",
        "redelivered": f"{ingest['redelivered']:,}",
        "seeded": f"{ingest['seeded']:,}",
        "elapsed_s": f"{load['elapsed_s']:g}",
        "route_rows": "\n".join(routes),
        "unexpected": str(summary["outcomes"].get("unexpected", 0)),
        "account_rows": "\n".join(accounts),
    }
