"""Every error becomes HTTP here, in the one JSON shape (docs/architecture.md, "Errors"):

``{"error": {"type": ..., "code": ..., "message": ..., "param": ...}}`` (``param`` when one parameter is
at fault). Use cases raise plain exceptions (``domain/errors``); ``HTTP_ERRORS`` is the one table that
gives each its status and type. Validation failures are 400 (never Powertools' default 422) and name
the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from request_logs.domain.errors import Conflict, ContentExpired, InvalidQuery, NotFound, UseCaseError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

logger = Logger()


class AuthenticationError(UseCaseError):
    """The request reached a function without the account the authorizer resolves (never in production:
    API Gateway answers 401 itself)."""

    code = "invalid_api_key"


# Use-case error → (HTTP status, error type). The one place a use case's refusal becomes a status code.
HTTP_ERRORS: dict[type[UseCaseError], tuple[int, str]] = {
    InvalidQuery: (400, "invalid_request_error"),
    AuthenticationError: (401, "authentication_error"),
    NotFound: (404, "not_found_error"),
    ContentExpired: (410, "content_expired"),
    Conflict: (409, "conflict_error"),
}


def http_status(error: UseCaseError) -> tuple[int, str]:
    """The status and type of a use-case error: its class's entry, or its nearest base class's."""
    for cls in type(error).__mro__:
        if cls in HTTP_ERRORS:
            return HTTP_ERRORS[cls]
    return 400, "invalid_request_error"


def error_body(
    error_type: str, code: str, message: str, param: str | None = None, details: Mapping[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """The one error shape; ``details`` are the error's own further members (``export_id`` of a 409)."""
    error = {"type": error_type, "code": code, "message": message}
    if param is not None:
        error["param"] = param
    error.update(details or {})
    return {"error": error}


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, ensure_ascii=False),
        headers=headers,
    )


def _describe_validation_error(error: dict[str, Any]) -> tuple[str | None, str]:
    loc = tuple(error.get("loc", ()))
    detail = str(error.get("msg", "invalid value"))
    if loc[:1] == ("body",):
        return _describe_body_error(error, loc[1:], detail)
    location = [str(part) for part in loc if part not in ("query", "path", "header")]
    param = location[0] if location else None
    if error.get("type") == "missing":
        return param, f"Missing required parameter '{param}'."
    return param, f"Invalid value for '{param}': {detail}."


def _describe_body_error(error: dict[str, Any], loc: tuple[Any, ...], detail: str) -> tuple[str, str]:
    """A JSON body's error, named like the query parameter of the same name: a member (``format``), or
    ``metadata.<key>`` inside ``metadata``; ``body`` for the body as a whole (absent, not JSON, not an
    object)."""
    kind = error.get("type")
    if kind == "json_invalid":
        return "body", "The request body is not valid JSON."
    names = [str(part) for part in loc if not isinstance(part, int)]
    if not names:
        if kind == "missing":
            return "body", "A JSON object body is required."
        return "body", f"Invalid request body: {detail}."
    param = ".".join(names[:2])
    if kind == "missing":
        return param, f"Missing required member '{param}'."
    if kind == "extra_forbidden":
        return param, f"Unknown member '{param[:80]}' in the request body."
    return param, f"Invalid value for '{param}': {detail}."


# The methods a 405 names: GET on every path of the API, but the exports collection, which also takes the
# POST that starts an export (tests/unit/test_template.py holds this to the template's routes).
API_METHODS = ("GET",)
RESOURCE_METHODS: dict[str, tuple[str, ...]] = {"/api/account/request-logs/exports": ("GET", "POST")}


def allowed_methods(resource: str) -> tuple[str, ...]:
    return RESOURCE_METHODS.get(resource, API_METHODS)


def method_not_allowed(method: str, resource: str) -> dict[str, Any]:
    """The proxy response to a method ``resource`` does not serve: 405, ``Allow``, the one error shape."""
    allowed = ", ".join(allowed_methods(resource))
    body = error_body(
        "invalid_request_error",
        "method_not_allowed",
        f"{method or 'This method'} is not allowed on {resource or 'this path'}; use {allowed}.",
    )
    return {
        "statusCode": 405,
        "headers": {"Content-Type": "application/json", "Allow": allowed},
        "body": json.dumps(body, ensure_ascii=False),
    }


UNSUPPORTED_MEDIA_TYPE = ("unsupported_media_type", "The request body must be JSON (Content-Type: application/json).")


def unsupported_media_type() -> dict[str, Any]:
    """The proxy response to a body that is not JSON: 415, the one error shape, naming ``body``."""
    code, message = UNSUPPORTED_MEDIA_TYPE
    return {
        "statusCode": 415,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(error_body("invalid_request_error", code, message, "body"), ensure_ascii=False),
    }


def invalid_body(message: str, param: str) -> dict[str, Any]:
    """The proxy response to a JSON body the resolver must not read: 400 naming the member (or ``body``)."""
    return {
        "statusCode": 400,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(
            error_body("invalid_request_error", "invalid_parameter", message, param), ensure_ascii=False
        ),
    }


def repeated_query_parameter(app: APIGatewayRestResolver) -> InvalidQuery | None:
    """The refusal of a query string that gives a parameter twice (``?limit=5&limit=6``): no value wins.

    Checked by the strict query-string middleware and again when validation fails first (Powertools
    validates before any middleware runs, and would only say the pair is not an integer)."""
    multi = app.current_event.multi_value_query_string_parameters or {}
    repeated = sorted(name for name, values in multi.items() if len(values or ()) > 1)
    if not repeated:
        return None
    name = repeated[0]
    return InvalidQuery(f"Query parameter '{name}' is given {len(multi[name])} times; give it once.", param=name)


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(UseCaseError)
    def _use_case_error(error: UseCaseError) -> Response:
        status, error_type = http_status(error)
        return error_response(status, error_body(error_type, error.code, error.message, error.param, error.details))

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response:
        repeated = repeated_query_parameter(app)
        if repeated is not None:
            return _use_case_error(repeated)
        errors = error.errors()
        param, message = _describe_validation_error(errors[0]) if errors else (None, "Invalid request.")
        return error_response(400, error_body("invalid_request_error", "invalid_parameter", message, param))

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
        code, message = UNSUPPORTED_MEDIA_TYPE
        return error_response(415, error_body("invalid_request_error", code, message, "body"))

    @app.not_found
    def _route_not_found(_: NotFoundError) -> Response:
        return error_response(
            404,
            error_body(
                "not_found_error",
                "route_not_found",
                "No such route. See the API reference for the paths and methods this API serves.",
            ),
        )

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(
            500, error_body("api_error", "internal_error", "The service failed to answer. Retry later.")
        )
