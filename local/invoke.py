"""Docker-free ``sam local invoke``: run one function of ``template.yaml`` on one event file.

    python -m local.invoke ListRequestLogsFunction --event events/api/list_ok.json

Like ``sam local invoke`` it prints the handler's return value as JSON on stdout (the function's own
log lines go to stderr) and, if the handler raises, prints Lambda's error object instead and exits 1.

Which data it runs against (``--target``; it says so on stderr before the function's own lines):

- ``fixtures`` (the default without ``AWS_ENDPOINT_URL``): everything happens in this process, offline:
  moto, every table, queue and bucket provisioned from the template, the event fixtures seeded
  (``local.demo.event_fixtures``: the accounts, keys and logs the files in ``events/`` refer to), and the
  clock pinned at the instant the fixtures are written for, so that retention does not expire them as the
  calendar moves on. Not the running ``make run``: its accounts and logs are not there.
- ``local``: the running ``make run``, found through its state file (``local.stack.state``), or the
  endpoint ``AWS_ENDPOINT_URL`` names; its tables as they are, nothing seeded, the real clock unless
  ``--at`` pins it. The files in ``events/`` name the fixture accounts, which that stack does not have.
- ``auto`` (the default): ``local`` when ``AWS_ENDPOINT_URL`` is set, else ``fixtures``. It never
  switches to the running stack by itself: the files in ``events/`` mean what their names say only on
  the fixtures, so the same command gives the same answer whether or not ``make run`` is running.

Exit status: 0, or 1 when the handler raised (its error object on stdout, as Lambda reports it), or 2
for a usage error or ``--target local`` with no running stack to be found.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import time_machine

from local.demo.event_fixtures import EVENTS_NOW, seed_event_fixtures
from local.emulator.lambda_runtime import FunctionRegistry
from local.stack.moto_server import use_endpoint
from local.stack.provision import Stack, provision
from local.stack.state import NoLocalStack, is_loopback, require_running
from local.stack.template import REGION, Template, load_template
from request_logs.config import get_settings
from request_logs.domain.timeutil import InvalidInstant, format_ms, from_ms, parse_instant, to_ms
from request_logs.store.dynamo import reset_clients

EPILOG = f"""\
data: --target fixtures (the default without AWS_ENDPOINT_URL) runs on a fresh moto in this process, seeded
with the accounts, keys and logs events/ refers to; --target local on the running make run (found through
its state file, or AWS_ENDPOINT_URL), whose tables hold the demo accounts, not the fixtures.

time: the clock is pinned at --at; with the fixtures it is pinned by default at
{format_ms(to_ms(EVENTS_NOW))}, just after the fixture logs in events/ were created. Retention (logs 90 days,
content 30 days) is relative to now, and at that instant every event means what its file name says
(details_expired.json names a log whose content is past 30 days).

examples:
  python -m local.invoke ListRequestLogsFunction --event events/api/list_ok.json
  python -m local.invoke AuthorizerFunction --event events/authorizer/revoked.json
  python -m local.invoke IngestFunction --event events/sqs/ingest_malformed.json
  python -m local.invoke StatsAggregatorFunction --event events/stream/insert_batch.json --target local
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 python -m local.invoke ListRequestLogsFunction --event ...
"""

TARGETS = ("auto", "fixtures", "local")
# Its events (events/sqs/export_*.json) run the queued export the fixture world then holds.
EXPORT_FUNCTION = "ExportLogsFunction"


_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Outcome:
    payload: Any
    raised: bool


def _instant(value: str) -> datetime:
    try:
        return from_ms(parse_instant(value))
    except InvalidInstant as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {value!r} ({exc})") from exc


def _parser(function_ids: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.invoke",
        description="Run one function of template.yaml on one event file, without Docker (like sam local invoke).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("function", metavar="FUNCTION", choices=function_ids, help="logical id in template.yaml")
    parser.add_argument("--event", "-e", required=True, type=Path, help="event JSON file, e.g. one of events/")
    parser.add_argument("--at", type=_instant, help="pin the clock at this ISO 8601 instant")
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="auto",
        help="fixtures: in-process data of events/; local: the running make run; "
        "auto (default): local if AWS_ENDPOINT_URL is set, else fixtures",
    )
    parser.add_argument("--no-seed", action="store_true", help="fixtures: start from empty tables")
    return parser


def _read_event(parser: argparse.ArgumentParser, path: Path) -> dict[str, Any]:
    try:
        event = json.loads(path.read_text())
    except OSError as exc:
        parser.error(f"cannot read {path}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        parser.error(f"{path} is not JSON: {exc}")
    if not isinstance(event, dict):
        parser.error(f"{path} must hold a JSON object, as every Lambda event is")
    return event


def _use_environment(environment: dict[str, str]) -> None:
    """Set the functions' environment; settings and clients are cached per process, so forget them."""
    os.environ.update(environment)
    get_settings.cache_clear()
    reset_clients()


