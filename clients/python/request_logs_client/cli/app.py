"""``rlogs``: the Request Logs API from a shell.

Every command takes the API's parameters as options (``--start-date``, ``--metadata feature=search``,
...), reads ``RL_BASE_URL`` and ``RL_API_KEY`` (or ``--base-url`` / ``--api-key``), prints rich tables at a
terminal and JSON otherwise (``--json`` / ``--table`` to choose), and exits 1 on an API error with its
message on stderr (2 for a bad option, 130 when interrupted).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.progress import Progress, TaskID

from request_logs_client._base import API_KEY_ENV, BASE_URL_ENV
from request_logs_client._client import Client
from request_logs_client._version import __version__
from request_logs_client.cli import render
from request_logs_client.cli.export import (
    EXPORT_FORMATS,
    EXPORT_MODES,
    SERVER_EXPORT_THRESHOLD,
    ExportError,
    ExportJob,
    ExportState,
    load_state,
    select_export_source,
)
from request_logs_client.errors import APIError, AuthenticationError, InvalidRequestError, PermissionDeniedError

app = typer.Typer(
    name="rlogs",
    help="The Request Logs API from the command line: list, inspect, analyse and export request logs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
logs_app = typer.Typer(help="List request logs, or show one log and its prompt and completion.", no_args_is_help=True)
app.add_typer(logs_app, name="logs")

EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class StatusChoice(StrEnum):
    success = "success"
    error = "error"


class SortChoice(StrEnum):
    created_at = "created_at"
    cost = "cost"
    latency = "latency"
    tokens = "tokens"


class OrderChoice(StrEnum):
    asc = "asc"
    desc = "desc"


class FormatChoice(StrEnum):
    ndjson = "ndjson"
    csv = "csv"
    parquet = "parquet"


class ModeChoice(StrEnum):
    auto = "auto"
    server = "server"
    paged = "paged"


assert tuple(choice.value for choice in FormatChoice) == EXPORT_FORMATS
assert tuple(choice.value for choice in ModeChoice) == EXPORT_MODES

_FILTERS = "Filters"
_PAGING = "Paging"
# What `rlogs export` asks for without --start-date: a date before any log the API keeps, so the export
# holds every retained log (the API clamps a range to its 90 days) rather than the list's default 30 days.
EVERY_KEPT_LOG = "2000-01-01"
_OUTPUT = "Output"

# One definition per API parameter, shared by the commands that take it.
Limit = Annotated[int | None, typer.Option(help="Results per page, 1..100 (API default 50).", rich_help_panel=_PAGING)]
Offset = Annotated[int | None, typer.Option(help="Skip the first N results.", rich_help_panel=_PAGING)]
Cursor = Annotated[
    str | None, typer.Option(help="pagination.nextCursor of the previous page (same filters).", rich_help_panel=_PAGING)
]
AllPages = Annotated[
    bool,
    typer.Option(
        "--all", help="Walk every page by cursor (NDJSON when JSON), with a progress bar.", rich_help_panel=_PAGING
    ),
]
Model = Annotated[str | None, typer.Option(help="Filter by model id, e.g. openai/gpt-4o.", rich_help_panel=_FILTERS)]
Provider = Annotated[str | None, typer.Option(help="Filter by provider.", rich_help_panel=_FILTERS)]
Status = Annotated[StatusChoice | None, typer.Option(help="Filter by status.", rich_help_panel=_FILTERS)]
StartDate = Annotated[
    str | None,
    typer.Option(help="ISO 8601 date or date-time (a bare date: midnight in --tz).", rich_help_panel=_FILTERS),
]
EndDate = Annotated[
    str | None, typer.Option(help="ISO 8601 date or date-time (a bare date: that whole day).", rich_help_panel=_FILTERS)
]
Tz = Annotated[
    str | None, typer.Option(help="IANA time zone of bare dates and buckets (default UTC).", rich_help_panel=_FILTERS)
]
MinLatency = Annotated[int | None, typer.Option(help="Minimum latency in ms.", rich_help_panel=_FILTERS)]
MaxLatency = Annotated[int | None, typer.Option(help="Maximum latency in ms.", rich_help_panel=_FILTERS)]
ApiKeyId = Annotated[str | None, typer.Option(help="Filter by API key id (key_...).", rich_help_panel=_FILTERS)]
User = Annotated[str | None, typer.Option(help="Filter by end user.", rich_help_panel=_FILTERS)]
Metadata = Annotated[
    list[str] | None,
    typer.Option(
        help="KEY=VALUE on an indexed metadata key, sent as metadata.KEY=VALUE; repeatable.",
        rich_help_panel=_FILTERS,
    ),
]
MinCost = Annotated[str | None, typer.Option(help="Minimum total cost in USD (inclusive).", rich_help_panel=_FILTERS)]
MaxCost = Annotated[str | None, typer.Option(help="Maximum total cost in USD (inclusive).", rich_help_panel=_FILTERS)]
Sort = Annotated[SortChoice | None, typer.Option(help="Sort by (default created_at).", rich_help_panel=_FILTERS)]
Order = Annotated[OrderChoice | None, typer.Option(help="Sort order (default desc).", rich_help_panel=_FILTERS)]
_CONNECTION = "Connection"
BaseUrl = Annotated[
    str | None,
    typer.Option(
        envvar=BASE_URL_ENV,
        help="The API's base URL, e.g. http://127.0.0.1:3000.",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(envvar=API_KEY_ENV, help="API key (Bearer).", rich_help_panel=_CONNECTION, show_default=False),
]
AsJson = Annotated[
    bool | None,
    typer.Option(
        "--json/--table",
        help="JSON (one array; NDJSON with --all) or a table. Default: a table at a terminal, JSON otherwise.",
        rich_help_panel=_OUTPUT,
        show_default=False,
    ),
]


@dataclass
class Settings:
    """The global options, and what a test passes as ``obj`` (``transport``, ``sleep``) to the client."""

    base_url: str | None = None
    api_key: str | None = None
    timeout: float | None = None
    max_attempts: int | None = None
    client_options: dict[str, Any] = field(default_factory=dict)

    def client(self, base_url: str | None = None, api_key: str | None = None) -> Client:
        """A client with the command's ``--base-url``/``--api-key`` when given, else the global ones (both
        fall back to the environment)."""
        rate_limited_before = False

        def notice(error: APIError, wait: float, attempt: int) -> None:
            # A long walk meets the rate limit on every page once past the burst: say so once, not per page.
            nonlocal rate_limited_before
            if error.status_code == 429:
                if not rate_limited_before:
                    render.notice(
                        f"[yellow]rate limited by the API: waiting {wait:.0f}s as Retry-After says, and so on[/yellow]"
                    )
                rate_limited_before = True
                return
            render.notice(f"[yellow]{escape(str(error))}: retrying in {wait:.1f}s (attempt {attempt + 1})[/yellow]")

        try:
            return Client(
                api_key or self.api_key,
                base_url=base_url or self.base_url,
                timeout=self.timeout,
                max_attempts=self.max_attempts,
                on_retry=notice,
                **self.client_options,
            )
        except ValueError as exc:
            fail(f"{exc} (or --{'api-key' if 'key' in str(exc) else 'base-url'})", EXIT_USAGE)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"rlogs {__version__}")
        raise typer.Exit


@app.callback()
def main_options(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 30.0,
    max_attempts: Annotated[
        int, typer.Option(min=1, help="Calls per request at most (retries after 429, 5xx, no answer).")
    ] = 5,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version),
    ] = False,
) -> None:
    options = ctx.obj if isinstance(ctx.obj, dict) else {}
    ctx.obj = Settings(base_url, api_key, timeout, max_attempts, dict(options))


def fail(message: str, code: int = EXIT_API_ERROR) -> NoReturn:
    render.stderr_console().print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def api_call() -> Iterator[None]:
    """API errors as one line on stderr and exit 1; Ctrl-C as exit 130."""
    try:
        yield
    except APIError as exc:
        fail(describe_api_error(exc))
    except KeyboardInterrupt:
        render.stderr_console().print("[yellow]interrupted[/yellow]")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def describe_api_error(exc: APIError) -> str:
    details = ", ".join(
        f"{name} {value}" for name, value in (("type", exc.type), ("code", exc.code), ("param", exc.param)) if value
    )
    status = f"{exc.status_code}: " if exc.status_code is not None else ""
    return f"{status}{exc.message}" + (f" ({details})" if details else "")


def metadata_filters(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    metadata: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--metadata")
        metadata[key] = value
    return metadata


def api_params(**values: Any) -> dict[str, Any]:
    """Options as the client's keyword arguments: unset ones left out, enum choices as their values."""
    return {
        name: value.value if isinstance(value, Enum) else value for name, value in values.items() if value is not None
    }


