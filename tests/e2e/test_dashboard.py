"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against the package's local
runtime: every view is checked against the API's own answer for the same parameters.

The gateway's clock is manual (conftest): a test that needs full throttle buckets moves it on; the 429
test empties the stats bucket itself and moves the clock only once the page shows its retry notice.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from local.stack.dashboard import dashboard_assets
from request_logs.domain.ids import make_log_id
from request_logs.domain.timeutil import parse_instant
from tests.e2e.conftest import LIST, LocalApi

playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")
Browser = playwright_sync.Browser
Page = playwright_sync.Page
expect = playwright_sync.expect

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# As a root process with no network beyond loopback: no sandbox, and nothing that would call home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATS = f"{LIST}/stats"
ENHANCED = f"{LIST}/enhanced"
SCREENSHOTS = os.environ.get("DASHBOARD_SCREENSHOTS")  # a folder: the views are saved there (README images)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `make test` installs Debian's package when run as root "
            "(apt-get install chromium); or set CHROMIUM to a Chromium executable"
        )
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, local_api: LocalApi) -> Iterator[Page]:
    context = browser.new_context(base_url=local_api.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def sign_in(page: Page, key: str, path: str = "/logs") -> None:
    page.goto(path)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def row_ids(page: Page) -> list[str]:
    page.wait_for_selector("main:not([aria-busy]) section.results")
    return page.locator("table.logs tbody tr").evaluate_all("rows => rows.map(row => row.dataset.id)")


def api_ids(api: LocalApi, path: str, params: dict[str, Any] | None = None) -> tuple[list[str], dict[str, Any]]:
    response = api.get(path, params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [log["id"] for log in body["logs"]], body


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_the_dashboard_files_are_installed_and_small() -> None:
    assets = {asset.key: asset for asset in dashboard_assets()}
    assert {"index.html", "app.css", "js/main.js", "vendor/uPlot.iife.min.js"} <= assets.keys()
    assert all(asset.path.stat().st_size > 0 for asset in assets.values())


def test_sign_in_shows_exactly_the_apis_first_page(page: Page, local_api: LocalApi) -> None:
    sign_in(page, local_api.first.api_key)

    shown = row_ids(page)
    expected, body = api_ids(local_api, LIST)
    assert shown == expected and len(shown) == 50
    assert page.get_by_role("heading", name=f"{body['pagination']['total']:,} logs").is_visible()
    assert page.evaluate("() => document.cookie") == ""
    assert page.evaluate("() => localStorage.length") == 0
    assert local_api.first.api_key not in page.url
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/logs.png")


def test_a_status_filter_changes_the_url_and_the_rows(page: Page, local_api: LocalApi) -> None:
    sign_in(page, local_api.first.api_key)
    row_ids(page)

    page.get_by_label("Status").select_option("error")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"/logs\?status=error$"))

    expected, _ = api_ids(local_api, LIST, {"status": "error"})
    assert expected and row_ids(page) == expected
    assert page.locator("table.logs tbody .status").all_inner_texts() == ["error"] * len(expected)
    page.go_back()
    page.wait_for_url(re.compile(r"/logs$"))
    assert row_ids(page) == api_ids(local_api, LIST)[0]


def test_a_bookmarked_view_opens_exactly_that_view(page: Page, local_api: LocalApi) -> None:
    error_model = next(
        m["model"] for m in local_api.in_default_window(local_api.first_messages) if m["status"] == "error"
    )
    view = {"status": "error", "model": error_model, "tz": "Europe/Paris", "sort": "latency", "order": "asc"}
    sign_in(page, local_api.first.api_key)
    row_ids(page)

    page.goto("/logs?" + "&".join(f"{name}={value}" for name, value in view.items()))

    expected, body = api_ids(local_api, ENHANCED, view)
    assert expected and row_ids(page) == expected
    assert page.get_by_label("Status").input_value() == "error"
    assert page.get_by_label("Model").input_value() == error_model
    assert page.get_by_label("Sort by").input_value() == "latency"
    assert page.get_by_label("Time zone").input_value() == "Europe/Paris"
    first = body["logs"][0]
    paris = datetime.fromisoformat(first["created_at"]).astimezone(ZoneInfo("Europe/Paris"))
    assert page.locator("table.logs tbody tr").first.locator("time").inner_text() == paris.strftime("%Y-%m-%d %H:%M:%S")

    page.locator("table.logs tbody tr").first.locator("a").click()  # the log opens in the view's zone
    page.wait_for_url(f"**/logs/{first['id']}?tz=Europe%2FParis")
    expect(page.locator("dl.fields")).to_contain_text(f"{paris:%Y-%m-%d %H:%M:%S} (Europe/Paris)")