def _in_process(template: Template, *, seed: bool, with_export: bool = False) -> FunctionRegistry:
    """A provisioned stack in moto (the caller holds the mock open); seeded unless asked not to."""
    os.environ["AWS_DEFAULT_REGION"] = REGION
    stack = provision(template)
    _use_environment(stack.function_environment())
    registry = FunctionRegistry(template)
    if seed:
        seed_event_fixtures(registry, stack.stream_arns["RequestLogsTable"], with_export=with_export)
    return registry


def _local_endpoint() -> tuple[str, dict[str, str]]:
    """The running stack's endpoint and table names: AWS_ENDPOINT_URL's, else the state file's."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return endpoint, {}
    state = require_running("leave out TARGET=local to run on the in-process fixtures")
    return state.endpoint_url, state.names


def _against_endpoint(template: Template, endpoint: str, names: dict[str, str]) -> FunctionRegistry:
    """The tables behind ``endpoint``: named as the state file says, or as ``local.stack.provision`` names them."""
    if is_loopback(endpoint):
        # A loopback moto server accepts any credentials; boto3 refuses to sign without some. Never real ones.
        use_endpoint(endpoint)
    else:
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    stack = Stack(template)
    stack.read_provisioned_values(boto3.Session(region_name=os.environ["AWS_DEFAULT_REGION"]))
    _use_environment({**stack.function_environment(), **names})
    return FunctionRegistry(template)


def _describe(where: str | None, pinned_at: datetime | None, seed: bool) -> str:
    """Which data the function runs against, and at what time: the line main() prints on stderr."""
    clock = f"clock pinned at {format_ms(to_ms(pinned_at))}" if pinned_at else "real clock"
    if where is not None:
        return f"against {where}: its tables as they are, {clock}"
    world = "the accounts, keys and logs of events/" if seed else "empty tables (--no-seed)"
    return (
        f"against in-process fixture data: a fresh moto in this process with {world}, not the running "
        f"make run (TARGET=local for that); {clock}"
    )


def _invoke(registry: FunctionRegistry, function: str, event: dict[str, Any]) -> Outcome:
    try:
        return Outcome(registry.invoke(function, event), raised=False)
    except Exception as exc:  # reported to the caller the way Lambda reports it
        # Lambda's stack trace starts in the function's code: leave out this runtime's own frames.
        frames = [
            frame for frame in traceback.extract_tb(exc.__traceback__) if not Path(frame.filename).is_relative_to(_HERE)
        ]
        return Outcome(
            {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "stackTrace": traceback.format_list(frames),
            },
            raised=True,
        )


def main(argv: list[str] | None = None) -> int:
    template = load_template()
    parser = _parser(sorted(template.functions()))
    args = parser.parse_args(argv)
    event = _read_event(parser, args.event)
    target = args.target
    if target == "auto":
        target = "local" if os.environ.get("AWS_ENDPOINT_URL") else "fixtures"
    endpoint: str | None = None
    names: dict[str, str] = {}
    where: str | None = None
    if target == "local":
        try:
            endpoint, names = _local_endpoint()
        except NoLocalStack as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        where = f"the running make run (moto at {endpoint})" if names else f"AWS_ENDPOINT_URL={endpoint}"
    else:
        # moto's in-process mock serves AWS's own endpoints: nothing may send this process elsewhere.
        for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
            del os.environ[name]
    pinned_at: datetime | None = args.at or (None if target == "local" else EVENTS_NOW)
    print(
        f"local.invoke: {args.function} on {args.event} {_describe(where, pinned_at, not args.no_seed)}",
        file=sys.stderr,
    )

    with contextlib.ExitStack() as scope:
        # Handlers log to stdout at import (Powertools binds sys.stdout then): keep stdout for the result.
        scope.enter_context(contextlib.redirect_stdout(sys.stderr))
        if pinned_at is not None:
            scope.enter_context(time_machine.travel(pinned_at, tick=False))
        if endpoint is not None:
            registry = _against_endpoint(template, endpoint, names)
        else:
            from moto import mock_aws  # only this mode needs moto, and it is slow to import

            scope.enter_context(mock_aws())
            # The export function's events run the fixture world's queued export (events/README.md).
            registry = _in_process(template, seed=not args.no_seed, with_export=args.function == EXPORT_FUNCTION)
        outcome = _invoke(registry, args.function, event)

    print(json.dumps(outcome.payload, indent=2, ensure_ascii=False))
    return 1 if outcome.raised else 0


if __name__ == "__main__":
    sys.exit(main())
