"""An HTTP server on loopback that behaves like the template's API Gateway REST API.

Per request, in API Gateway's order:

0. a request line and header values over 10,240 bytes, or a payload over 10 MB → ``REQUEST_TOO_LARGE``
   (API Gateway REST's quotas); what the HTTP layer cannot parse → ``DEFAULT_4XX``;
1. match a route of the template (static segments win over ``{param}``); no route for the path and
   method → the ``MISSING_AUTHENTICATION_TOKEN`` gateway response, as API Gateway answers both an
   unknown path and an unknown method on a known path;
2. identity source: a missing identity header → ``UNAUTHORIZED`` without calling the authorizer;
3. the REQUEST authorizer, its policy cached per identity-source value for ``ReauthorizeEvery`` seconds
   and evaluated against each request's method ARN; the exception ``Unauthorized`` → ``UNAUTHORIZED``,
   a policy that does not allow the method → ``ACCESS_DENIED``;
4. with ``ApiKeyRequired`` and ``ApiKeySourceType: AUTHORIZER``, the policy's ``usageIdentifierKey`` is
   the API key: none → ``INVALID_API_KEY``; otherwise the usage plan's throttle for the method (or the
   plan-wide one) applies per key, a token bucket; empty → ``THROTTLED`` with ``Retry-After``;
5. a REST (v1) proxy event with the authorizer's principal and context → the route's function → its
   ``statusCode``, headers and body. A function that raises or answers malformed → ``DEFAULT_5XX`` (502).

Gateway responses are rendered from the template's ``GatewayResponses`` (status, static headers, the
``application/json`` template); checked at start-up to render JSON, so every response is JSON.

Beyond API Gateway, for people: ``GET /openapi.json`` (the document generated from the handlers,
``local.openapi``) and Swagger UI at ``/docs``, without auth, on paths no template route serves.

Not modelled: usage-plan quotas, per-route ``Auth`` overrides, request validators, the stage path
prefix (the API is served at ``/``, like a custom domain's base path mapping).
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.events import authorizer_request_event, method_arn, rest_proxy_event
from local.functions import FunctionRegistry
from local.moto_server import LOOPBACK
from local.openapi import DocumentationSite
from local.routing import match_route
from local.template import Route, Template

logger = logging.getLogger(__name__)

Clock = Callable[[], float]

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
_MAX_RETRY_AFTER_S = 3600


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


class TokenBucket:
    """API Gateway's throttle: ``burst`` tokens, refilled at ``rate`` per second; thread-safe."""

    def __init__(self, rate: float, burst: float, clock: Clock) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """0 if a token was taken, else the seconds until one is available."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self._rate if self._rate > 0 else math.inf


class UsagePlanThrottle:
    """Per-key, per-method token buckets from the usage plan: method throttles, else the plan's own."""

    def __init__(
        self, methods: dict[str, dict[str, float]], default: dict[str, float] | None, clock: Clock = time.monotonic
    ) -> None:
        self._methods = methods
        self._default = default
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, usage_key: str, method_key: str) -> float:
        """0 if the request may pass, else the seconds until it could (``method_key``: ``/path/GET``)."""
        limits = self._methods.get(method_key, self._default)
        if limits is None:
            return 0.0
        with self._lock:
            bucket = self._buckets.get((usage_key, method_key))
            if bucket is None:
                bucket = TokenBucket(float(limits["RateLimit"]), float(limits["BurstLimit"]), self._clock)
                self._buckets[(usage_key, method_key)] = bucket
        return bucket.take()


@dataclass(frozen=True)
class _Policy:
    principal_id: str
    statements: list[dict[str, Any]]
    context: dict[str, str]
    usage_identifier_key: str | None