# --- logs -----------------------------------------------------------------------------------------------


@logs_app.command("list")
def logs_list(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    limit: Limit = None,
    offset: Offset = None,
    cursor: Cursor = None,
    all_pages: AllPages = False,
    model: Model = None,
    provider: Provider = None,
    status: Status = None,
    start_date: StartDate = None,
    end_date: EndDate = None,
    tz: Tz = None,
    min_latency: MinLatency = None,
    max_latency: MaxLatency = None,
    api_key_id: ApiKeyId = None,
    user: User = None,
    metadata: Metadata = None,
    as_json: AsJson = None,
) -> None:
    """List request logs, newest first (GET /api/account/request-logs)."""
    params = api_params(
        limit=limit,
        offset=offset,
        cursor=cursor,
        model=model,
        provider=provider,
        status=status,
        start_date=start_date,
        end_date=end_date,
        tz=tz,
        min_latency=min_latency,
        max_latency=max_latency,
        api_key_id=api_key_id,
        user=user,
        metadata=metadata_filters(metadata),
    )
    settings: Settings = ctx.obj
    with api_call(), settings.client(base_url, api_key) as client:
        print_list(
            lambda query: client.logs.list(**query), client.logs.pages, params, all_pages, as_json, enhanced=False
        )


@logs_app.command("get")
def logs_get(
    ctx: typer.Context,
    log_id: Annotated[str, typer.Argument(help="The log's id.")],
    as_json: AsJson = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """One log with every field (GET /api/account/request-logs/{log_id})."""
    settings: Settings = ctx.obj
    with api_call(), settings.client(base_url, api_key) as client:
        log = render.as_data(client.logs.get(log_id))
    if render.wants_json(as_json):
        render.write_json(log)
    else:
        render.stdout_console().print(render.record_table(log, title=f"log {log_id}"))


@logs_app.command("details")
def logs_details(
    ctx: typer.Context,
    log_id: Annotated[str, typer.Argument(help="The log's id.")],
    as_json: AsJson = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """The prompt and completion of a log, for 30 days (GET /api/account/request-logs/{log_id}/details)."""
    settings: Settings = ctx.obj
    with api_call(), settings.client(base_url, api_key) as client:
        details = render.as_data(client.logs.details(log_id))
    if render.wants_json(as_json):
        render.write_json(details)
    else:
        console = render.stdout_console()
        for renderable in render.details_renderables(details):
            console.print(renderable)


# --- enhanced -------------------------------------------------------------------------------------------


@app.command("enhanced")
def enhanced(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    limit: Limit = None,
    offset: Offset = None,
    cursor: Cursor = None,
    all_pages: AllPages = False,
    model: Model = None,
    provider: Provider = None,
    status: Status = None,
    start_date: StartDate = None,
    end_date: EndDate = None,
    tz: Tz = None,
    min_latency: MinLatency = None,
    max_latency: MaxLatency = None,
    api_key_id: ApiKeyId = None,
    user: User = None,
    metadata: Metadata = None,
    min_cost: MinCost = None,
    max_cost: MaxCost = None,
    sort: Sort = None,
    order: Order = None,
    as_json: AsJson = None,
) -> None:
    """Logs with token and cost breakdowns, sortable (GET /api/account/request-logs/enhanced)."""
    params = api_params(
        limit=limit,
        offset=offset,
        cursor=cursor,
        model=model,
        provider=provider,
        status=status,
        start_date=start_date,
        end_date=end_date,
        tz=tz,
        min_latency=min_latency,
        max_latency=max_latency,
        api_key_id=api_key_id,
        user=user,
        metadata=metadata_filters(metadata),
        min_cost=min_cost,
        max_cost=max_cost,
        sort=sort,
        order=order,
    )
    settings: Settings = ctx.obj
    with api_call(), settings.client(base_url, api_key) as client:
        print_list(
            lambda query: client.enhanced.list(**query),
            client.enhanced.pages,
            params,
            all_pages,
            as_json,
            enhanced=True,
        )


def print_list(
    one_page: Callable[[dict[str, Any]], Any],
    pages: Callable[..., Iterator[Any]],
    params: dict[str, Any],
    all_pages: bool,
    as_json: bool | None,
    *,
    enhanced: bool,
) -> None:
    """One page (a JSON array, or a table), or with ``--all`` every page (NDJSON, or a table per page) with
    a progress bar on stderr sized by ``pagination.total``."""
    json_output = render.wants_json(as_json)
    if not all_pages:
        page = one_page(params)
        logs = [render.as_data(log) for log in page.logs]
        if json_output:
            render.write_json(logs)
        else:
            pagination = page.pagination
            title = f"{len(logs)} of {pagination.total:,} logs from offset {pagination.offset}"
            render.stdout_console().print(render.logs_table(logs, enhanced=enhanced, title=title))
        if page.pagination.nextCursor:
            render.stderr_console().print(
                f"more: --all, or --cursor {page.pagination.nextCursor}", highlight=False, markup=False, soft_wrap=True
            )
        return
    with render.progress_bar() as progress:
        task = progress.add_task("logs", total=None)
        console = render.stdout_console()
        for number, page in enumerate(pages(**params), start=1):
            progress.update(task, total=page.pagination.total)
            logs = [render.as_data(log) for log in page.logs]
            if json_output:
                for log in logs:
                    render.write_json(log)
                sys.stdout.flush()
            elif logs:
                console.print(render.logs_table(logs, enhanced=enhanced, title=f"page {number}"))
            progress.advance(task, len(logs))


# --- stats ----------------------------------------------------------------------------------------------


@app.command("stats")
def stats(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    start_date: StartDate = None,
    end_date: EndDate = None,
    group_by: Annotated[
        str | None,
        typer.Option(
            help="hour, day, week, model, provider, user, metadata.KEY, or a comma list (default day).",
            rich_help_panel=_FILTERS,
        ),
    ] = None,
    tz: Tz = None,
    limit: Annotated[
        int | None,
        typer.Option(help="With --group-by user or metadata.KEY: top groups, 1..100.", rich_help_panel=_FILTERS),
    ] = None,
    as_json: AsJson = None,
) -> None:
    """Aggregated statistics: totals, cost, latency percentiles, by time and by model (GET …/stats)."""
    params = api_params(start_date=start_date, end_date=end_date, group_by=group_by, tz=tz, limit=limit)
    settings: Settings = ctx.obj
    with api_call(), settings.client(base_url, api_key) as client:
        answer = render.as_data(client.stats.get(**params))
    if render.wants_json(as_json):
        render.write_json(answer)
    else:
        console = render.stdout_console()
        for renderable in render.stats_renderables(answer):
            console.print(renderable)


# --- export ---------------------------------------------------------------------------------------------


class RichExportProgress:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def begin(self, description: str, total: int | None, completed: int) -> None:
        if self._task is None:
            self._task = self._progress.add_task(description, total=total, completed=completed)
        else:
            self._progress.update(self._task, description=description, total=total, completed=completed)

    def advance(self, rows: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, rows)

    def notice(self, text: str) -> None:
        self._progress.console.print(text, highlight=False, markup=False)


@app.command("export")
def export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.", rich_help_panel=_OUTPUT)],
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    export_format: Annotated[
        FormatChoice, typer.Option("--format", "-f", help="File format.", rich_help_panel=_OUTPUT)
    ] = FormatChoice.ndjson,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted export of --output from OUTPUT.state.json.",
            rich_help_panel=_OUTPUT,
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace --output and any interrupted export of it.", rich_help_panel=_OUTPUT),
    ] = False,
    mode: Annotated[
        ModeChoice,
        typer.Option(
            "--mode",
            help="server: a server-side export, its parts downloaded; paged: page the API (can --sort); auto: "
            "server-side above --server-threshold logs.",
            rich_help_panel=_OUTPUT,
        ),
    ] = ModeChoice.auto,
    include_content: Annotated[
        bool,
        typer.Option(
            "--include-content",
            help="Add each log's prompt and completion (request, response; null after 30 days). Server-side only.",
            rich_help_panel=_OUTPUT,
        ),
    ] = False,
    server_threshold: Annotated[
        int,
        typer.Option(
            min=0,
            envvar="RLOGS_SERVER_THRESHOLD",
            help="--mode auto exports server-side when the filters match more logs than this.",
            rich_help_panel=_OUTPUT,
        ),
    ] = SERVER_EXPORT_THRESHOLD,
    page_size: Annotated[int, typer.Option(min=1, max=100, help="Logs per API call.", rich_help_panel=_PAGING)] = 100,
    model: Model = None,
    provider: Provider = None,
    status: Status = None,
    start_date: StartDate = None,
    end_date: EndDate = None,
    tz: Tz = None,
    min_latency: MinLatency = None,
    max_latency: MaxLatency = None,
    api_key_id: ApiKeyId = None,
    user: User = None,
    metadata: Metadata = None,
    min_cost: MinCost = None,
    max_cost: MaxCost = None,
    sort: Sort = None,
    order: Order = None,
) -> None:
    """Every log of the filtered set into one NDJSON, CSV or Parquet file, resumable. Without --start-date,
    every log the API still keeps (its 90 days), not the list's default of the last 30 days.

    Large sets (--mode auto, above --server-threshold logs) run as a server-side export whose parts are
    downloaded, checked and assembled; smaller ones page the enhanced list. A progress bar either way;
    --resume continues an interrupted export from OUTPUT.state.json without writing a log twice (and
    follows the same server-side export rather than starting another)."""
    filters = api_params(
        model=model,
        provider=provider,
        status=status,
        start_date=start_date or EVERY_KEPT_LOG,
        end_date=end_date,
        tz=tz,
        min_latency=min_latency,
        max_latency=max_latency,
        api_key_id=api_key_id,
        user=user,
        metadata=metadata_filters(metadata),
        min_cost=min_cost,
        max_cost=max_cost,
        sort=sort,
        order=order,
    )
    job = ExportJob(
        output=output,
        format=export_format.value,
        filters=filters,
        page_size=page_size,
        resume=resume,
        overwrite=overwrite,
        mode=mode.value,
        include_content=include_content,
        server_threshold=server_threshold,
    )
    settings: Settings = ctx.obj
    err = render.stderr_console()
    with settings.client(base_url, api_key) as client, render.progress_bar() as progress:
        shown = RichExportProgress(progress)
        try:
            source = select_export_source(client, job, shown.notice)
            result = source.run(job, shown)
        except ExportError as exc:
            progress.stop()
            fail(str(exc), exc.exit_code)
        except (InvalidRequestError, AuthenticationError, PermissionDeniedError) as exc:
            progress.stop()  # the request is at fault: running it again as it is would fail the same way
            fail(describe_api_error(exc))
        except (APIError, KeyboardInterrupt) as exc:
            progress.stop()
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"stopped by an error: {exc}"
            err.print(f"[yellow]{escape(reason)}; {_checkpoint_said(job)}[/yellow]", highlight=False)
            raise typer.Exit(EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else EXIT_API_ERROR) from None
    note = f" ({result.resumed_from:,} before this run)" if result.resumed_from else ""
    via = f", from server-side export {result.export_id}" if result.export_id else ""
    err.print(f"wrote {result.rows:,} logs to {result.output}{note}{via}", highlight=False)


def _checkpoint_said(job: ExportJob) -> str:
    """What survives an interruption, and how to go on."""
    state: ExportState | None = None
    if job.state_path.exists():
        try:
            state = load_state(job.state_path)
        except ExportError:
            state = None
    if state is None:
        return "nothing was written yet. Run the same command again to start."
    going_on = f"server-side export {state.export_id} goes on, and " if state.export_id is not None else ""
    return f"{going_on}{state.rows:,} rows are safely written. Run the same command with --resume to continue."
