"""The dashboard's weight and its API calls, measured in Chromium (Playwright) against the local runtime.

A first visit of ``/logs`` (an empty browser cache): every file the page loads except the API's answers,
each compressed as CloudFront compresses text for a browser that accepts gzip, summed
(``dashboard_transfer_kb``, budget ≤ 350). Then the API requests each view makes
(``dashboard_api_calls_*``): the logs view (its page, plus one stats call per tab for the account's
models and providers), the logs view again in the same tab, the analytics view; the headline
``dashboard_api_calls_per_view`` is the largest of them (budget ≤ 2).
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from local.demo.accounts import DemoAccount, create_demo_account
from local.demo.traffic import demo_messages, enqueue
from local.emulator.gateway import GatewayServer, LocalApiGateway
from local.run import start_backend
from request_logs.config import get_settings
from request_logs.store.dynamo import reset_clients

DEMO_MESSAGES = 300
DEMO_DAYS = 30
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
API_PREFIX = "/api/"


@contextmanager
def _runtime() -> Iterator[tuple[str, DemoAccount]]:
    saved = dict(os.environ)
    backend = start_backend()
    server: GatewayServer | None = None
    try:
        account = create_demo_account("Dashboard bench", ["default"])
        messages = demo_messages(account, DEMO_MESSAGES, days=DEMO_DAYS, seed=31)
        enqueue(backend.ingest_poller, [json.dumps(message) for message in messages])
        backend.drain(120)
        server = GatewayServer(LocalApiGateway(backend.stack.template, backend.functions))
        server.start()
        yield server.url, account
    finally:
        if server is not None:
            server.stop()
        backend.stop()
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        reset_clients()


def measure_dashboard() -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"no Chromium at {CHROMIUM}: make browser installs it")
    with _runtime() as (base_url, account), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(base_url=base_url).new_page()
        assets: dict[str, int] = {}
        api_calls: list[str] = []

        def on_response(response):  # type: ignore[no-untyped-def]
            path = response.url.removeprefix(base_url).split("?", 1)[0]
            if path.startswith(API_PREFIX):
                api_calls.append(path)
            elif response.status == 200:
                assets[path] = len(gzip.compress(response.body(), compresslevel=6))

        page.on("response", on_response)
        page.goto("/logs")
        page.get_by_label("API key").fill(account.api_key)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("main:not([aria-busy]) table.logs")
        page.wait_for_load_state("networkidle")
        transfer_bytes = sum(assets.values())
        logs_first = len(api_calls)

        api_calls.clear()
        page.get_by_label("Status").select_option("error")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**status=error")
        page.wait_for_selector("main:not([aria-busy]) section.results table, main:not([aria-busy]) .empty")
        page.wait_for_load_state("networkidle")
        logs_again = len(api_calls)

        api_calls.clear()
        page.get_by_role("link", name="Analytics").click()
        page.wait_for_selector("figure.chart canvas")
        page.wait_for_load_state("networkidle")
        analytics = len(api_calls)
        browser.close()
    return {
        "dashboard_transfer_kb": round(transfer_bytes / 1024, 1),
        "dashboard_files_first_visit": len(assets),
        "dashboard_api_calls_logs_view_first": logs_first,
        "dashboard_api_calls_logs_view_again": logs_again,
        "dashboard_api_calls_analytics_view": analytics,
        "dashboard_api_calls_per_view": max(logs_first, logs_again, analytics),
    }


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    return {"demo_messages": str(DEMO_MESSAGES)}


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    print(json.dumps(measure_dashboard(), indent=2))
