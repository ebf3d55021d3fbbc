"""``make load``: concurrent clients against the local runtime while the gateway keeps ingesting.

1. the local runtime as ``make run`` builds it (``local.run.start_backend``: moto server, template
   provisioned, SQS and stream pollers), two fresh accounts with several API keys each, a few hundred
   demo messages per account through SQS, and the API Gateway emulation on a free loopback port with
   its real clock (the usage-plan throttles refill in real time);
2. ``--clients`` threads (20) in a separate process, for ``--duration`` seconds (60): each has one API
   key and calls every GET route the template serves (list, single log, details, stats, enhanced
   when present), some single-log and details calls with unknown ids or another account's ids on
   purpose (404 expected); a client that gets 429 checks ``Retry-After`` and waits that long;
3. meanwhile a producer sends new gateway messages to the ingest queue, and sends some a second time
   (SQS delivers at least once: a redelivered message must not make a second log);
4. then, once ingest and the stream are drained: every request id sent is listed through the API
   exactly once (no loss, no duplicate), ``pagination.total`` and the stats' ``total_requests`` equal
   the number of distinct ids, and the only non-2xx answers were 429 with ``Retry-After`` and the
   deliberate 404s.

Results (throughput, p50/p99 latency per route, statuses, the checks) go to ``bench/load_results.json``
and ``python -m bench.report`` renders them into docs/benchmarks.md. Exits non-zero when a check fails.
Latency figures describe this machine and the emulation (one warm execution environment per function,
every DynamoDB call a loopback HTTP request to moto in Python), not Lambda: they are recorded, never
asserted.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import math
import os
import platform
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from typing import Any

import boto3
import requests

from bench.report import LOAD_RESULTS_PATH
from local.demo.accounts import create_demo_account
from local.demo.messages import DemoKey, generate_messages
from local.demo.traffic import DAY_MS, enqueue, send_messages
from local.emulator.gateway import GatewayServer, LocalApiGateway
from local.run import LOG_FORMAT, Backend, say, start_backend
from local.stack.template import Template
from request_logs.domain.ids import make_log_id
from request_logs.domain.timeutil import parse_instant

LIST = "/api/account/request-logs"
STATS = f"{LIST}/stats"
ENHANCED = f"{LIST}/enhanced"
# Seed data spread over the last week: inside the stats endpoint's default range (30 days), so one
# stats call without dates counts every log of the account.
SEED_DAYS = 7
_HTTP_TIMEOUT_SECONDS = 60
# Of the single-log and details calls, this share asks for an id that must be a 404: half unknown
# ids, half ids of another account (tenant isolation under load).
_NOT_FOUND_SHARE = 0.1


@dataclass(frozen=True)
class LoadConfig:
    clients: int = 20
    duration_s: float = 60.0
    keys_per_account: tuple[int, ...] = (3, 2)  # two accounts: 3 keys and 2, shared by the mixed clients
    # Of the clients, this many call only the single-log route as fast as answers come, each with a key
    # of its own (one per account in turn): the route's throttle must bind while everything else runs.
    greedy_clients: int = 2
    seed_messages_per_account: int = 300
    ingest_per_second: float = 10.0  # new gateway messages during the run, over all accounts
    redelivery_share: float = 0.05  # of those, sent a second time
    seed: int = 20261124


@dataclass(frozen=True)
class LoadKey:
    account_id: str
    api_key_id: str
    api_key: str


@dataclass(frozen=True)
class ClientPlan:
    """What the client process needs: picklable, no secrets beyond the keys it must send."""

    base_url: str
    routes: tuple[str, ...]  # template resource paths of the GET routes
    keys: tuple[LoadKey, ...]  # shared by the mixed clients
    greedy_keys: tuple[LoadKey, ...]  # one per greedy client
    log_ids: dict[str, list[str]]  # account id → ids of its seed logs
    clients: int
    duration_s: float
    seed: int


@dataclass(frozen=True)
class Sample:
    route: str
    status: int
    latency_ms: float
    outcome: str  # "ok" | "not_found_expected" | "throttled" | "unexpected"
    detail: str = ""  # for "unexpected": what was wrong (never a response body of a 2xx)


# ------------------------------------------------------------------ the clients (in their own process)
def _request_for(route: str, key: LoadKey, plan: ClientPlan, rng: random.Random) -> tuple[str, dict[str, Any], bool]:
    """(path, query, whether 404 is the right answer) for one call of ``route`` with ``key``."""
    if "{id}" in route:
        own = plan.log_ids[key.account_id]
        draw = rng.random()
        if draw < _NOT_FOUND_SHARE / 2:
            unknown = make_log_id(key.account_id, f"req_unknown_{rng.randrange(10**9)}", int(time.time() * 1000))
            return route.replace("{id}", unknown), {}, True
        if draw < _NOT_FOUND_SHARE:
            others = [log_id for account, ids in plan.log_ids.items() if account != key.account_id for log_id in ids]
            return route.replace("{id}", rng.choice(others)), {}, True
        return route.replace("{id}", rng.choice(own)), {}, False
    if route == LIST:
        query: dict[str, Any] = rng.choice(
            [
                {"limit": 20},
                {"limit": 100, "offset": 100},
                {"status": "error", "limit": 50},
                {"model": "openai/gpt-4o", "limit": 10},
                {"min_latency": 2000, "limit": 10},
                {"start_date": (datetime.now(UTC) - timedelta(days=2)).date().isoformat(), "limit": 10},
            ]
        )
        return route, query, False
    if route == STATS:
        week_ago = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
        return route, rng.choice([{}, {"group_by": "model"}, {"group_by": "hour", "start_date": week_ago}]), False
    if route == ENHANCED:
        return route, rng.choice([{"limit": 10}, {"sort": "cost", "order": "desc", "limit": 10}]), False
    return route, {}, False


def _judge(route: str, response: requests.Response, latency_ms: float, expect_404: bool) -> Sample:
    status = response.status_code
    if status == 429:
        retry_after = response.headers.get("Retry-After", "")
        error_type = _error_type(response)
        if not retry_after.isdigit() or int(retry_after) < 1 or error_type != "rate_limit_error":
            detail = f"429 with Retry-After {retry_after!r} and error type {error_type!r}"
            return Sample(route, status, latency_ms, "unexpected", detail)
        return Sample(route, status, latency_ms, "throttled")
    if expect_404:
        if status == 404 and _error_type(response) == "not_found_error":
            return Sample(route, status, latency_ms, "not_found_expected")
        return Sample(route, status, latency_ms, "unexpected", f"{status} where 404 was due")
    if 200 <= status < 300:
        return Sample(route, status, latency_ms, "ok")
    return Sample(route, status, latency_ms, "unexpected", f"{status}: {response.text[:200]}")


def _error_type(response: requests.Response) -> str | None:
    try:
        return str(response.json()["error"]["type"])
    except (ValueError, KeyError, TypeError):
        return None


def _client(number: int, plan: ClientPlan, deadline: float, samples: list[Sample]) -> None:
    rng = random.Random(plan.seed * 1000 + number)
    greedy = number < len(plan.greedy_keys)
    key = plan.greedy_keys[number] if greedy else plan.keys[number % len(plan.keys)]
    routes = [route for route in plan.routes if route.endswith("/{id}")] if greedy else list(plan.routes)
    session = requests.Session()  # keep-alive, as an SDK client would
    session.headers["Authorization"] = f"Bearer {key.api_key}"
    while (now := time.monotonic()) < deadline:
        route = rng.choice(routes)
        path, query, expect_404 = _request_for(route, key, plan, rng)
        started = time.perf_counter()
        try:
            response = session.get(f"{plan.base_url}{path}", params=query, timeout=_HTTP_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            samples.append(Sample(route, 0, (time.perf_counter() - started) * 1000, "unexpected", repr(exc)))
            continue
        sample = _judge(route, response, (time.perf_counter() - started) * 1000, expect_404)
        samples.append(sample)
        if sample.outcome == "throttled":
            # A well-behaved client: back off as told, never past the end of the run.
            time.sleep(min(int(response.headers["Retry-After"]), max(0.0, deadline - now)))


def drive_clients(plan: ClientPlan) -> tuple[list[Sample], float]:
    """``plan.clients`` threads calling the API until ``plan.duration_s`` has passed; every answer judged.
    Returns the samples and the seconds from the first request to the last answer."""
    started = time.monotonic()
    deadline = started + plan.duration_s
    per_client: list[list[Sample]] = [[] for _ in range(plan.clients)]
    threads = [
        threading.Thread(target=_client, args=(number, plan, deadline, per_client[number]), name=f"load-{number}")
        for number in range(plan.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [sample for samples in per_client for sample in samples], time.monotonic() - started


def drive_clients_in_child(plan: ClientPlan) -> tuple[list[Sample], float]:
    """The clients in their own process: in the runtime's, they would compete with it for one GIL."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(drive_clients, plan).result()


