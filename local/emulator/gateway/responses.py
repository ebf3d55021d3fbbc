"""What the gateway sends back: HTTP request and response types, API Gateway REST's request quotas, the
template's gateway responses rendered as API Gateway renders them, and a Lambda proxy integration's
answer as HTTP.

Gateway responses are rendered from the template's ``GatewayResponses`` (status, static headers, the
``application/json`` template); checked at start-up to render JSON, so every response is JSON.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from local.stack.moto_server import LOOPBACK

# API Gateway's own status and $context.error.message for the response types this gateway produces;
# the template's GatewayResponses customise them (a type it leaves out falls back to DEFAULT_4XX/5XX).
_RESPONSE_DEFAULTS: dict[str, tuple[int, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource with an explicit deny"),
    "INVALID_API_KEY": (403, "Forbidden"),
    "THROTTLED": (429, "Too Many Requests"),
    "AUTHORIZER_FAILURE": (500, "Internal server error"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Internal server error"),
    # A Lambda proxy integration whose function raises or answers malformed.
    "DEFAULT_5XX": (502, "Internal server error"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    # A request the HTTP layer cannot parse (a malformed request line or Content-Length).
    "DEFAULT_4XX": (400, "Bad Request"),
}
# API Gateway REST quotas: the request line and header values together at most 10,240 bytes, a payload
# at most 10 MB; a larger request never reaches the authorizer.
MAX_REQUEST_LINE_AND_HEADERS = 10_240
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
_CONTEXT_VARIABLE = re.compile(r"\$context\.[A-Za-z]+(?:\.[A-Za-z]+)*")
# Headers the server computes itself; a function's values for them would corrupt the framing.
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # the request line's path and query, still percent-encoded
    headers: list[tuple[str, str]]
    body: bytes | None = None
    source_ip: str = LOOPBACK


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Denied(Exception):
    """The request ends in a gateway response of this type (with these computed headers)."""

    def __init__(self, response_type: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(response_type)
        self.response_type = response_type
        self.headers = headers


class GatewayResponses:
    """The template's gateway responses, rendered the way API Gateway renders them."""

    def __init__(self, configured: dict[str, dict[str, Any]]) -> None:
        self._configured = configured
        for response_type in configured:
            # A message with quotes proves that the template quotes $context variables correctly.
            body = self._render(response_type, 'a "quoted" message', {}).body
            try:
                json.loads(body)
            except ValueError as exc:
                raise ValueError(f"gateway response {response_type} does not render JSON: {body!r}") from exc

    def render(self, response_type: str, headers: dict[str, str] | None = None) -> HttpResponse:
        """The response of this type; ``headers`` are computed ones (they win over the template's)."""
        return self._render(response_type, _RESPONSE_DEFAULTS[response_type][1], headers or {})

    def _render(self, response_type: str, message: str, headers: dict[str, str]) -> HttpResponse:
        default_status, _ = _RESPONSE_DEFAULTS.get(response_type, (500, ""))
        fallback = "DEFAULT_4XX" if default_status < 500 else "DEFAULT_5XX"
        config = self._configured.get(response_type) or self._configured.get(fallback) or {}
        request_id = str(uuid.uuid4())
        variables = {
            "$context.error.message": message,
            "$context.error.messageString": json.dumps(message),
            "$context.error.responseType": response_type,
            "$context.error.validationErrorString": "",
            "$context.requestId": request_id,
        }
        template = config.get("ResponseTemplates", {}).get("application/json")
        if template is None:
            body = json.dumps({"message": message})  # API Gateway's own body
        else:
            # API Gateway renders an unknown variable as nothing.
            body = _CONTEXT_VARIABLE.sub(lambda match: variables.get(match.group(0), ""), template)
        rendered = {"Content-Type": "application/json"}
        for name, value in config.get("ResponseParameters", {}).get("Headers", {}).items():
            rendered[name] = _static_value(response_type, name, value)
        rendered.update(headers)
        rendered["x-amzn-RequestId"] = request_id
        return HttpResponse(int(config.get("StatusCode", default_status)), list(rendered.items()), body.encode())


def _static_value(response_type: str, name: str, value: str) -> str:
    """A header value of a gateway response: only static values (``"'literal'"``) are rendered locally."""
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    raise ValueError(f"gateway response {response_type}: header {name} is not a static value ({value})")


def proxy_response(result: Any) -> HttpResponse | None:
    """A Lambda proxy integration's answer as HTTP; None when API Gateway would reject it."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return None
    body = result.get("body") or ""
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(body, str) or not isinstance(single, dict) or not isinstance(multi, dict):
        return None
    # API Gateway merges the two maps; for a name in both, the multi-value list wins.
    headers = [(str(name), str(value)) for name, value in single.items() if name not in multi]
    headers += [
        (str(name), str(value))
        for name, values in multi.items()
        for value in (values if isinstance(values, list) else [values])
    ]
    headers = [(name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP]
    try:
        payload = base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else body.encode()
    except ValueError:
        return None
    return HttpResponse(result["statusCode"], headers, payload)
