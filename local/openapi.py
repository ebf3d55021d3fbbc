"""The API's OpenAPI document, generated from the handlers: ``make openapi`` writes ``docs/openapi.json``.

Every function of ``template.yaml`` with an ``Api`` event is imported as Lambda would import it, and its
Powertools resolver (``app``) describes its own routes, parameters and response models. This module
merges those documents into one and adds what no single handler knows: the Bearer security scheme and
the error responses of docs/architecture.md, "Errors", all in the one JSON error shape. A new API
function appears here as soon as its route is in the template.

The handlers and the template must agree: a route the template sends to a function that the
function's resolver does not serve (or the other way round), or one schema name with two meanings,
fails the generation rather than producing a document that is wrong.

    python -m local.openapi            # print the document
    python -m local.openapi --write    # write docs/openapi.json
    python -m local.openapi --check    # exit 1 when docs/openapi.json is stale
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.emulator.lambda_runtime import load_module
from local.stack.template import ROOT, FunctionSpec, Template, load_template

DOCUMENT_PATH = ROOT / "docs" / "openapi.json"
TITLE = "Request Logs API"
SECURITY_SCHEME = "bearerAuth"

# Powertools documents a 422 with its own body for validation errors; this API answers them with a 400
# in the one error shape (request_logs.api.errors), so both go.
_POWERTOOLS_VALIDATION = "422"
_POWERTOOLS_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

DESCRIPTION = """\
Every request an account sends through the LLM gateway is logged. This API lists, filters and inspects
those logs and analyses them with exact statistics.

**Authentication**: `Authorization: Bearer <api key>` on every request.

**Errors** have one JSON shape, with `param` when one parameter is at fault:
`{"error": {"type": "invalid_request_error", "code": "invalid_parameter", "message": "…", "param": "limit"}}`.
An unknown or repeated query parameter is a 400 too. Another account's log id is a 404, exactly like an
id that does not exist.

**Rate limits** are per API key and per operation (each operation says its own); above one, a 429 with
`Retry-After` (seconds).
"""


@dataclass(frozen=True)
class ErrorResponse:
    """One documented error status: the component's name, the ``error.type`` it carries, when it happens."""

    component: str
    error_type: str
    description: str
    example: dict[str, str]


# docs/architecture.md, "Errors": the statuses a client can meet and the error type of each.
ERROR_RESPONSES: dict[str, ErrorResponse] = {
    "400": ErrorResponse(
        "BadRequest",
        "invalid_request_error",
        "A parameter is invalid (wrong type, out of range, unknown value, start after end) or unknown or "
        "repeated. `param` names it.",
        {
            "type": "invalid_request_error",
            "code": "invalid_parameter",
            "message": "Invalid value for 'limit': Input should be less than or equal to 100.",
            "param": "limit",
        },
    ),
    "401": ErrorResponse(
        "Unauthorized",
        "authentication_error",
        "The API key is missing, malformed, unknown or revoked.",
        {
            "type": "authentication_error",
            "code": "invalid_api_key",
            "message": "Missing, malformed, unknown or revoked API key. Send Authorization: Bearer <api key>.",
        },
    ),
    "404": ErrorResponse(
        "NotFound",
        "not_found_error",
        "No log (or export) with this id in the caller's account. Another account's id gets exactly this answer.",
        {
            "type": "not_found_error",
            "code": "request_log_not_found",
            "message": "No request log with id 'log_0196a1b2c3d4e5f6a7b8c9d0e1f'.",
            "param": "id",
        },
    ),
    "410": ErrorResponse(
        "ContentExpired",
        "content_expired",
        "The log exists but its request and response content is past its 30-day retention.",
        {
            "type": "content_expired",
            "code": "content_expired",
            "message": "The request and response content of 'log_0196a1b2c3d4e5f6a7b8c9d0e1f' is past its "
            "30-day retention; the log itself stays available for 90 days.",
            "param": "id",
        },
    ),
    "409": ErrorResponse(
        "Conflict",
        "conflict_error",
        "The account already has an export queued or running; `export_id` and the message name it. One export "
        "at a time.",
        {
            "type": "conflict_error",
            "code": "export_in_progress",
            "message": "Export 'exp_19a8f0c2d4e0123456789abcdef' is still running: an account runs one export at a "
            "time. Wait for it to finish (GET /api/account/request-logs/exports/exp_19a8f0c2d4e0123456789abcdef), "
            "then start this one.",
            "export_id": "exp_19a8f0c2d4e0123456789abcdef",
        },
    ),
    "415": ErrorResponse(
        "UnsupportedMediaType",
        "invalid_request_error",
        "The request body is not JSON (its Content-Type names another media type).",
        {
            "type": "invalid_request_error",
            "code": "unsupported_media_type",
            "message": "The request body must be JSON (Content-Type: application/json).",
            "param": "body",
        },
    ),
    "429": ErrorResponse(
        "RateLimited",
        "rate_limit_error",
        "Above the endpoint's rate limit for this API key. Retry after `Retry-After` seconds.",
        {
            "type": "rate_limit_error",
            "code": "rate_limit_exceeded",
            "message": "Rate limit exceeded for this endpoint. Retry after the number of seconds in the "
            "Retry-After header.",
        },
    ),
}