# ------------------------------------------------------------------ ingest during the run
@dataclass
class IngestTally:
    sent: dict[str, set[str]] = field(default_factory=dict)  # account id → request ids sent
    redelivered: int = 0


class IngestProducer:
    """Sends new gateway messages for every account at a steady rate, some of them twice."""

    def __init__(
        self, queue_url: str, accounts: dict[str, list[DemoKey]], per_second: float, redelivery_share: float, seed: int
    ) -> None:
        self._queue_url = queue_url
        self._accounts = accounts
        self._per_second = per_second
        self._redelivery_share = redelivery_share
        self._seed = seed
        self._rng = random.Random(seed)
        self._sqs = boto3.client("sqs")
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-ingest", daemon=True)
        self.tally = IngestTally({account: set() for account in accounts})
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> IngestTally:
        self._stopping.set()
        self._thread.join()
        if self.error is not None:
            raise RuntimeError("the ingest producer failed") from self.error
        return self.tally

    def _run(self) -> None:
        try:
            tick = 0
            while not self._stopping.wait(1.0):
                tick += 1
                self._send_tick(tick)
        except BaseException as exc:
            self.error = exc

    def _send_tick(self, tick: int) -> None:
        now_ms = int(time.time() * 1000)
        bodies: list[str] = []
        for position, (account, demo_keys) in enumerate(self._accounts.items()):
            count = round(self._per_second / len(self._accounts))
            # A seed per tick and account: request ids are unique (generate_messages derives them from it).
            seed = self._seed + tick * 100 + position
            for message in generate_messages(account, demo_keys, count, now_ms - 1000, now_ms, seed=seed):
                body = json.dumps(message)
                bodies.append(body)
                self.tally.sent[account].add(message["request_id"])
                if self._rng.random() < self._redelivery_share:
                    bodies.append(body)
                    self.tally.redelivered += 1
        self._rng.shuffle(bodies)
        send_messages(self._sqs, self._queue_url, bodies)


