"""moto in server mode on loopback: the AWS every boto3 client of the local runtime talks to.

Server mode rather than moto's in-process mock: requests cross real HTTP with botocore's serialisation
and signing, as they do on AWS, and other processes reach the same tables and queues through
``AWS_ENDPOINT_URL`` (the admin CLI, ``python -m local.invoke``, a second terminal with the AWS CLI).

The server runs in a child process (``python -m local.stack.moto_main``: moto's server, with queries that
read one partition, ``partitioned_queries``) rather than as a ``ThreadedMotoServer``
thread: moto spends ~2 ms of Python per request, and in its own process that work runs on the second
core instead of taking turns with the functions for one interpreter lock. Measured on ``make run``'s
demo load (5,250 messages through SQS → ingest → stream → aggregator): ready after 68 s with the
server in process, 53 s with it in a child process.

The child runs in its own session, so a Ctrl-C in the terminal does not reach it: the parent stops its
pollers first and the server last (``stop()``), and nothing polls a server that is already gone. It
watches its parent and exits when the parent does, however the parent ends (SIGKILL included).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import MutableMapping
from types import TracebackType

import requests

from local.stack.template import REGION, ROOT

LOOPBACK = "127.0.0.1"
# moto_main exits when its parent, this process, is gone.
PARENT_PID_VARIABLE = "LOCAL_MOTO_PARENT_PID"
_START_TIMEOUT_SECONDS = 30
_START_ATTEMPTS = 3

# moto accepts any credentials; boto3 refuses to sign without some. Never real ones.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}

# Variables that would send a client elsewhere or sign as a real identity. Service-specific endpoints
# (AWS_ENDPOINT_URL_DYNAMODB, ...) take precedence over AWS_ENDPOINT_URL, so they go too.
_REDIRECTING_PREFIXES = ("AWS_ENDPOINT_URL_",)
_REDIRECTING_NAMES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class MotoServer:
    """moto's server in a child process on a free loopback port; it starts empty and dies with us."""

    def __init__(self, host: str = LOOPBACK, port: int = 0) -> None:
        self._host = host
        self._port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._endpoint_url: str | None = None

    def start(self) -> str:
        for _ in range(_START_ATTEMPTS):
            # A port picked free can be taken before the child binds it: then the child exits; try another.
            port = self._port or _free_port(self._host)
            self._process = process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
                [sys.executable, "-m", "local.stack.moto_main", "-H", self._host, "-p", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=ROOT,  # where ``local`` is importable from
                env={**os.environ, PARENT_PID_VARIABLE: str(os.getpid())},
                # Out of the terminal's process group: Ctrl-C reaches only us, and we stop the server after
                # the pollers that use it (module docstring). moto_main exits when we do, however we end.
                start_new_session=True,
            )
            endpoint_url = f"http://{self._host}:{port}"
            if self._wait_until_serving(process, endpoint_url):
                self._endpoint_url = endpoint_url
                return endpoint_url
            self.stop()
        raise RuntimeError(f"moto server did not start on {self._host}")

    @staticmethod
    def _wait_until_serving(process: subprocess.Popen[bytes], endpoint_url: str) -> bool:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                requests.get(f"{endpoint_url}/moto-api/data.json", timeout=1).raise_for_status()
                return True
            except requests.RequestException:
                time.sleep(0.05)
        return False

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("the moto server is not started")
        return self._endpoint_url

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
            self._endpoint_url = None

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def use_endpoint(endpoint_url: str, environ: MutableMapping[str, str] = os.environ) -> None:
    """Point every boto3 client created from now on at ``endpoint_url``, with fake credentials.

    Clients read the environment when they are created, so this must run before the first one.
    """
    for name in [name for name in environ if name.startswith(_REDIRECTING_PREFIXES) or name in _REDIRECTING_NAMES]:
        del environ[name]
    environ.update(FAKE_CREDENTIALS)
    environ["AWS_ENDPOINT_URL"] = endpoint_url
    environ["AWS_DEFAULT_REGION"] = REGION
