"""How fast the README's curl examples answer on the local runtime with its demo data: ``python -m
local.run`` (what ``make run`` executes) started as a process of its own (``bench.local_run``, as
bench/make_run_ready.py starts it), its examples requested over HTTP through its API gateway.

The examples are those the process prints after its ``export RL_BASE_URL=... RL_API_KEY=...`` line
(``curl_examples`` in local/run.py; the README's "Calling the API" lists the same), taken from its output,
so that what is measured is exactly what a user pastes: the real log id in the single-log URLs, and
``$(date -I)`` replaced by today's UTC date as the shell would. Nothing is timed before the process prints
a line containing ``SETTLED`` (the demo data ingested, aggregated and list totals served from the rollups),
within ``SETTLED_TIMEOUT_S`` of its start.

Then each example in turn: ``WARMUPS`` request, then ``RUNS`` timed ones, each a new connection as curl
makes, with the printed key; each must answer 200. The time of a request is the wall clock of its HTTP
round trip, body included. Requests to one route are spaced by the inverse of its rate limit (the usage
plan's throttles in template.yaml, per key and route: the stats route allows 0.5 requests a second), so
that its token bucket never empties and no request is refused with a 429; the waits are not timed.

Figures, in milliseconds on this machine:

- ``local_readme_examples_p50_ms``, ``local_readme_examples_max_ms`` (budgeted): the median and the
  maximum of every timed request of every example;
- ``local_readme_example_<slug>_ms``: the median of one example's timed requests, the slug made of its
  title (``figure_name``).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from urllib.parse import urlsplit

import requests

from bench.figures import format_figure
from bench.local_run import LocalRun, local_run
from local.emulator.gateway.routing import match_route
from local.run import CURL_EXAMPLES
from local.stack.template import load_template

# The line after which list totals come from the rollups: nothing is timed before it. ("demo data loaded",
# printed a few minutes earlier, says the demo data is ingested and aggregated.) The process prints
# NOT_SETTLED instead when it gives up waiting for them: no point waiting longer.
SETTLED = "rollups settled"
NOT_SETTLED = "rollups not settled"
SETTLED_TIMEOUT_S = 15 * 60
WARMUPS = 1
RUNS = 5
REQUEST_TIMEOUT_S = 60
PREFIX = "local_readme_example_"
TODAY = "$(date -I)"  # the one shell expansion of the examples' URLs besides $RL_BASE_URL

_CURL = re.compile(r'^curl "\$RL_BASE_URL([^"]+)" \\$')
_HEADER = '-H "Authorization: Bearer $RL_API_KEY"'


@dataclass(frozen=True)
class Example:
    title: str  # the comment line above its curl line
    path: str  # what follows $RL_BASE_URL in its curl line

    def url(self, base_url: str, today: str) -> str:
        url = base_url + self.path.replace(TODAY, today)
        if "$" in url:
            raise ValueError(f"a shell expansion this benchmark does not make in {self.path!r}")
        return url


def figure_name(title: str) -> str:
    """``local_readme_example_<slug>_ms``: the title's words, without what is in parentheses."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"\([^)]*\)", "", title).lower().replace("'", ""))
    return f"{PREFIX}{'_'.join(words)}_ms"


def printed_examples(lines: Iterable[str]) -> list[Example]:
    """The examples of the lines after the ``export`` line: ``# title``, ``curl "$RL_BASE_URL..." \\``
    and its header line, blank lines between; the first other line ends them (and is consumed)."""
    examples: list[Example] = []
    title: str | None = None
    for line in lines:
        if not line.strip():
            continue
        if line.startswith("# "):
            title = line.removeprefix("# ")
        elif curl := _CURL.match(line):
            if title is None:
                raise ValueError(f"a curl example without a title: {line!r}")
            examples.append(Example(title, curl.group(1)))
            title = None
        elif line.strip().startswith("-H"):
            if line.strip() != _HEADER:
                raise ValueError(f"an example with another header than the benchmark sends: {line!r}")
        else:
            break
    names = [figure_name(example.title) for example in examples]
    if len(set(names)) != len(names):
        raise ValueError(f"two examples with the same figure name: {names}")
    return examples