def test_a_cursor_walk_of_three_pages_matches_the_api(page: Page, local_api: LocalApi) -> None:
    sign_in(page, local_api.first.api_key, "/logs?limit=25")
    params: dict[str, Any] = {"limit": 25}
    seen: list[str] = []
    for _ in range(3):
        expected, body = api_ids(local_api, ENHANCED, params)
        shown = row_ids(page)
        assert shown == expected and len(expected) == 25
        assert not set(shown) & set(seen)
        seen += shown
        params["cursor"] = body["pagination"]["nextCursor"]
        cursors = len(seen) // 25
        page.get_by_role("link", name="Next page").click()
        page.wait_for_function("n => new URLSearchParams(location.search).has('cursor') && n", arg=cursors)
        page.wait_for_function("previous => document.querySelector('tbody tr')?.dataset.id !== previous", arg=shown[0])
        local_api.clock.advance(30)  # the list's bucket: the page's and this test's calls, refilled


def test_the_detail_view_shows_the_conversation_and_the_expired_content_message(
    page: Page, local_api: LocalApi
) -> None:
    sign_in(page, local_api.first.api_key)
    first_id = row_ids(page)[0]
    content = local_api.get(f"{LIST}/{first_id}/details").json()
    prompt = content["request"]["messages"][-1]["content"]
    answer = content["response"]["choices"][0]["message"]["content"] if content["response"] else None

    page.locator(f'tr[data-id="{first_id}"] a').click()
    page.wait_for_url(f"**/logs/{first_id}")
    conversation = page.locator("ol.conversation")
    expect(conversation.locator(".turn.user .text").last).to_have_text(prompt)
    if answer:
        expect(conversation.locator(".turn.assistant .text").first).to_have_text(answer)
    detail = local_api.get(f"{LIST}/{first_id}").json()
    fields = page.locator("dl.fields")
    expect(fields).to_contain_text(detail["request_id"])
    expect(fields).to_contain_text(detail["api_key_prefix"])
    if detail["ip_address"]:
        expect(fields).to_contain_text(detail["ip_address"])
    expect(page.get_by_role("heading", name="Cost breakdown")).to_be_visible()
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/detail.png", full_page=False)

    old = min(local_api.first_messages, key=lambda m: m["created_at"])
    assert datetime.fromisoformat(old["created_at"]) < datetime.now(UTC) - timedelta(days=31)
    old_id = _log_id(local_api, old)
    page.goto(f"/logs/{old_id}")
    expired = local_api.get(f"{LIST}/{old_id}/details")
    assert expired.status_code == 410
    expect(page.locator(".expired")).to_contain_text(expired.json()["error"]["message"])


def test_analytics_tiles_and_chart_equal_the_apis_stats(page: Page, local_api: LocalApi) -> None:
    sign_in(page, local_api.first.api_key, "/analytics?tz=UTC")
    page.wait_for_selector("figure.chart canvas")

    stats = local_api.get(STATS, {"group_by": "day,model,provider,user", "tz": "UTC"}).json()
    tiles = {tile.get_attribute("data-tile"): tile.locator("dd").inner_text() for tile in page.locator(".tile").all()}
    totals = stats["stats"]
    assert _int(tiles["requests"]) == totals["total_requests"]
    assert _int(tiles["total_tokens"]) == totals["total_tokens"]
    assert tiles["success_rate"] == f"{totals['success_rate']}%"
    for name in ("avg_latency_ms", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms"):
        assert _int(tiles[name]) == totals[name]
    assert tiles["total_cost"] == _money(totals["total_cost"])
    charts = page.locator("figure.chart")
    assert charts.count() == 4
    assert {chart.get_attribute("data-points") for chart in charts.all()} == {str(len(stats["by_day"]))}
    shown_models = page.locator('[data-breakdown="model"] tbody th').all_inner_texts()
    assert shown_models == [entry["model"] for entry in stats["by_model"]]
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/analytics.png", full_page=True)


def test_clicking_a_model_opens_its_logs_over_the_same_range(page: Page, local_api: LocalApi) -> None:
    sign_in(page, local_api.first.api_key, "/analytics?tz=UTC")
    link = page.locator('[data-breakdown="model"] tbody th a').first
    model = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/logs\?"))

    query = {name: values[0] for name, values in query_of(page).items()}
    assert query["model"] == model and query["tz"] == "UTC"
    expected, body = api_ids(local_api, ENHANCED, query)
    assert row_ids(page) == expected
    stats = local_api.get(STATS, {"group_by": "model", "tz": "UTC"}).json()
    requests_of_model = next(entry["requests"] for entry in stats["by_model"] if entry["model"] == model)
    assert body["pagination"]["total"] == requests_of_model


def test_a_time_zone_change_moves_the_day_boundaries(page: Page, local_api: LocalApi) -> None:
    sign_in(page, local_api.first.api_key, "/analytics?tz=UTC")
    page.wait_for_selector("figure.chart canvas")
    utc_rows = _data_rows(page)

    page.get_by_label("Time zone").fill("Asia/Kathmandu")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"tz=Asia%2FKathmandu"))
    page.wait_for_selector("figure.chart canvas")
    kathmandu_rows = _data_rows(page)

    local_api.clock.advance(60)
    by_day = local_api.get(STATS, {"group_by": "day", "tz": "Asia/Kathmandu"}).json()["by_day"]
    assert kathmandu_rows == [(entry["date"], entry["requests"]) for entry in by_day]
    assert kathmandu_rows != utc_rows
    assert sum(count for _, count in kathmandu_rows) == sum(count for _, count in utc_rows)