def error_statuses(path: str, method: str = "get") -> list[str]:
    """The error statuses of a route: every route validates, authenticates and throttles; a route with a
    path parameter names a log or an export (404); ``/details`` serves content with its own retention (410,
    §3); a POST takes a JSON body (415) and starting an export may meet the one already running (409)."""
    statuses = ["400", "401"]
    if "{" in path:
        statuses.append("404")
    if method == "post":
        statuses += ["409", "415"]
    if path.endswith("/details"):
        statuses.append("410")
    statuses.append("429")
    return statuses


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Every error of the API, whoever answers it (a handler or API Gateway itself).",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["type", "code", "message"],
                "additionalProperties": False,
                "properties": {
                    "type": {"type": "string", "description": "The kind of error; one per HTTP status."},
                    "code": {"type": "string", "description": "A stable, machine-readable reason."},
                    "message": {"type": "string", "description": "A sentence for a human."},
                    "param": {"type": "string", "description": "The parameter at fault, when there is one."},
                    "export_id": {
                        "type": "string",
                        "description": "On a 409 export_in_progress: the id of the export queued or running.",
                    },
                },
            }
        },
    }


def _error_response(response: ErrorResponse, status: str) -> dict[str, Any]:
    schema = {
        "allOf": [
            {"$ref": "#/components/schemas/Error"},
            {"properties": {"error": {"properties": {"type": {"const": response.error_type}}}}},
        ]
    }
    documented: dict[str, Any] = {
        "description": response.description,
        "content": {"application/json": {"schema": schema, "example": {"error": response.example}}},
    }
    if status == "429":
        documented["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before the next request to this endpoint.",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    if status == "401":
        documented["headers"] = {
            "WWW-Authenticate": {"description": "`Bearer` when the key is missing.", "schema": {"type": "string"}}
        }
    return documented


def _server_error_response() -> dict[str, Any]:
    return {
        "description": "A fault of the service, never of the request: retry later. Same error shape.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def _summary(module: Any, fallback: str) -> tuple[str, str | None]:
    """The handler module's docstring: ``GET /path — what it does.`` → summary and the rest as description."""
    lines = (module.__doc__ or "").strip().splitlines()
    if not lines:
        return fallback, None
    _, dash, what = lines[0].partition(" — ")
    summary = (what if dash else lines[0]).strip().rstrip(".")
    description = "\n".join(lines[1:]).strip() or None
    return summary[:1].upper() + summary[1:], description


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema as the client sees it: ``anyOf: [X, {type: null}]`` → X (an optional
    parameter is absent, never null), and pydantic's Decimal ``anyOf: [number, string with a pattern]``
    → the number (on the wire every query value is text; the string branch only restates the number)."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list):
        return schema
    others = [branch for branch in branches if branch != {"type": "null"}]
    types = [branch.get("type") for branch in others]
    if types == ["number", "string"] and "pattern" in others[1]:
        others = others[:1]
    if len(others) != 1:
        return schema
    merged = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**others[0], **merged}


def _integral(value: Any) -> Any:
    """pydantic writes ``le=100`` as ``100.0``: integral bounds as integers, for a readable document."""
    if isinstance(value, dict):
        return {
            key: int(item)
            if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
            and isinstance(item, float)
            and item.is_integer()
            else _integral(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


@contextmanager
def _function_environment(spec: FunctionSpec) -> Iterator[None]:
    """The function's environment while its module loads, as Lambda sets it before the import (a
    Powertools Logger reads its service name then); the process's own environment afterwards."""
    from request_logs.config import get_settings

    saved = {name: os.environ.get(name) for name in spec.environment}
    os.environ.update({name: _loadable(str(value)) for name, value in spec.environment.items()})
    get_settings.cache_clear()  # read at the import, from this function's own environment
    try:
        yield
    finally:
        get_settings.cache_clear()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _loadable(value: str) -> str:
    """A secret the template resolves at deploy time, as a stand-in: a function refuses to start with an
    unresolved reference (``config.require_settings``), and generating the document signs nothing."""
    return "not-a-secret-openapi-generation-only" if value.startswith("{{resolve:") else value


def _function_document(template: Template, logical_id: str) -> tuple[dict[str, Any], Any]:
    spec = template.functions()[logical_id]
    with _function_environment(spec):
        module = load_module(spec)
    resolver = getattr(module, "app", None)
    if resolver is None or not hasattr(resolver, "get_openapi_schema"):
        raise ValueError(f"{logical_id} serves an Api event but its module has no Powertools resolver named 'app'")
    document = resolver.get_openapi_schema().model_dump(mode="json", by_alias=True, exclude_none=True)
    return document, module


def build_document(template: Template | None = None) -> dict[str, Any]:
    """The merged OpenAPI 3.1 document of every API function in the template."""
    template = template or load_template()
    # ANY routes answer every other method with a 405 (MethodNotAllowedFunction): not operations.
    routes = [route for route in template.routes() if route.method != "ANY"]
    throttles, plan_throttle = template.usage_plan_throttles()
    expected = {(route.path, route.method.lower()): route.function for route in routes}
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for logical_id in sorted({route.function for route in routes}):
        document, module = _function_document(template, logical_id)
        served = {
            (path, method) for path, item in document.get("paths", {}).items() for method in item if method in _METHODS
        }
        routed = {key for key, function in expected.items() if function == logical_id}
        if served != routed:
            raise ValueError(
                f"{logical_id}: the template routes {sorted(routed)} to it, its resolver serves {sorted(served)}"
            )
        summary, description = _summary(module, logical_id)
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if method not in _METHODS:
                    continue
                if len(routed) == 1:  # one route per function: name the operation after the function
                    name = logical_id.removesuffix("Function")
                    operation["operationId"] = name[:1].lower() + name[1:]
                    operation["summary"] = summary
                    if description and "description" not in operation:
                        operation["description"] = description
                limits = throttles.get(f"{path}/{method.upper()}", plan_throttle)
                paths.setdefault(path, {})[method] = _operation(path, method, operation, limits)
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            if name in _POWERTOOLS_SCHEMAS:
                continue
            if name in schemas and schemas[name] != schema:
                raise ValueError(f"schema {name!r} means two things: rename one of the models")
            schemas[name] = schema
    if "Error" in schemas:
        raise ValueError("a response model is named 'Error', the name of the error shape: rename it")
    schemas["Error"] = _error_schema()
    return _integral(
        {
            "openapi": "3.1.0",
            "info": {"title": TITLE, "version": _version(), "description": DESCRIPTION},
            "servers": [
                {"url": "/", "description": "This host: the local runtime (make run) or a custom domain."},
                {
                    "url": "https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}",
                    "description": "A deployed stack (its ApiUrl output).",
                    "variables": {
                        "restApiId": {"default": "abc123defg"},
                        "region": {"default": "us-east-1"},
                        "stage": {"default": template.stage_name()},
                    },
                },
            ],
            "security": [{SECURITY_SCHEME: []}],
            "paths": {path: paths[path] for path in sorted(paths)},
            "components": {
                "schemas": {name: schemas[name] for name in sorted(schemas)},
                "responses": {
                    response.component: _error_response(response, status)
                    for status, response in ERROR_RESPONSES.items()
                },
                "securitySchemes": {
                    SECURITY_SCHEME: {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "An API key of the account: `Authorization: Bearer sk-…`.",
                    }
                },
            },
        }
    )


def _rate_limit(limits: dict[str, Any]) -> str:
    """The usage plan's throttle as the spec states limits: requests per minute (and the burst)."""
    per_minute = float(limits["RateLimit"]) * 60
    shown = int(per_minute) if per_minute.is_integer() else round(per_minute, 1)
    return f"Rate limit: {shown} requests per minute per API key, in bursts of up to {int(limits['BurstLimit'])}."


def _operation(path: str, method: str, operation: dict[str, Any], limits: dict[str, Any] | None) -> dict[str, Any]:
    operation = copy.deepcopy(operation)
    if limits is not None:
        operation["description"] = "\n\n".join(filter(None, [operation.get("description"), _rate_limit(limits)]))
    for parameter in operation.get("parameters", []):
        parameter["schema"] = _query_schema(parameter["schema"])
    responses = {status: value for status, value in operation["responses"].items() if status != _POWERTOOLS_VALIDATION}
    for status in error_statuses(path, method):
        responses[status] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status].component}"}
    if "202" in responses:  # accepted: where to follow its progress
        responses["202"]["headers"] = {
            "Location": {
                "description": "The path of the new resource under the API's base URL (GET it for its status).",
                "required": True,
                "schema": {"type": "string"},
            }
        }
    responses["5XX"] = _server_error_response()
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# Swagger UI as Powertools ships it (its enable_swagger() serves the same files): offline, no CDN.
_SWAGGER_UI_FILES = {
    "/docs/swagger-ui-bundle.min.js": ("swagger-ui-bundle.min.js", "application/javascript; charset=utf-8"),
    "/docs/swagger-ui.min.css": ("swagger-ui.min.css", "text/css; charset=utf-8"),
}
_SWAGGER_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Request Logs API — Swagger UI</title>
  <link rel="stylesheet" href="/docs/swagger-ui.min.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.min.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true
    });
  </script>
