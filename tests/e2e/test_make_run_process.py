"""``make run`` as a process, as a user runs it: what the other commands find while it runs (``make admin``
and ``make invoke TARGET=local``, with no AWS variable, credential or config file of their own), and how it
stops (Ctrl-C to the terminal's process group, SIGTERM from a process manager).

The process is ``local.run.main()`` with fewer demo messages than ``make run`` sends, so that it is ready in
seconds; nothing else differs. Every command here gets an environment without any ``AWS_*`` variable of this
test process and with no AWS config or credentials file.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.demo.event_fixtures import EVENTS_DIR, load_event
from local.stack.template import LAYER_PATH, ROOT

pytestmark = pytest.mark.e2e

FIRST_ACCOUNT_MESSAGES = 60
SECOND_ACCOUNT_MESSAGES = 10
READY_TIMEOUT_SECONDS = 120
# The gateway, a long poll (1 s), the batch in hand and the moto server's exit: a prompt stop is well inside.
STOP_TIMEOUT_SECONDS = 15
LIST = "/api/account/request-logs"


def run_code(first: int, second: int, *, malformed: bool) -> str:
    return (
        "import sys, local.run as run; "
        f"run.FIRST_ACCOUNT_MESSAGES = {first}; run.SECOND_ACCOUNT_MESSAGES = {second}; "
        + ("" if malformed else "run.malformed_bodies = lambda message: []; ")
        + "sys.exit(run.main())"
    )


def bare_environment(home: Path, **variables: str) -> dict[str, str]:
    """This process's environment without anything AWS (the e2e runtime points it at its own moto server)
    and with no AWS config or credentials file: what a new user's shell has."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name not in ("RL_LOCAL_STACK_FILE", "PORT")
    }
    environment.update(
        PYTHONPATH=os.pathsep.join([str(ROOT), str(LAYER_PATH)]),
        PYTHONUNBUFFERED="1",
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",  # no instance-metadata credentials either
    )
    environment.update(variables)
    return environment


