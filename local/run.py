"""``make run``: the whole Request Logs API on loopback, with demo data, no Docker and no AWS account.

1. moto in server mode on a free loopback port; boto3 reaches it through ``AWS_ENDPOINT_URL``;
2. every table, queue and bucket of ``template.yaml`` provisioned there, the functions' environment set;
3. pollers that feed the ingest queue to ``IngestFunction`` and the logs table's stream to
   ``StatsAggregatorFunction``, like the template's SQS and DynamoDB event sources;
4. two demo accounts with API keys, then at once the API Gateway emulation on 127.0.0.1:$PORT (3000 by
   default), the ``export RL_BASE_URL=... RL_API_KEY=... RL_API_KEY_2=...`` line, the spec's curl
   examples, the dashboard's URLs (``/logs``, ``/analytics``) and the URL of Swagger UI (``/docs``) and of
   the OpenAPI document (``/openapi.json``);
5. in the background, thousands of realistic gateway messages sent to the ingest queue — the real
   ingest path — plus a few malformed ones that end in the dead-letter queue, with progress lines until
   "demo data loaded" (ingested and aggregated); the API answers for what is ingested so far. The demo's
   history is ingested now, so it is late (``domain/freshness``): totals read the logs themselves until
   the settle function's markers move the horizon past it, a couple of minutes later ("rollups settled");
6. serve until Ctrl-C or SIGTERM, then stop quietly: the gateway, the pollers (the batches in hand
   finished), the moto server last, so nothing polls a server that is gone; exit status 0.

While it runs, ``.local/stack.json`` (``local.stack.state``) tells ``make admin`` and
``make invoke TARGET=local`` where the stack is: they need neither ``AWS_ENDPOINT_URL`` nor credentials.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import boto3

from local.demo.accounts import DEMO_METADATA_KEYS, DemoAccount, create_demo_account
from local.demo.traffic import demo_messages, enqueue, malformed_bodies
from local.emulator.gateway import GatewayServer, LocalApiGateway
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.sqs_poller import SqsPoller, sqs_event_sources
from local.emulator.stream_poller import StreamPoller, stream_event_sources
from local.openapi import DOCS_PATH, DOCUMENT_URL_PATH
from local.stack.moto_server import LOOPBACK, MotoServer, use_endpoint
from local.stack.provision import Stack, provision
from local.stack.state import LocalStackState, remove_state, write_state
from local.stack.template import REGION
from request_logs.config import get_settings
from request_logs.domain.freshness import shards_holding_back
from request_logs.domain.ids import make_log_id
from request_logs.domain.timeutil import parse_instant
from request_logs.store import stats as stats_store
from request_logs.store.dynamo import reset_clients
from request_logs.store.keys import LOG_SHARDS

logger = logging.getLogger(__name__)

DEFAULT_PORT = 3000
INGEST_FUNCTION = "IngestFunction"  # the function whose SQS event source carries the gateway's messages
DEMO_DAYS = 35
FIRST_ACCOUNT_MESSAGES = 5_000
SECOND_ACCOUNT_MESSAGES = 250
# Lambda scales an SQS source with concurrent pollers. Here they share one interpreter (one GIL) with
# moto and the functions, and invocations of one function take turns (one execution environment, see
# local.emulator.lambda_runtime), so a second thread only adds contention: measured on 1,000 messages,
# 1 poller took about 9.5 ms per message and 2 pollers 12.4 ms. Concurrency stays a parameter of
# start_backend().
POLLERS_PER_QUEUE = 1
DRAIN_TIMEOUT_SECONDS = 300
PROGRESS_EVERY_SECONDS = 10  # a progress line while the demo data loads
# The settle function runs SETTLE_MS after the last late log is stamped (logic/settle).
SETTLE_TIMEOUT_SECONDS = 600
SETTLE_POLL_SECONDS = 2
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass
class Backend:
    """moto server, the provisioned stack, the functions and the SQS and stream pollers, running."""

    moto: MotoServer
    stack: Stack
    functions: FunctionRegistry
    pollers: list[SqsPoller] = field(default_factory=list)
    stream_pollers: list[StreamPoller] = field(default_factory=list)
    stopping: bool = False  # set by stop(): work in other threads ends quietly

    @property
    def ingest_poller(self) -> SqsPoller:
        """The poller of the gateway's messages (the ingest function's SQS event source)."""
        return self.poller_of(INGEST_FUNCTION)

    def poller_of(self, function: str) -> SqsPoller:
        (poller,) = (poller for poller in self.pollers if poller.source.function == function)
        return poller

    def drain(self, timeout_s: float = DRAIN_TIMEOUT_SECONDS) -> None:
        """Wait until the ingest queue is drained, then deliver what is left of the stream: every message
        sent so far is ingested (or in the dead-letter queue) and aggregated."""
        self.ingest_poller.wait_until_drained(timeout_s)
        for stream_poller in self.stream_pollers:
            stream_poller.drain()

    def stop(self) -> None:
        self.stopping = True
        for poller in self.pollers:
            poller.stop()
        for stream_poller in self.stream_pollers:
            stream_poller.stop()
        self.moto.stop()


def start_backend(*, pollers_per_queue: int = POLLERS_PER_QUEUE) -> Backend:
    """Steps 1–3 of the module docstring. Changes ``os.environ``: this process now talks to moto."""
    moto = MotoServer()
    backend: Backend | None = None
    try:
        use_endpoint(moto.start())
        stack = provision()
        os.environ.update(stack.function_environment())
        # The shared package caches settings and clients per process: forget any made before.
        get_settings.cache_clear()
        reset_clients()
        functions = FunctionRegistry(stack.template)
        backend = Backend(moto, stack, functions)
        for source in sqs_event_sources(stack):
            poller = SqsPoller(source, functions, concurrency=pollers_per_queue)
            poller.start()
            backend.pollers.append(poller)
        for stream_source in stream_event_sources(stack):
            stream_poller = StreamPoller(stream_source, functions)
            stream_poller.start()
            backend.stream_pollers.append(stream_poller)
    except BaseException:  # Ctrl-C included: stop what started, pollers before the server they poll
        if backend is not None:
            backend.stop()
        else:
            moto.stop()
        raise
    return backend


def _dead_letter_count(backend: Backend) -> int:
    source = backend.ingest_poller.source
    queue = next(
        logical
        for logical in backend.stack.queue_urls
        if backend.stack.arns[f"{logical}.Arn"] == source.dead_letter_queue_arn
    )
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=backend.stack.queue_urls[queue], AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


# (what, resource path of the template route it needs, URL after $RL_BASE_URL): the spec's examples.
CURL_EXAMPLES = [
    ("List request logs", "/api/account/request-logs", "/api/account/request-logs?limit=10&status=success"),
    ("Get request details", "/api/account/request-logs/{id}", "/api/account/request-logs/{log_id}"),
    (
        "Get enhanced request details (prompt and completion)",
        "/api/account/request-logs/{id}/details",
        "/api/account/request-logs/{log_id}/details",
    ),
    ("Error logs", "/api/account/request-logs", "/api/account/request-logs?status=error"),
    ("Today's requests", "/api/account/request-logs", "/api/account/request-logs?start_date=$(date -I)"),
    ("Slow requests", "/api/account/request-logs", "/api/account/request-logs?min_latency=5000"),
    (
        "Statistics by day",
        "/api/account/request-logs/stats",
        "/api/account/request-logs/stats?group_by=day&start_date=2025-01-01",
    ),
    ("Usage by model", "/api/account/request-logs/stats", "/api/account/request-logs/stats?group_by=model"),
    (
        "Enhanced logs with cost data",
        "/api/account/request-logs/enhanced",
        "/api/account/request-logs/enhanced?sort=cost&order=desc&limit=10",
    ),
]


def curl_examples(stack: Stack, log_id: str) -> str:
    """The spec's curl examples for the routes the template serves, host and key swapped."""
    served = {route.path for route in stack.template.routes()}
    lines = []
    for title, resource, url in CURL_EXAMPLES:
        if resource in served:
            lines += [
                f"# {title}",
                f'curl "$RL_BASE_URL{url.format(log_id=log_id)}" \\',
                '  -H "Authorization: Bearer $RL_API_KEY"',
                "",
            ]
    return "\n".join(lines)