</body>
</html>
"""
DOCS_PATH = "/docs"
DOCUMENT_URL_PATH = "/openapi.json"
INDEX_PATH = "/"


def _swagger_ui_directory() -> Path:
    from aws_lambda_powertools.event_handler.openapi import swagger_ui

    return Path(swagger_ui.__file__).parent


class DocumentationSite:
    """``GET /openapi.json``, Swagger UI at ``/docs`` and an index at ``/`` pointing to both and to the
    endpoints, for the local runtime, without auth.

    Not part of the deployed API (API Gateway serves only the template's routes). The document is built
    on first request, from the same template as the gateway's routes, and kept.
    """

    def __init__(self, template: Template) -> None:
        self._template = template
        self._pages: dict[str, tuple[str, bytes]] = {}
        self._lock = threading.Lock()

    def page(self, path: str) -> tuple[str, bytes] | None:
        """(content type, body) of a documentation path; None for any other path."""
        path = path.rstrip("/") or "/"
        if path not in (INDEX_PATH, DOCUMENT_URL_PATH, DOCS_PATH, *_SWAGGER_UI_FILES):
            return None
        with self._lock:
            if path not in self._pages:
                self._pages[path] = self._render(path)
            return self._pages[path]

    def _render(self, path: str) -> tuple[str, bytes]:
        if path == INDEX_PATH:
            return "application/json", (json.dumps(self._index(), indent=2) + "\n").encode()
        if path == DOCUMENT_URL_PATH:
            return "application/json", render(build_document(self._template)).encode()
        if path == DOCS_PATH:
            return "text/html; charset=utf-8", _SWAGGER_PAGE.encode()
        name, content_type = _SWAGGER_UI_FILES[path]
        return content_type, (_swagger_ui_directory() / name).read_bytes()

    def _index(self) -> dict[str, Any]:
        """What ``GET /`` answers: where the documentation is, and the endpoints (the template's routes)."""
        endpoints = sorted(
            {f"{route.method} {route.path}" for route in self._template.routes() if route.method != "ANY"}
        )
        return {
            "name": "Request Logs API (local runtime)",
            "dashboard": "/logs",
            "docs": DOCS_PATH,
            "openapi": DOCUMENT_URL_PATH,
            "authentication": "Authorization: Bearer <API key>",
            "endpoints": endpoints,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.openapi", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"write {DOCUMENT_PATH.relative_to(ROOT)}")
    action.add_argument("--check", action="store_true", help="exit 1 when the checked-in document is stale")
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.write:
        DOCUMENT_PATH.write_text(text)
        print(f"wrote {DOCUMENT_PATH.relative_to(ROOT)}", file=sys.stderr)
    elif args.check:
        if not DOCUMENT_PATH.exists() or DOCUMENT_PATH.read_text() != text:
            print(f"{DOCUMENT_PATH.relative_to(ROOT)} is stale: run make openapi", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
