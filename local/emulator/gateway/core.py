"""API Gateway REST for the template's routes, as a function of one HTTP request (no sockets).

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

Gateway responses: ``responses``; throttles: ``throttle``; the authorizer's policy: ``policy`` and
``authorizer_cache``; the same gateway behind an HTTP server on loopback: ``http_server``.

Beyond API Gateway, for people: ``GET /openapi.json`` (the document generated from the handlers,
``local.openapi``) and Swagger UI at ``/docs``, without auth, on paths no template route serves; and
the dashboard's pages and files (``local.stack.dashboard``), as the template's CloudFront distribution
serves them beside the API on one origin.

Not modelled: usage-plan quotas, per-route ``Auth`` overrides, request validators, the stage path
prefix (the API is served at ``/``, like a custom domain's base path mapping).
"""

from __future__ import annotations

import logging
import math
import time
from urllib.parse import parse_qsl, unquote, urlsplit

from local.emulator.events import authorizer_request_event, method_arn, rest_proxy_event
from local.emulator.gateway.authorizer_cache import AuthorizerCache
from local.emulator.gateway.policy import Policy, allows, parse_policy
from local.emulator.gateway.responses import (
    MAX_REQUEST_LINE_AND_HEADERS,
    Denied,
    GatewayResponses,
    HttpRequest,
    HttpResponse,
    proxy_response,
)
from local.emulator.gateway.routing import match_route
from local.emulator.gateway.throttle import Clock, UsagePlanThrottle
from local.emulator.lambda_runtime import FunctionRegistry
from local.openapi import DocumentationSite
from local.stack.dashboard import DashboardSite
from local.stack.template import Route, Template

logger = logging.getLogger(__name__)

_MAX_RETRY_AFTER_S = 3600


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The last value of a header, case-insensitively (HTTP header names are)."""
    values = [value for key, value in headers if key.lower() == name.lower()]
    return values[-1] if values else None


class LocalApiGateway:
    """API Gateway REST for the template's routes, as a function of one HTTP request (no sockets)."""

    def __init__(
        self,
        template: Template,
        functions: FunctionRegistry,
        *,
        clock: Clock = time.monotonic,
        documentation: bool = True,
        dashboard: bool = True,
    ) -> None:
        """``clock`` drives the authorizer cache and the throttles; tests pass one they can move forward.
        ``documentation`` serves ``/openapi.json`` and ``/docs``, ``dashboard`` the dashboard (see the
        module docstring)."""
        self._functions = functions
        self._documentation = DocumentationSite(template) if documentation else None
        self._dashboard = DashboardSite() if dashboard else None
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
        self._cache = AuthorizerCache(self._authorizer.ttl_seconds, clock)

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
        except Denied as denied:
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
        response = proxy_response(result)
        if response is None:
            logger.error("%s answered a malformed proxy response: %.300r", route.function, result)
            return self._responses.render("DEFAULT_5XX")
        return response

    def _documentation_page(self, method: str, path: str) -> HttpResponse | None:
        """A page for people on a path no route serves: the documentation's, else the dashboard's."""
        if method not in ("GET", "HEAD"):
            return None
        page = self._documentation.page(path) if self._documentation is not None else None
        if page is None and self._dashboard is not None:
            page = self._dashboard.get(path)
        if page is None:
            return None
        content_type, body = page
        return HttpResponse(200, [("Content-Type", content_type), ("Cache-Control", "no-cache")], body)

    def _authorize(
        self, request: HttpRequest, route: Route, path: str, path_parameters: dict[str, str], query: str
    ) -> Policy:
        identity = tuple(_header(request.headers, name) or "" for name in self._authorizer.identity_headers)
        if not all(identity):
            raise Denied("UNAUTHORIZED")
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
                    raise Denied("UNAUTHORIZED") from exc
                logger.exception("the authorizer %s raised", self._authorizer.function)
                raise Denied("AUTHORIZER_FAILURE") from exc
            policy = parse_policy(result)
            self._cache.put(identity, policy)
        if not allows(policy, method_arn(self._stage, request.method, path)):
            raise Denied("ACCESS_DENIED")
        return policy

    def _check_usage_plan(self, policy: Policy, route: Route) -> None:
        if not self._api_key_required:
            return
        if policy.usage_identifier_key is None:
            logger.warning(
                "the authorizer returned no usageIdentifierKey for %s and the API requires an API key: "
                "INVALID_API_KEY, as API Gateway answers (link the account or key to a usage identifier)",
                policy.principal_id,
            )
            raise Denied("INVALID_API_KEY")
        wait = self._throttle.take(policy.usage_identifier_key, f"{route.path}/{route.method}")
        if wait > 0:
            # A route throttled to rate 0 never refills (wait is infinite): say an hour, not crash on ceil(inf).
            raise Denied("THROTTLED", {"Retry-After": str(max(1, math.ceil(min(wait, _MAX_RETRY_AFTER_S))))})
