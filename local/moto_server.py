"""moto in server mode on loopback: the AWS every boto3 client of the local runtime talks to.

Server mode rather than moto's in-process mock: requests cross real HTTP with botocore's serialisation
and signing, as they do on AWS, and other processes reach the same tables and queues through
``AWS_ENDPOINT_URL`` (the admin CLI, ``python -m local.invoke``, a second terminal with the AWS CLI).

moto keeps its state in process-wide backends: one server per process, and a new one starts empty.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping
from types import TracebackType

import requests
from moto.server import ThreadedMotoServer

from local.template import REGION

LOOPBACK = "127.0.0.1"

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


class MotoServer:
    """A ``ThreadedMotoServer`` on a free loopback port (port 0: the OS picks one, no race)."""

    def __init__(self, host: str = LOOPBACK, port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._endpoint_url: str | None = None

    def start(self) -> str:
        # werkzeug logs one line per request at INFO: thousands while the demo data loads.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._endpoint_url = f"http://{host}:{port}"
        # moto's state is process-wide: start clean even if an earlier server or mock left resources.
        requests.post(f"{self._endpoint_url}/moto-api/reset", timeout=30).raise_for_status()
        return self._endpoint_url

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("the moto server is not started")
        return self._endpoint_url

    def stop(self) -> None:
        if self._endpoint_url is not None:
            self._server.stop()
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