def measure_readme_examples() -> dict[str, float]:
    with local_run() as run:
        announced = run.announced(SETTLED_TIMEOUT_S)
        try:
            examples = printed_examples(iter(partial(run.next_line, SETTLED_TIMEOUT_S), None))
        except ValueError as exc:
            raise run.failure(str(exc)) from None
        if not examples:
            raise run.failure("no curl example after the export line")
        settled = run.wait_for(re.compile(f"{re.escape(SETTLED)}|{re.escape(NOT_SETTLED)}"), SETTLED_TIMEOUT_S)
        if settled.group(0) != SETTLED:
            raise run.failure(f"it printed {NOT_SETTLED!r}")
        pacer = RoutePacer()
        timed = {
            figure_name(example.title): _timed(
                run,
                pacer,
                example.url(announced.base_url, datetime.now(UTC).date().isoformat()),
                announced.api_key,
            )
            for example in examples
        }
    every = [duration for durations in timed.values() for duration in durations]
    return {
        "local_readme_examples_p50_ms": round(statistics.median(every), 1),
        "local_readme_examples_max_ms": round(max(every), 1),
        **{name: round(statistics.median(durations), 1) for name, durations in timed.items()},
    }


class RoutePacer:
    """Spaces the requests to each route of the template by the inverse of the route's rate limit."""

    def __init__(self) -> None:
        template = load_template()
        self._routes = template.routes()
        self._throttles, self._default = template.usage_plan_throttles()
        self._last: dict[str, float] = {}  # time.monotonic() of the latest request, by throttle key

    def wait(self, url: str) -> None:
        """Return when a GET of ``url`` finds its route's token bucket at least as full as at the start."""
        matched = match_route(self._routes, "GET", urlsplit(url).path)
        key = f"{matched[0].path}/GET" if matched else ""
        limits = self._throttles.get(key, self._default)
        rate = float(limits["RateLimit"]) if limits else 0.0
        if rate > 0 and key in self._last:
            time.sleep(max(0.0, self._last[key] + 1 / rate - time.monotonic()))
        self._last[key] = time.monotonic()


def _timed(run: LocalRun, pacer: RoutePacer, url: str, api_key: str) -> list[float]:
    """Milliseconds of each timed request for ``url``, after the warm-up ones."""
    durations = []
    for attempt in range(WARMUPS + RUNS):
        pacer.wait(url)
        begun = time.perf_counter()
        response = requests.get(url, headers={"Authorization": f"Bearer {api_key}"}, timeout=REQUEST_TIMEOUT_S)
        elapsed_ms = (time.perf_counter() - begun) * 1000
        if response.status_code != 200:
            raise run.failure(f"GET {url} answered {response.status_code}: {response.text[:300]}")
        if attempt >= WARMUPS:
            durations.append(elapsed_ms)
    return durations


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/readme_examples.md says besides the figures: the benchmark's constants and a row per
    example, in the order of local/run.py's examples."""
    rows = [
        f"| {title} | `{url.format(log_id='<log id>').replace(TODAY, '<today>')}` | "
        f"{format_figure(figure_name(title), figures[figure_name(title)])} |"
        for title, _resource, url in CURL_EXAMPLES
        if figure_name(title) in figures
    ]
    return {
        "settled_line": SETTLED,
        "settled_timeout_min": f"{SETTLED_TIMEOUT_S / 60:g}",
        "warmups": str(WARMUPS),
        "runs": str(RUNS),
        "examples": str(len(rows)),
        "example_rows": "\n".join(rows),
    }


if __name__ == "__main__":
    for name, value in measure_readme_examples().items():
        print(f"{name} = {value}")