# ------------------------------------------------------------------ the runtime side
@dataclass(frozen=True)
class LoadAccount:
    account_id: str
    keys: list[LoadKey]  # for the mixed clients; the account's traffic is spread over them
    greedy_keys: list[LoadKey]
    demo_keys: list[DemoKey]
    verifier: LoadKey  # a key of its own (own throttle buckets) for the baseline and the checks


def create_load_account(name: str, key_count: int, greedy_count: int) -> LoadAccount:
    """A demo account whose every key has its own usage identifier: the throttles apply per key."""
    names = [f"load-{number}" for number in range(key_count + greedy_count + 1)]
    account = create_demo_account(name, names, usage_identifier_per_key=True)
    load_keys = [
        LoadKey(account.account_id, key.api_key_id, api_key)
        for key, api_key in zip(account.keys, account.api_keys, strict=True)
    ]
    return LoadAccount(
        account.account_id,
        keys=load_keys[:key_count],
        greedy_keys=load_keys[key_count:-1],
        demo_keys=account.keys[:key_count],
        verifier=load_keys[-1],
    )


def _get_json(session: requests.Session, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """GET that waits out 429s as told (the checks share the usage plan with everyone)."""
    while True:
        response = session.get(url, params=params, timeout=_HTTP_TIMEOUT_SECONDS)
        if response.status_code == 429:
            time.sleep(int(response.headers["Retry-After"]))
            continue
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


@dataclass
class AccountCheck:
    account_id: str
    expected: int  # distinct request ids sent (seed + during the run)
    listed: int  # logs the list returned over all pages
    duplicated: int  # request ids listed more than once
    lost: int  # request ids sent, never listed
    unexpected: int  # request ids listed, never sent
    pagination_total: int
    stats_total_requests: int

    @property
    def passed(self) -> bool:
        return (
            self.duplicated == self.lost == self.unexpected == 0
            and self.listed == self.pagination_total == self.stats_total_requests == self.expected
        )


def check_account(base_url: str, account: LoadAccount, sent: set[str]) -> AccountCheck:
    """Every log of the account through the API, page by page, against what was sent."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {account.verifier.api_key}"
    listed: Counter[str] = Counter()
    offset, total = 0, 0
    while True:
        page = _get_json(session, f"{base_url}{LIST}", {"limit": 100, "offset": offset})
        listed.update(log["request_id"] for log in page["logs"])
        total = int(page["pagination"]["total"])
        offset += len(page["logs"])
        if not page["pagination"]["hasMore"] or not page["logs"]:
            break
    stats = _get_json(session, f"{base_url}{STATS}", {})
    return AccountCheck(
        account_id=account.account_id,
        expected=len(sent),
        listed=sum(listed.values()),
        duplicated=sum(1 for count in listed.values() if count > 1),
        lost=len(sent - listed.keys()),
        unexpected=len(listed.keys() - sent),
        pagination_total=total,
        stats_total_requests=int(stats["stats"]["total_requests"]),
    )


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least ``q`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(1, math.ceil(len(ordered) * q)) - 1], 1)


def summarise(samples: Iterable[Sample], duration_s: float) -> dict[str, Any]:
    """Throughput, latency percentiles and statuses, per route and overall."""
    by_route: dict[str, list[Sample]] = {}
    for sample in samples:
        by_route.setdefault(sample.route, []).append(sample)
    routes: dict[str, Any] = {}
    for route, route_samples in sorted(by_route.items()):
        served = [s.latency_ms for s in route_samples if s.outcome in ("ok", "not_found_expected")]
        routes[route] = {
            "requests": len(route_samples),
            "requests_per_s": round(len(route_samples) / duration_s, 2),
            "served_per_s": round(len(served) / duration_s, 2),
            "statuses": {str(k): v for k, v in sorted(Counter(s.status for s in route_samples).items())},
            "p50_ms": _percentile(served, 0.50),
            "p99_ms": _percentile(served, 0.99),
            "throttled_p50_ms": _percentile([s.latency_ms for s in route_samples if s.outcome == "throttled"], 0.5),
        }
    every = [s for route_samples in by_route.values() for s in route_samples]
    served_all = [s.latency_ms for s in every if s.outcome in ("ok", "not_found_expected")]
    outcomes = Counter(s.outcome for s in every)
    return {
        "requests": len(every),
        "requests_per_s": round(len(every) / duration_s, 2),
        "served_per_s": round(len(served_all) / duration_s, 2),
        "p50_ms": _percentile(served_all, 0.50),
        "p99_ms": _percentile(served_all, 0.99),
        "outcomes": dict(sorted(outcomes.items())),
        "statuses": {str(k): v for k, v in sorted(Counter(s.status for s in every).items())},
        "unexpected_examples": sorted({f"{s.route}: {s.detail}" for s in every if s.outcome == "unexpected"})[:10],
        "routes": routes,
    }


def measure_baseline(plan: ClientPlan, key: LoadKey, per_route: int = 5) -> dict[str, float | None]:
    """p50 latency of each route for one client alone, to tell service time from queueing under load
    (``per_route`` stays within every route's burst, so none of these is throttled)."""
    rng = random.Random(plan.seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key.api_key}"
    medians: dict[str, float | None] = {}
    for route in plan.routes:
        latencies = []
        for _ in range(per_route):
            path, query, expect_404 = _request_for(route, key, plan, rng)
            started = time.perf_counter()
            response = session.get(f"{plan.base_url}{path}", params=query, timeout=_HTTP_TIMEOUT_SECONDS)
            latencies.append((time.perf_counter() - started) * 1000)
            if _judge(route, response, 0, expect_404).outcome == "unexpected":
                raise RuntimeError(f"baseline: {route} answered {response.status_code}: {response.text[:200]}")
        medians[route] = _percentile(latencies, 0.5)
    return medians


def load_routes(template: Template) -> tuple[str, ...]:
    """The routes the clients call: the reads of logs and stats. An export's status needs an export, started
    by POST one at a time per account: not traffic a client repeats (the export tests cover it)."""
    return tuple(route.path for route in template.routes() if route.method == "GET" and "/exports" not in route.path)


def _machine() -> str:
    return f"{os.cpu_count()} CPUs, {platform.machine()}, {platform.system()}, Python {platform.python_version()}"


@dataclass
class LoadRun:
    """One load run over a running backend: the clients, the producer and the checks."""

    backend: Backend
    config: LoadConfig
    on_progress: Callable[[str], None] = print

    def run(self) -> dict[str, Any]:
        config = self.config
        say = self.on_progress
        stamp = datetime.now(UTC).strftime("%H%M%S")
        greedy_per_account = [
            len(range(position, config.greedy_clients, len(config.keys_per_account)))
            for position in range(len(config.keys_per_account))
        ]
        load_accounts = [
            create_load_account(f"Load {stamp} {number}", count, greedy)
            for number, (count, greedy) in enumerate(
                zip(config.keys_per_account, greedy_per_account, strict=True), start=1
            )
        ]
        now_ms = int(time.time() * 1000)
        seeded: dict[str, list[dict[str, Any]]] = {
            account.account_id: generate_messages(
                account.account_id,
                account.demo_keys,
                config.seed_messages_per_account,
                now_ms - SEED_DAYS * DAY_MS,
                now_ms - 60_000,
                seed=config.seed + number,
            )
            for number, account in enumerate(load_accounts)
        }
        poller = self.backend.ingest_poller
        say(f"seeding {sum(map(len, seeded.values())):,} messages through SQS for {len(load_accounts)} accounts")
        enqueue(poller, [json.dumps(message) for messages in seeded.values() for message in messages])
        self.backend.drain()

        # The real clock: throttle buckets refill as they would on API Gateway.
        server = GatewayServer(LocalApiGateway(self.backend.stack.template, self.backend.functions))
        server.start()
        try:
            routes = load_routes(self.backend.stack.template)
            plan = ClientPlan(
                base_url=server.url,
                routes=routes,
                keys=tuple(key for account in load_accounts for key in account.keys),
                greedy_keys=tuple(key for account in load_accounts for key in account.greedy_keys),
                log_ids={
                    account_id: [
                        make_log_id(account_id, m["request_id"], parse_instant(m["created_at"])) for m in messages
                    ]
                    for account_id, messages in seeded.items()
                },
                clients=config.clients,
                duration_s=config.duration_s,
                seed=config.seed,
            )
            producer = IngestProducer(
                poller.source.queue_url,
                {account.account_id: account.demo_keys for account in load_accounts},
                config.ingest_per_second,
                config.redelivery_share,
                config.seed + 7,
            )
            say(
                f"{config.clients} clients × {config.duration_s:g} s on {len(plan.keys)} keys over "
                f"{len(load_accounts)} accounts, routes: {', '.join(routes)}; ingesting "
                f"{config.ingest_per_second:g} messages/s"
            )
            baseline = measure_baseline(plan, load_accounts[0].verifier)
            producer.start()
            try:
                samples, elapsed = drive_clients_in_child(plan)
            finally:
                tally = producer.stop()
            say(f"{len(samples):,} requests in {elapsed:.1f} s; draining ingest and the stream")
            self.backend.drain()
            checks = [
                check_account(
                    server.url,
                    account,
                    {m["request_id"] for m in seeded[account.account_id]} | tally.sent[account.account_id],
                )
                for account in load_accounts
            ]
        finally:
            server.stop()
        summary = summarise(samples, elapsed)
        ingested = sum(len(ids) for ids in tally.sent.values())
        passed = summary["outcomes"].get("unexpected", 0) == 0 and all(check.passed for check in checks)
        return {
            "generated_on": datetime.now(UTC).date().isoformat(),
            "machine": _machine(),
            "config": {
                **asdict(config),
                "keys": len(plan.keys),
                "not_found_share": _NOT_FOUND_SHARE,
                "accounts": len(load_accounts),
                "routes": list(routes),
            },
            "elapsed_s": round(elapsed, 1),
            "baseline": baseline,
            "summary": summary,
            "ingest": {
                "seeded": sum(map(len, seeded.values())),
                "sent_during_run": ingested,
                "redelivered": tally.redelivered,
                "accounts": [asdict(check) | {"passed": check.passed} for check in checks],
            },
            "passed": passed,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=LoadConfig.clients)
    parser.add_argument("--duration", type=float, default=LoadConfig.duration_s, help="seconds")
    parser.add_argument("--ingest-rate", type=float, default=LoadConfig.ingest_per_second, help="messages/s")
    parser.add_argument("--output", default=str(LOAD_RESULTS_PATH), help="results JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    # boto3's pool holds 10 connections per client; under 20 clients the runtime's threads (gateway,
    # shard queries, pollers) open more to moto and urllib3 warns each time it closes a spare one.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    config = LoadConfig(clients=args.clients, duration_s=args.duration, ingest_per_second=args.ingest_rate)
    progress = functools.partial(say, time.monotonic())
    progress("starting the local runtime (moto server, template provisioned, pollers)")
    # Never a real account: start_backend points every client of this process at the runtime's own moto
    # server (local.stack.moto_server.use_endpoint drops what would redirect one or sign as someone real).
    backend = start_backend()
    # The functions' INFO lines (a line per ingest and aggregator batch) would drown the progress;
    # set after start_backend, which sets the template's environment, and before any function loads.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    try:
        results = LoadRun(backend, config, progress).run()
    finally:
        backend.stop()
    with open(args.output, "w") as handle:
        json.dump(results, handle, indent=2, sort_keys=True)
        handle.write("\n")
    summary = results["summary"]
    progress(
        f"{summary['requests']:,} requests ({summary['requests_per_s']} /s, {summary['served_per_s']} /s served), "
        f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms; outcomes {summary['outcomes']}"
    )
    for check in results["ingest"]["accounts"]:
        progress(f"{check['account_id']}: {json.dumps({k: v for k, v in check.items() if k != 'account_id'})}")
    progress(f"wrote {args.output}; {'passed' if results['passed'] else 'FAILED'}")
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