def python(*argv: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def refuses_connections(endpoint_url: str) -> bool:
    host, port = endpoint_url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return False
    except OSError:
        return True


class MakeRun:
    """``python -c 'local.run.main()'`` in a session of its own, as the shell runs ``make run``."""

    def __init__(
        self,
        home: Path,
        first: int = FIRST_ACCOUNT_MESSAGES,
        second: int = SECOND_ACCOUNT_MESSAGES,
        *,
        malformed: bool = True,
    ):
        self.state_file = home / "stack.json"
        self.environment = bare_environment(home, RL_LOCAL_STACK_FILE=str(self.state_file), PORT="0")
        self.process = subprocess.Popen(
            [sys.executable, "-c", run_code(first, second, malformed=malformed)],
            cwd=ROOT,
            env=self.environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as the terminal's foreground job is
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._arrived = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, lines: list[str]) -> None:
        for line in stream:
            with self._arrived:
                lines.append(line.rstrip("\n"))
                self._arrived.notify_all()

    def wait_for(self, pattern: str, timeout: float = READY_TIMEOUT_SECONDS) -> re.Match[str]:
        """The first stdout line matching ``pattern``, waiting for it."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for line in self.stdout:
                    if found := re.search(pattern, line):
                        return found
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"no line {pattern!r}:\n" + "\n".join(self.stdout + self.stderr)[-4000:])
                self._arrived.wait(0.2)

    def stop(self, signum: int, *, group: bool) -> tuple[int, float, list[str], list[str]]:
        """Signal it (the whole process group: Ctrl-C in a terminal); exit status, seconds to exit, and the
        stdout and stderr lines written after the signal."""
        with self._arrived:
            out_mark, err_mark = len(self.stdout), len(self.stderr)
        started = time.monotonic()
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            code = -1
        elapsed = time.monotonic() - started
        for reader in self._readers:
            reader.join(5)
        return code, elapsed, self.stdout[out_mark:], self.stderr[err_mark:]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def output(self) -> str:
        return "\n".join(self.stdout + self.stderr)


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    running = MakeRun(tmp_path_factory.mktemp("make-run"))
    try:
        running.wait_for(r"^Serving until Ctrl-C\.$")
        running.wait_for(r"demo data loaded: ")  # the API serves at once; the tests want every log in
        yield running
    finally:
        running.kill()


def assert_stopped_quietly(
    signal_name: str, code: int, elapsed: float, out: list[str], err: list[str], *, idle: bool
) -> None:
    """Exit status 0, promptly; one line says it stopped; no error, no traceback after the signal. While
    idle nothing else is written at all; while ingesting, the batches in hand still log as usual."""
    assert code == 0, (code, out, err)
    assert elapsed < STOP_TIMEOUT_SECONDS
    stopped = [line for line in out if re.fullmatch(rf"\[\s*[\d.]+s\] stopped on {signal_name}: .+", line)]
    assert len(stopped) == 1, (out, err)
    if idle:
        assert [line for line in out if line.strip()] == stopped
        assert err == []
    for line in out + err:
        assert "Traceback" not in line, (out, err)
        assert "polling" not in line, (out, err)
        assert " ERROR " not in line, (out, err)  # the runtime's own log lines (local.run.LOG_FORMAT)
        if line.startswith("{"):  # a function's line
            assert json.loads(line)["level"] != "ERROR", (out, err)


# ------------------------------------------------------------------ make admin
def test_make_admin_needs_nothing_but_the_running_stack(make_run: MakeRun, tmp_path: Path) -> None:
    environment = bare_environment(tmp_path, RL_LOCAL_STACK_FILE=str(make_run.state_file))
    account = python("-m", "admin", "create-account", "--name", "Acme", "--json", environment=environment)
    assert account.returncode == 0, account.stderr
    account_id = json.loads(account.stdout)["account_id"]
    key = python("-m", "admin", "create-key", "--account-id", account_id, "--json", environment=environment)
    assert key.returncode == 0, key.stderr

    # The key works at once against the running API, whose URL the state file gives too.
    api_url = json.loads(make_run.state_file.read_text())["api_url"]
    response = requests.get(
        f"{api_url}{LIST}", headers={"Authorization": f"Bearer {json.loads(key.stdout)['api_key']}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.json()["pagination"]["total"] == 0


def test_make_admin_with_the_printed_endpoint_needs_no_credentials(make_run: MakeRun, tmp_path: Path) -> None:
    endpoint = make_run.wait_for(r"moto server at (http://\S+) ").group(1)
    demo_account = make_run.wait_for(r"demo accounts (acct_\w+) \(2 keys\)").group(1)
    environment = bare_environment(
        tmp_path, AWS_ENDPOINT_URL=endpoint, RL_LOCAL_STACK_FILE=str(tmp_path / "no-state.json")
    )
    listed = python("-m", "admin", "list-keys", "--account-id", demo_account, "--json", environment=environment)
    assert listed.returncode == 0, listed.stderr
    assert sorted(key["name"] for key in json.loads(listed.stdout)["keys"]) == ["batch-jobs", "default"]


# ------------------------------------------------------------------ make invoke
def test_make_invoke_target_local_runs_on_the_running_stack(make_run: MakeRun, tmp_path: Path) -> None:
    demo_account = make_run.wait_for(r"demo accounts (acct_\w+) \(2 keys\)").group(1)
    exported = make_run.wait_for(r"^export RL_BASE_URL=(\S+) RL_API_KEY=(\S+) ")
    query = {"limit": "10", "start_date": "2000-01-01"}  # every retained log, whatever the default range
    served = requests.get(
        f"{exported.group(1)}{LIST}", query, headers={"Authorization": f"Bearer {exported.group(2)}"}, timeout=30
    ).json()["pagination"]["total"]
    event = load_event(EVENTS_DIR / "api" / "list_ok.json")
    event["requestContext"]["authorizer"].update(principalId=demo_account, account_id=demo_account)
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {name: [value] for name, value in query.items()}
    event_file = tmp_path / "list_demo_account.json"
    event_file.write_text(json.dumps(event))
    environment = bare_environment(tmp_path, RL_LOCAL_STACK_FILE=str(make_run.state_file))

    run = python(
        "-m", "local.invoke", "ListRequestLogsFunction", "--event", str(event_file), "--target", "local",
        environment=environment,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr
    assert "against the running make run" in run.stderr.splitlines()[0]
    response = json.loads(run.stdout)
    assert response["statusCode"] == 200
    # The demo account's logs, as the running API serves them: not the fixtures' five.
    assert json.loads(response["body"])["pagination"]["total"] == served > 5


def test_make_invoke_says_it_runs_on_fixtures_even_while_the_stack_runs(make_run: MakeRun, tmp_path: Path) -> None:
    environment = bare_environment(tmp_path, RL_LOCAL_STACK_FILE=str(make_run.state_file))
    run = python(
        "-m", "local.invoke", "GetRequestLogFunction", "--event", "events/api/get_ok.json", environment=environment
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    banner = run.stderr.splitlines()[0]
    assert "against in-process fixture data" in banner
    assert "not the running make run" in banner
    assert json.loads(run.stdout)["statusCode"] == 200


# ------------------------------------------------------------------ stopping (last: it ends the module's run)
def test_ctrl_c_stops_the_pollers_then_moto_quietly(make_run: MakeRun) -> None:
    endpoint = json.loads(make_run.state_file.read_text())["endpoint_url"]
    assert not refuses_connections(endpoint)

    assert_stopped_quietly("SIGINT", *make_run.stop(signal.SIGINT, group=True), idle=True)
    assert "polling failed" not in make_run.output
    assert refuses_connections(endpoint)  # the moto server stopped with it
    assert not make_run.state_file.exists()


def test_sigterm_while_ingesting_stops_quietly(tmp_path: Path) -> None:
    """The pollers are busy here (thousands of messages queued): the batch in hand finishes, then moto stops.
    No malformed message here, so that any error line would be the stop's."""
    running = MakeRun(tmp_path, first=2_000, second=10, malformed=False)
    try:
        running.wait_for(r"demo data: sending [\d,]+ gateway messages")
        endpoint = json.loads(running.state_file.read_text())["endpoint_url"]
        time.sleep(1)  # a few batches through ingest and the aggregator
        assert_stopped_quietly("SIGTERM", *running.stop(signal.SIGTERM, group=False), idle=False)
    finally:
        running.kill()
    assert "polling failed" not in running.output
    assert refuses_connections(endpoint)
    assert not running.state_file.exists()


def test_make_admin_without_a_running_stack_is_one_line(tmp_path: Path) -> None:
    environment = bare_environment(tmp_path, RL_LOCAL_STACK_FILE=str(tmp_path / "stack.json"))
    run = python("-m", "admin", "create-account", "--name", "Acme", environment=environment)
    assert run.returncode == 1
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: no local stack is running")
    assert "make run" in line
    assert "--stack" in line