class _Denied(Exception):
    """The request ends in a gateway response of this type (with these computed headers)."""

    def __init__(self, response_type: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(response_type)
        self.response_type = response_type
        self.headers = headers


def _wildcard(pattern: str) -> re.Pattern[str]:
    """IAM-style matching: ``*`` any run of characters, ``?`` any one character, all else literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _parse_policy(result: Any) -> _Policy:
    """The authorizer's answer; anything API Gateway would reject is AUTHORIZER_CONFIGURATION_ERROR."""
    try:
        principal_id = result["principalId"]
        statements = _as_list(result["policyDocument"]["Statement"])
        context = result.get("context") or {}
        if not isinstance(principal_id, str) or not all(isinstance(s, dict) for s in statements):
            raise TypeError("principalId or Statement")
        # Context values must be flat strings, numbers or booleans; the integration sees them as strings.
        if not all(isinstance(value, str | int | float | bool) for value in context.values()):
            raise TypeError("context values must be strings, numbers or booleans")
        flat = {str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in context.items()}
        usage_key = result.get("usageIdentifierKey")
        return _Policy(principal_id, statements, flat, str(usage_key) if usage_key else None)
    except (KeyError, TypeError, AttributeError) as exc:
        raise _Denied("AUTHORIZER_CONFIGURATION_ERROR") from exc


def _allows(policy: _Policy, arn: str) -> bool:
    """IAM evaluation for ``execute-api:Invoke`` on ``arn``: an explicit Deny wins, else an Allow is needed."""
    allowed = False
    for statement in policy.statements:
        actions = _as_list(statement.get("Action", []))
        resources = _as_list(statement.get("Resource", []))
        if not any(_wildcard(str(action).lower()).fullmatch("execute-api:invoke") for action in actions):
            continue
        if not any(_wildcard(str(resource)).fullmatch(arn) for resource in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The last value of a header, case-insensitively (HTTP header names are)."""
    values = [value for key, value in headers if key.lower() == name.lower()]
    return values[-1] if values else None


@dataclass
class _CachedPolicy:
    policy: _Policy
    expires: float


@dataclass
class _AuthorizerCache:
    ttl_seconds: float
    clock: Clock
    _entries: dict[tuple[str, ...], _CachedPolicy] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, identity: tuple[str, ...]) -> _Policy | None:
        with self._lock:
            entry = self._entries.get(identity)
            if entry is None or entry.expires <= self.clock():
                self._entries.pop(identity, None)
                return None
            return entry.policy

    def put(self, identity: tuple[str, ...], policy: _Policy) -> None:
        if self.ttl_seconds > 0:
            with self._lock:
                self._entries[identity] = _CachedPolicy(policy, self.clock() + self.ttl_seconds)


class LocalApiGateway:
    """API Gateway REST for the template's routes, as a function of one HTTP request (no sockets)."""

    def __init__(
        self,
        template: Template,
        functions: FunctionRegistry,
        *,
        clock: Clock = time.monotonic,
        documentation: bool = True,
    ) -> None:
        """``clock`` drives the authorizer cache and the throttles; tests pass one they can move forward.
        ``documentation`` serves ``/openapi.json`` and ``/docs`` (see the module docstring)."""
        self._functions = functions
        self._documentation = DocumentationSite(template) if documentation else None
        self._routes: list[Route] = template.routes()
        self._stage = template.stage_name()
        self._authorizer = template.authorizer()
        self._responses = GatewayResponses(template.gateway_responses())
        api = template.api()
        self._api_key_required = bool(api.get("Auth", {}).get("ApiKeyRequired", False))
        if self._api_key_required and api.get("ApiKeySourceType", "HEADER") != "AUTHORIZER":
            raise NotImplementedError("the local gateway reads API keys from the authorizer only")
        methods, default = template.usage_plan_throttles()
        self._throttle = UsagePlanThrottle(methods, default, clock)
        self._cache = _AuthorizerCache(self._authorizer.ttl_seconds, clock)

    def handle(self, request: HttpRequest) -> HttpResponse:
        try:
            return self._handle(request)
        except Exception:
            logger.exception("the local gateway failed on %s %s", request.method, urlsplit(request.target).path)
            return self._responses.render("DEFAULT_5XX")

    def refuse(self, response_type: str) -> HttpResponse:
        """The gateway response for a request refused before routing (too large, unparseable)."""
        return self._responses.render(response_type)

    def _handle(self, request: HttpRequest) -> HttpResponse:
        request_line = len(request.method) + len(request.target) + len(" HTTP/1.1") + 1
        if request_line + sum(len(value) for _, value in request.headers) > MAX_REQUEST_LINE_AND_HEADERS:
            return self._responses.render("REQUEST_TOO_LARGE")
        split = urlsplit(request.target)
        matched = match_route(self._routes, request.method, split.path)
        if matched is None:
            page = self._documentation_page(request.method, split.path)
            return page or self._responses.render("MISSING_AUTHENTICATION_TOKEN")
        route, path_parameters = matched
        path = unquote(split.path)
        authorized = time.perf_counter()
        try:
            policy = self._authorize(request, route, path, path_parameters, split.query)
            self._check_usage_plan(policy, route)
        except _Denied as denied:
            return self._responses.render(denied.response_type, denied.headers)
        authorizer_ms = round((time.perf_counter() - authorized) * 1000)
        event = rest_proxy_event(
            method=request.method,
            resource=route.path,
            path=path,
            stage=self._stage,
            query=parse_qsl(split.query, keep_blank_values=True),
            headers=request.headers,
            path_parameters=path_parameters or None,
            authorizer={"principalId": policy.principal_id, **policy.context, "integrationLatency": authorizer_ms},
            source_ip=request.source_ip,
            body=request.body.decode("utf-8", errors="replace") if request.body else None,
        )
        try:
            result = self._functions.invoke(route.function, event)
        except Exception:
            logger.exception("%s raised: 502, as API Gateway answers", route.function)
            return self._responses.render("DEFAULT_5XX")
        response = _proxy_response(result)
        if response is None:
            logger.error("%s answered a malformed proxy response: %.300r", route.function, result)
            return self._responses.render("DEFAULT_5XX")
        return response

    def _documentation_page(self, method: str, path: str) -> HttpResponse | None:
        if self._documentation is None or method not in ("GET", "HEAD"):
            return None
        page = self._documentation.page(path)
        if page is None:
            return None
        content_type, body = page
        return HttpResponse(200, [("Content-Type", content_type), ("Cache-Control", "no-cache")], body)

    def _authorize(
        self, request: HttpRequest, route: Route, path: str, path_parameters: dict[str, str], query: str
    ) -> _Policy:
        identity = tuple(_header(request.headers, name) or "" for name in self._authorizer.identity_headers)
        if not all(identity):
            raise _Denied("UNAUTHORIZED")
        policy = self._cache.get(identity)
        if policy is None:
            event = authorizer_request_event(
                stage=self._stage,
                method=request.method,
                resource=route.path,
                path=path,
                headers=dict(request.headers),
                query=dict(parse_qsl(query, keep_blank_values=True)),
                path_parameters=path_parameters,
            )
            try:
                result = self._functions.invoke(self._authorizer.function, event)
            except Exception as exc:
                if str(exc) == "Unauthorized":
                    raise _Denied("UNAUTHORIZED") from exc
                logger.exception("the authorizer %s raised", self._authorizer.function)
                raise _Denied("AUTHORIZER_FAILURE") from exc
            policy = _parse_policy(result)
            self._cache.put(identity, policy)
        if not _allows(policy, method_arn(self._stage, request.method, path)):
            raise _Denied("ACCESS_DENIED")
        return policy

    def _check_usage_plan(self, policy: _Policy, route: Route) -> None:
        if not self._api_key_required:
            return
        if policy.usage_identifier_key is None:
            logger.warning(
                "the authorizer returned no usageIdentifierKey for %s and the API requires an API key: "
                "INVALID_API_KEY, as API Gateway answers (link the account or key to a usage identifier)",
                policy.principal_id,
            )
            raise _Denied("INVALID_API_KEY")
        wait = self._throttle.take(policy.usage_identifier_key, f"{route.path}/{route.method}")
        if wait > 0:
            # A route throttled to rate 0 never refills (wait is infinite): say an hour, not crash on ceil(inf).
            raise _Denied("THROTTLED", {"Retry-After": str(max(1, math.ceil(min(wait, _MAX_RETRY_AFTER_S))))})


def _proxy_response(result: Any) -> HttpResponse | None:
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
    headers += [(str(name), str(value)) for name, values in multi.items() for value in _as_list(values)]
    headers = [(name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP]
    try:
        payload = base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else body.encode()
    except ValueError:
        return None
    return HttpResponse(result["statusCode"], headers, payload)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients expect from API Gateway
    server: _GatewayHttpServer

    def _serve(self) -> None:
        started = time.perf_counter()
        declared = self.headers.get("Content-Length") or "0"
        if not declared.isascii() or not declared.isdigit():  # "-1" would read until the client hangs up
            self._refuse("DEFAULT_4XX")
            return
        length = int(declared)
        if length > MAX_PAYLOAD_BYTES:  # refused unread, as API Gateway does
            self._refuse("REQUEST_TOO_LARGE")
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self.rfile.read(length) if length else None,
            source_ip=self.client_address[0],
        )
        response = self.server.gateway.handle(request)
        self._write(response)
        # The access log: never headers (they carry the key).
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("%s %s → %d (%.0f ms)", self.command, self.path, response.status, elapsed_ms)

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":  # "GET /path" without a version: API Gateway speaks 1.1 and 2
            self.send_error(HTTPStatus.BAD_REQUEST)
            return False
        return True

    def _refuse(self, response_type: str) -> None:
        self.close_connection = True  # what is left of the request cannot be framed
        if self.request_version == "HTTP/0.9":  # http.server's default before it parsed a version
            self.request_version = self.protocol_version  # else it would send the body without a status line
        response = self.server.gateway.refuse(response_type)
        self._write(response)
        # Set only once http.server has parsed the request line.
        target = getattr(self, "path", "")
        logger.warning("%s %.200s refused before routing → %d", self.command or "-", target, response.status)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What http.server cannot parse (a request line or header line over its 64 KiB limit, a
        malformed request line) is answered in the JSON error shape too, never its HTML page."""
        too_large = code in (HTTPStatus.REQUEST_URI_TOO_LONG, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        logger.warning("the HTTP layer refused a request: %d %s", code, message or "")
        self._refuse("REQUEST_TOO_LARGE" if too_large else "DEFAULT_4XX")

    def __getattr__(self, name: str) -> Any:
        # The base class answers a method without a do_<METHOD> with its own 501 HTML page; API Gateway
        # answers any method (TRACE, CONNECT, a made-up token) that no route serves like an unknown path.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are logged by ``_serve``, with their path and latency but never their headers."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Errors of the HTTP layer itself (a malformed request line, say)."""
        logger.warning(format, *args)


class _GatewayHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: LocalApiGateway) -> None:
        self.gateway = gateway
        super().__init__(address, _RequestHandler)


class GatewayServer:
    """``LocalApiGateway`` behind a threading HTTP server on loopback (port 0: a free one).

    The port is bound on construction (a port in use fails at once); requests are served from ``start()``.
    """

    def __init__(self, gateway: LocalApiGateway, host: str = LOOPBACK, port: int = 0) -> None:
        self._server = _GatewayHttpServer((host, port), gateway)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-gateway", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
