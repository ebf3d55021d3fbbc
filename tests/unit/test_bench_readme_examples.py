"""bench/readme_examples.py takes its URLs from what ``make run`` prints: the parsing of those lines, the
figure names, the pacing by rate limit, and that the README lists the examples ``make run`` prints."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from bench import readme_examples
from bench.readme_examples import RoutePacer, figure_name, printed_examples
from local.run import CURL_EXAMPLES, api_reference, curl_examples
from local.stack.template import ROOT, load_template

LOG_ID = "log_0123456789abcdef"


def _printed_output() -> list[str]:
    """The lines local.run prints after its export line, the first progress line after them."""
    stack = SimpleNamespace(template=load_template())
    text = f"{curl_examples(stack, LOG_ID)}\n{api_reference('http://127.0.0.1:3000')}\nServing until Ctrl-C.\n"
    return [*text.splitlines(), "[  2.1s] demo data: sending 5,253 gateway messages (3 malformed) to SQS"]


def test_the_printed_curl_lines_give_every_example_with_its_log_id_and_today() -> None:
    lines = iter(_printed_output())

    examples = printed_examples(lines)

    assert [example.title for example in examples] == [title for title, _resource, _url in CURL_EXAMPLES]
    urls = [example.url("http://127.0.0.1:3000", "2031-02-03") for example in examples]
    assert urls == [
        f"http://127.0.0.1:3000{url.format(log_id=LOG_ID).replace('$(date -I)', '2031-02-03')}"
        for _title, _resource, url in CURL_EXAMPLES
    ]
    assert "http://127.0.0.1:3000/api/account/request-logs?start_date=2031-02-03" in urls
    assert next(lines).startswith("[  2.1s] demo data:")  # the line after "Serving until Ctrl-C." is left


def test_an_example_with_another_key_is_refused() -> None:
    lines = ["# Second account", 'curl "$RL_BASE_URL/api/account/request-logs" \\', '  -H "Authorization: Bearer $X"']

    with pytest.raises(ValueError, match="another header"):
        printed_examples(lines)


def test_a_shell_expansion_left_in_a_url_is_refused() -> None:
    (example,) = printed_examples(["# Other", 'curl "$RL_BASE_URL/api/account/request-logs?end_date=$(date)" \\'])

    with pytest.raises(ValueError, match="shell expansion"):
        example.url("http://127.0.0.1:3000", "2031-02-03")


def test_figure_names_are_the_titles_words() -> None:
    assert figure_name("Today's requests") == "local_readme_example_todays_requests_ms"
    assert (
        figure_name("Get enhanced request details (prompt and completion)")
        == "local_readme_example_get_enhanced_request_details_ms"
    )
    names = {figure_name(title) for title, _resource, _url in CURL_EXAMPLES}
    assert len(names) == len(CURL_EXAMPLES)


def test_the_readme_lists_the_examples_make_run_prints() -> None:
    readme = (ROOT / "README.md").read_text()
    listed = re.findall(r'^curl "\$RL_BASE_URL([^"]+)"', readme, flags=re.MULTILINE)

    assert sorted(listed) == sorted(url.format(log_id="<log id>") for _title, _resource, url in CURL_EXAMPLES)


def test_the_report_rows_show_the_urls_as_the_readme_writes_them() -> None:
    figures = {figure_name(title): 12.5 for title, _resource, _url in CURL_EXAMPLES}

    rows = readme_examples.report_values(figures)["example_rows"].splitlines()

    assert len(rows) == len(CURL_EXAMPLES)
    assert "| Get request details | `/api/account/request-logs/<log id>` | 12.5 |" in rows
    assert "| Today's requests | `/api/account/request-logs?start_date=<today>` | 12.5 |" in rows
    assert "$" not in "".join(rows)


def test_requests_to_one_route_are_spaced_by_its_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(readme_examples.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(readme_examples.time, "sleep", sleep)
    pacer = RoutePacer()
    base = "http://127.0.0.1:3000/api/account/request-logs"

    pacer.wait(f"{base}/stats?group_by=day")
    pacer.wait(f"{base}?status=error")  # another route: no wait
    now[0] += 0.5
    pacer.wait(f"{base}/stats?group_by=model")  # 0.5 requests a second: 2 s after the first
    pacer.wait(f"{base}/{LOG_ID}")
    pacer.wait(f"{base}/{LOG_ID}")  # 2 a second

    assert slept == [pytest.approx(1.5), pytest.approx(0.5)]
