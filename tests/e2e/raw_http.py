"""Requests byte for byte as written (no client normalising dot segments, encoding or header values),
and the one JSON error shape every non-2xx answer of the API must have (docs/architecture.md, "Errors")."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from local.openapi import build_document
from local.stack.template import Template, load_template
from tests.e2e.conftest import LocalApi

Header = tuple[str, str | bytes]


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send_raw(api: LocalApi, data: bytes) -> RawResponse:
    """Send ``data`` as it is on a new connection; read the one response."""
    split = urlsplit(api.base_url)
    with socket.create_connection((split.hostname, split.port), timeout=30) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def request(api: LocalApi, target: str, headers: list[Header] | None = None, *, method: str = "GET") -> RawResponse:
    """``method target`` exactly as given, with these headers (str values as UTF-8, bytes as they are).

    The gateway's clock first moves on by one token of the slowest throttle, so no test meets a 429 it
    did not ask for."""
    api.clock.advance(seconds_per_token(api.template))
    lines = [f"{method} {target} HTTP/1.1".encode(), f"Host: {urlsplit(api.base_url).netloc}".encode()]
    for name, value in headers or []:
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    lines.append(b"Connection: close")
    return send_raw(api, b"\r\n".join(lines) + b"\r\n\r\n")


def bearer(api: LocalApi, key: str | None = None) -> list[Header]:
    return [("Authorization", f"Bearer {key or api.first.api_key}")]


def seconds_per_token(template: Template) -> float:
    """The refill time of one token of the slowest throttle of the usage plan."""
    methods, default = template.usage_plan_throttles()
    rates = [float(limits["RateLimit"]) for limits in [*methods.values(), *([default] if default else [])]]
    return max((1 / rate for rate in rates if rate > 0), default=0.0)


def assert_error(response: RawResponse, status: int | None = None, *, param: str | None = None) -> dict[str, str]:
    """The one JSON error shape; ``status`` and ``param`` when given. Never a 5xx."""
    assert response.status < 500, (response.status, response.body[:300])
    if status is not None:
        assert response.status == status, (response.status, response.body[:300])
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    # A 409 also names the export in the way (``export_id``): the one member beyond the four.
    members = {"type", "code", "message", "param"} | ({"export_id"} if response.status == 409 else set())
    assert {"type", "code", "message"} <= set(error) <= members, error
    assert all(isinstance(error[name], str) and error[name] for name in ("type", "code", "message")), error
    if param is not None:
        assert error.get("param") == param, error
    return dict(error)


def document() -> dict[str, Any]:
    """The OpenAPI document of the template's handlers (what the gateway serves at /openapi.json)."""
    return build_document(load_template())


def query_parameters(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, name, schema) of every query parameter of every GET operation of the document."""
    return [
        (path, parameter["name"], parameter["schema"])
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method == "get"
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]