def test_a_wrong_key_shows_the_apis_401_message(page: Page, local_api: LocalApi) -> None:
    sign_in(page, "sk-not-a-key-of-anyone")

    message = requests.get(f"{local_api.base_url}{LIST}", headers={"Authorization": "Bearer sk-no"}, timeout=30)
    assert message.status_code == 401
    expect(page.get_by_role("alert")).to_have_text(message.json()["error"]["message"])
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0


def test_sign_out_forgets_the_key(page: Page, local_api: LocalApi) -> None:
    sign_in(page, local_api.first.api_key)
    row_ids(page)
    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0


def test_a_429_shows_the_retry_notice_then_the_view(page: Page, local_api: LocalApi) -> None:
    sign_in(page, local_api.first.api_key, "/analytics?tz=UTC")
    page.wait_for_selector("figure.chart canvas")
    while local_api.get(STATS, {"tz": "UTC"}).status_code != 429:  # empty the stats bucket (burst 5)
        pass

    page.get_by_label("Group by").select_option("week")
    page.get_by_role("button", name="Apply").click()
    notice = page.get_by_role("status").filter(has_text="rate limit")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("retrying in")
    local_api.clock.advance(60)  # the bucket refills; the page's retry after Retry-After succeeds

    page.wait_for_selector('figure.chart[data-chart="requests"] canvas')
    expect(notice).to_be_hidden()
    weeks = local_api.get(STATS, {"group_by": "week", "tz": "UTC"}).json()["by_week"]
    assert page.locator('figure.chart[data-chart="requests"]').get_attribute("data-points") == str(len(weeks))


def test_an_invalid_filter_shows_the_apis_message_at_its_control(page: Page, local_api: LocalApi) -> None:
    sign_in(page, local_api.first.api_key, "/logs?min_latency=fast")

    answer = local_api.get(LIST, {"min_latency": "fast"})
    assert answer.status_code == 400
    expect(page.get_by_role("alert")).to_have_text(answer.json()["error"]["message"])
    expect(page.get_by_label("Min latency (ms)")).to_have_attribute("aria-invalid", "true")


def test_an_empty_range_shows_an_empty_state(page: Page, local_api: LocalApi) -> None:
    future = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    sign_in(page, local_api.first.api_key, f"/logs?start_date={future}")
    expect(page.locator(".empty")).to_have_text("No logs match these filters.")


def test_the_logs_page_works_by_keyboard_alone_at_375_px(browser: Browser, local_api: LocalApi) -> None:
    context = browser.new_context(base_url=local_api.base_url, viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        page.goto("/logs")
        page.wait_for_selector("#api-key")
        assert page.evaluate("() => document.activeElement.id") == "api-key"  # focused for typing at once
        page.keyboard.type(local_api.first.api_key)
        page.keyboard.press("Enter")
        row_ids(page)

        page.get_by_label("Status").focus()
        page.keyboard.press("ArrowDown")  # Any → Success → Error
        page.keyboard.press("ArrowDown")
        assert page.get_by_label("Status").input_value() == "error"
        for _ in range(40):  # tab on to the Apply button
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.textContent") == "Apply":
                break
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"status=error"))
        assert row_ids(page) == api_ids(local_api, LIST, {"status": "error"})[0]
        # Nothing wider than the screen but the table, which scrolls in its own region.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375

        page.locator("table.logs tbody tr a").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/logs/log_"))
        page.wait_for_selector("ol.conversation, .expired")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def _int(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text))


def _money(value: Any) -> str:
    """The page's rendering of a cost (site/js/format.js), for the comparison."""
    if value is None:
        return "unpriced"
    number = float(value)
    if abs(number) >= 1:
        return f"${number:,.2f}"
    return f"${float(f'{number:.3g}')!r}" if number else "$0"


def _data_rows(page: Page) -> list[tuple[str, int]]:
    rows = page.locator(".charts details tbody tr").evaluate_all(
        "rows => rows.map(row => [row.cells[0].textContent, row.cells[1].textContent])"
    )
    return [(label, _int(count)) for label, count in rows]


def _log_id(api: LocalApi, message: dict[str, Any]) -> str:
    return make_log_id(api.first.account_id, message["request_id"], parse_instant(message["created_at"]))
