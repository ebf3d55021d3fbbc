"""What ``rlogs`` prints: rich tables for a person at a terminal, exact JSON for a program.

Data goes to stdout, everything else (progress, notices, errors) to stderr, so ``rlogs ... | jq`` and
``rlogs ... > file`` get only the data.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.json import JSON
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from request_logs_client import _json


def as_data(model: BaseModel) -> dict[str, Any]:
    """The API's JSON object again: the fields it sent (``exclude_unset``), extra ones included, money as
    Decimal."""
    return model.model_dump(mode="python", exclude_unset=True)


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def wants_json(flag: bool | None) -> bool:
    """``--json`` / ``--table`` when given; otherwise JSON unless stdout is a terminal."""
    return flag if flag is not None else not sys.stdout.isatty()


def write_json(value: Any) -> None:
    sys.stdout.write(_json.dumps(value) + "\n")


_live_bars: list[Progress] = []


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A progress bar on stderr; ``notice`` prints above it while it runs. Writes to stdout go through it
    only when stdout is the same terminal (otherwise data would land on stderr)."""
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        redirect_stdout=sys.stdout.isatty(),
        redirect_stderr=False,
    )
    with progress:
        _live_bars.append(progress)
        try:
            yield progress
        finally:
            _live_bars.remove(progress)


def notice(text: str) -> None:
    """A line on stderr (rich markup), above the progress bar when one is running."""
    console = _live_bars[-1].console if _live_bars else stderr_console()
    console.print(text, highlight=False)


def money(value: Decimal | float | None) -> str:
    return "—" if value is None else f"${value:.6f}"


def number(value: int | float | Decimal | None) -> str:
    return "—" if value is None else f"{value:,}"


def logs_table(logs: Sequence[Mapping[str, Any]], *, enhanced: bool, title: str | None = None) -> Table:
    # expand + ratio: the fixed columns keep their width, the last one gets what is left of the terminal.
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", expand=True)
    # The instant and the id (to copy into `rlogs logs get`) are never cut; the others give way first.
    table.add_column("created_at (UTC)", no_wrap=True, min_width=19)
    table.add_column("id", no_wrap=True, style="cyan", min_width=31)
    table.add_column("model", no_wrap=True, overflow="ellipsis")
    table.add_column("status", no_wrap=True)
    table.add_column("latency ms", justify="right")
    table.add_column("tokens in/out", justify="right", no_wrap=True)
    table.add_column("cost", justify="right")
    # The last column is cut with an ellipsis rather than wrapped: one log, one line.
    table.add_column("user" if enhanced else "error", no_wrap=True, overflow="ellipsis", ratio=1)
    for log in logs:
        status = f"{log['status']} {log['status_code']}"
        style = "red" if log["status"] == "error" else None
        cost = log.get("cost")
        if isinstance(cost, Mapping):  # enhanced: the breakdown
            cost = cost.get("total")
        last = log.get("user") or "" if enhanced else (log.get("error") or {}).get("message", "")
        table.add_row(
            short_instant(log["created_at"]),
            log["id"],
            log["model"],
            status,
            number(log["latency_ms"]),
            f"{number(log['input_tokens'])} / {number(log['output_tokens'])}",
            money(cost),
            last,
            style=style,
        )
    return table


def short_instant(text: str) -> str:
    """``2026-01-10T12:00:00.123Z`` as ``2026-01-10 12:00:00``: the API's instants are UTC."""
    return text[:19].replace("T", " ") if len(text) >= 19 and text.endswith("Z") else text


def record_table(record: Mapping[str, Any], title: str | None = None) -> Table:
    """One object as field / value rows; nested values as compact JSON."""
    table = Table(title=title, box=box.SIMPLE_HEAD, show_header=False, title_justify="left")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    for name, value in record.items():
        shown = _json.dumps(value) if isinstance(value, Mapping | list) else ("—" if value is None else str(value))
        table.add_row(name, shown)
    return table


def details_renderables(details: Mapping[str, Any]) -> Iterable[Any]:
    yield record_table({"id": details["id"], **details.get("metadata", {})}, title="log")
    yield "[bold]request[/bold]"
    yield JSON(_json.dumps(details.get("request")))
    yield "[bold]response[/bold]"
    yield JSON(_json.dumps(details.get("response")))


_GROUP_KEYS = {
    "by_hour": ("hour",),
    "by_day": ("date",),
    "by_week": ("week", "start_date"),
    "by_model": ("model",),
    "by_provider": ("provider",),
    "by_user": ("user",),
    "by_metadata": ("key", "value"),
}


def stats_renderables(stats: Mapping[str, Any]) -> Iterable[Any]:
    rng = stats.get("range") or {}
    yield record_table(
        stats["stats"], title=f"stats {rng.get('start', '')} → {rng.get('end', '')} ({rng.get('tz', '')})"
    )
    for group, keys in _GROUP_KEYS.items():
        entries = stats.get(group)
        if not entries:
            continue
        table = Table(title=group, box=box.SIMPLE_HEAD, title_justify="left")
        for key in keys:
            table.add_column(key, no_wrap=True)
        for column in ("requests", "failed", "tokens", "cost", "p50 ms", "p95 ms", "p99 ms"):
            table.add_column(column, justify="right")
        for entry in entries:
            labels = [
                ("other" if entry.get("other") else "—") if entry.get(key) is None else str(entry[key]) for key in keys
            ]
            table.add_row(
                *labels,
                number(entry.get("requests")),
                number(entry.get("failed")),
                number(entry.get("tokens")),
                money(entry.get("cost")),
                number(entry.get("p50_latency_ms")),
                number(entry.get("p95_latency_ms")),
                number(entry.get("p99_latency_ms")),
            )
        yield table