def api_reference(base_url: str) -> str:
    """Where the dashboard and the API reference are served: the dashboard's two views (``dashboard/``),
    Swagger UI and the OpenAPI document (``local.openapi``)."""
    return (
        f"# Dashboard: {base_url}/logs (Request Logs) and {base_url}/analytics (sign in with $RL_API_KEY)\n"
        f"# API reference: Swagger UI at {base_url}{DOCS_PATH} (Authorize with $RL_API_KEY, then Try it out)\n"
        f"# OpenAPI document: {base_url}{DOCUMENT_URL_PATH}\n"
    )


def _example_message(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The newest successful request: the log the single-log examples name."""
    return max((m for m in messages if m["status"] == "success"), key=lambda m: parse_instant(m["created_at"]))


def make_log_id_of(account: DemoAccount, message: dict[str, Any]) -> str:
    """The id ingest gives the message's log (derived, as ingest derives it)."""
    return make_log_id(account.account_id, message["request_id"], parse_instant(message["created_at"]))


def _load_demo_data(
    backend: Backend, bodies: list[str], malformed: int, accounts: list[DemoAccount], started: float
) -> None:
    """Send the demo messages to the ingest queue, wait for ingest and aggregation, with progress lines.
    Quiet when the runtime stops meanwhile (the pollers and moto go away under it)."""
    poller = backend.ingest_poller
    total = len(bodies)
    try:
        say(started, f"demo data: sending {total:,} gateway messages ({malformed} malformed) to SQS")

        def progress(sent: int) -> None:
            if sent % 1000 == 0:
                say(started, f"demo data: sent {sent:,} of {total:,}, ingested {poller.stats.succeeded:,}")

        enqueue(poller, bodies, on_progress=progress)
        while True:
            try:
                poller.wait_until_drained(PROGRESS_EVERY_SECONDS)
                break
            except TimeoutError:
                say(started, f"demo data: ingested {poller.stats.succeeded:,} of {total - malformed:,}")
        for stream_poller in backend.stream_pollers:
            stream_poller.drain()
        say(
            started,
            f"demo data loaded: {poller.stats.succeeded:,} logs ingested and aggregated into the hour and day "
            f"stats; {_dead_letter_count(backend)} malformed messages are in the dead-letter queue (the ingest "
            "function's log above says why)",
        )
        _wait_until_settled(backend, [account.account_id for account in accounts], started)
    except Exception:
        if backend.stopping:
            return  # stopped while loading: nothing to report
        logger.exception("loading the demo data failed; the API serves what was ingested")


def _wait_until_settled(backend: Backend, account_ids: list[str], started: float) -> None:
    """Say when every demo account's rollups answer totals again: the settle function has moved each
    log partition's horizon past the backfilled (late) demo logs."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while not backend.stopping and time.monotonic() < deadline:
        holding_back = [
            account_id
            for account_id in account_ids
            if shards_holding_back(stats_store.load_progress(account_id), range(LOG_SHARDS))
        ]
        if not holding_back:
            say(
                started,
                "rollups settled: totals and summaries come from the rollups again (settle markers moved the "
                "freshness horizon past the demo's backfilled logs)",
            )
            return
        time.sleep(SETTLE_POLL_SECONDS)
    if not backend.stopping:
        say(started, "rollups not settled yet: totals still read the logs (the settle function's log says why)")


def say(started: float, text: str) -> None:
    """A progress line, stamped with the seconds since ``started`` (a ``time.monotonic()``)."""
    print(f"[{time.monotonic() - started:5.1f}s] {text}", flush=True)


class _Stop(BaseException):
    """SIGINT or SIGTERM: stop serving (a BaseException, so that no ``except Exception`` swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _request_stop(signum: int, frame: FrameType | None) -> None:
    # From now on a second Ctrl-C means "now": the clean stop takes a second or two, unless an
    # invocation in hand is long.
    signal.signal(signal.SIGINT, _stop_at_once)
    signal.signal(signal.SIGTERM, _stop_at_once)
    raise _Stop(signum)


def _stop_at_once(signum: int, frame: FrameType | None) -> None:
    # The moto server exits with this process (local.stack.moto_main); a stale state file is recognised.
    os.write(sys.stdout.fileno(), b"\nstopped at once (second signal)\n")
    os._exit(128 + signum)


def _state(backend: Backend, api_url: str | None) -> LocalStackState:
    """What other processes learn from the state file: the endpoint and the resources' names, no secret."""
    return LocalStackState(os.getpid(), backend.moto.endpoint_url, REGION, backend.stack.resource_names(), api_url)


def main() -> int:
    """Serve until SIGINT (Ctrl-C) or SIGTERM, then stop cleanly and return 0: a requested stop is not a
    failure (and ``make`` prints no "Error 130" line). The gateway stops first, then the pollers finish
    the batches in hand, then the moto server stops; one line says so."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "Found endpoint for sqs via: environment"
    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    port = int(os.environ.get("PORT", DEFAULT_PORT))
    started = time.monotonic()
    backend: Backend | None = None
    server: GatewayServer | None = None
    stopped_by: int | None = None
    try:
        say(started, "starting moto server, provisioning template.yaml, starting the SQS and stream pollers")
        backend = start_backend()
        try:
            server = GatewayServer(LocalApiGateway(backend.stack.template, backend.functions), LOOPBACK, port)
        except OSError as exc:
            print(f"cannot listen on {LOOPBACK}:{port} ({exc.strerror}): set PORT to a free port", file=sys.stderr)
            return 1
        state_file = write_state(_state(backend, api_url=None))
        say(
            started,
            f"moto server at {backend.moto.endpoint_url} (AWS_ENDPOINT_URL; make admin and make invoke "
            f"TARGET=local find it through {_relative(state_file)})",
        )
        first = create_demo_account("Demo Account", ["default", "batch-jobs"], metadata_keys=DEMO_METADATA_KEYS)
        second = create_demo_account("Second Demo Account", ["default"], metadata_keys=DEMO_METADATA_KEYS)
        say(started, f"demo accounts {first.account_id} (2 keys) and {second.account_id} (1 key)")

        first_messages = demo_messages(first, FIRST_ACCOUNT_MESSAGES, days=DEMO_DAYS, seed=7)
        messages = first_messages + demo_messages(second, SECOND_ACCOUNT_MESSAGES, days=DEMO_DAYS, seed=8)
        example = _example_message(first_messages)
        # The example log first, so that the single-log examples answer at once; the malformed ones next:
        # their retries overlap the bulk instead of trailing it.
        bodies = [json.dumps(example), *malformed_bodies(messages[0])]
        bodies += [json.dumps(message) for message in messages if message is not example]

        # Serve at once: the demo data loads in the background through the real ingest path, and every
        # endpoint answers for what has been ingested (and, for stats, aggregated) so far.
        server.start()
        write_state(_state(backend, api_url=server.url))
        say(started, f"ready: the API is at {server.url} (demo data loads in the background, progress below)\n")
        print(f"export RL_BASE_URL={server.url} RL_API_KEY={first.api_key} RL_API_KEY_2={second.api_key}\n")
        print(curl_examples(backend.stack, make_log_id_of(first, example)), flush=True)
        print(api_reference(server.url), flush=True)
        print("Serving until Ctrl-C.", flush=True)
        loader = threading.Thread(
            target=_load_demo_data,
            args=(backend, bodies, len(bodies) - len(messages), [first, second], started),
            name="demo-data",
            daemon=True,
        )
        loader.start()
        threading.Event().wait()
    except _Stop as stop:
        stopped_by = stop.signum
    finally:
        if server is not None:
            server.stop()
        if backend is not None:
            backend.stop()
        remove_state(os.getpid())
    if stopped_by is not None:
        # After the terminal's "^C", on a line of its own.
        prefix = "\n" if stopped_by == signal.SIGINT else ""
        print(
            f"{prefix}[{time.monotonic() - started:5.1f}s] stopped on {signal.Signals(stopped_by).name}: "
            "the API, the pollers and the moto server are shut down",
            flush=True,
        )
    return 0


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
