"""The resolver every API function uses: validation on, the one error shape, strict query strings, and
the DynamoDB reads of each request emitted as metrics."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, get_args

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.metrics import MetricUnit

from request_logs.api.errors import (
    AuthenticationError,
    invalid_body,
    register_error_handlers,
    repeated_query_parameter,
    unsupported_media_type,
)
from request_logs.domain.errors import InvalidQuery
from request_logs.domain.filters import METADATA_PREFIX
from request_logs.domain.reads import ReadStats
from request_logs.models import exact_json

_NUMBERS = (int, float, Decimal)


def _is_number(annotation: Any) -> bool:
    return any(member in _NUMBERS for member in (get_args(annotation) or (annotation,)))


def strict_query_string(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """An unknown or repeated query parameter is a 400, never silently ignored or last-one-wins; so is a
    number in other than ASCII digits (pydantic reads a Decimal with Python's Decimal(), which takes
    any script's digits: '٣' would be 3, where an integer parameter refuses it)."""
    route = app.context.get("_route")
    fields = route.dependant.query_params if route is not None else []
    allowed = {field.alias for field in fields}
    numbers = {field.alias for field in fields if _is_number(field.type_)}
    repeated = repeated_query_parameter(app)
    if repeated is not None:
        raise repeated
    # metadata.<key> names are the customer's own keys, which no signature can list: a route that filters
    # by attribution (it declares ``user``) takes them, and parses them itself (``params.metadata_filters``).
    attribution = "user" in allowed
    for name, value in sorted((app.current_event.query_string_parameters or {}).items()):
        if attribution and name.startswith(METADATA_PREFIX):
            continue
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            if not name:  # '?=value': the parameter at fault is the one named ''
                raise InvalidQuery(f"A query parameter has no name ('=value'). Known parameters: {known}.", param="")
            raise InvalidQuery(f"Unknown query parameter '{name}'. Known parameters: {known}.", param=name)
        if name in numbers and not value.isascii():
            raise InvalidQuery(f"Invalid value for '{name}': write numbers with the digits 0-9.", param=name)
    return next_middleware(app)


def create_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, serializer=exact_json.dumps)
    register_error_handlers(app)
    app.use(middlewares=[strict_query_string])
    return app


def resolve_metered(
    app: APIGatewayRestResolver, metrics: Metrics, event: dict[str, Any], context: Any
) -> dict[str, Any]:
    """Resolve one request with a read tally (``request_reads``), and emit what it read as two metrics by
    route, whatever the answer (a 400 reads nothing, and says so): the figure that exposes a read path
    whose cost grows with the account instead of the page."""
    reads = ReadStats()
    app.append_context(reads=reads)  # resolve() clears the context once it has answered
    try:
        refused = _refuse_unreadable_body(event)
        if refused is not None:
            return refused
        return app.resolve(event, context)
    finally:
        metrics.add_dimension(name="route", value=str(event.get("resource") or "unknown"))
        metrics.add_metric(name="DynamoDBItemsRead", unit=MetricUnit.Count, value=reads.items_read)
        metrics.add_metric(name="DynamoDBCalls", unit=MetricUnit.Count, value=reads.calls)


_BODY_METHODS = ("POST", "PUT", "PATCH")


def _refuse_unreadable_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """A request body is JSON or nothing, read before the resolver reads it: another media type is a 415
    (Powertools would parse form and multipart bodies, and fail on a multipart type without a boundary);
    a member given twice is a 400 naming it, as a repeated query parameter is (no value wins); JSON
    nested deeper than Python's parser recurses is a 400, never the parser's RecursionError."""
    if str(event.get("httpMethod", "")).upper() not in _BODY_METHODS:
        return None
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ("", "application/json"):
        return unsupported_media_type()
    body = event.get("body")
    if not isinstance(body, str) or event.get("isBase64Encoded"):
        return None
    try:
        json.loads(body, object_pairs_hook=_refuse_repeated_members)
    except _RepeatedMember as repeated:
        return invalid_body(f"Member '{repeated.name[:80]}' is given more than once; give it once.", repeated.name[:80])
    except RecursionError:
        return invalid_body("The request body is nested too deeply.", "body")
    except ValueError:
        return None  # not JSON: the resolver's validation says so, naming the body
    return None


class _RepeatedMember(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse_repeated_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name, value in pairs:
        if name in members:
            raise _RepeatedMember(name)
        members[name] = value
    return members


def request_reads(app: APIGatewayRestResolver) -> ReadStats:
    """The tally of the request being handled: pass it to the use case."""
    reads: ReadStats = app.context["reads"]
    return reads


def metadata_query(app: APIGatewayRestResolver) -> dict[str, str]:
    """The request's ``metadata.<key>`` query parameters, as sent (``params.metadata_filters`` reads them).
    Here rather than in ``params``: the log and details functions use this module, not that one."""
    query = app.current_event.query_string_parameters or {}
    return {name: value for name, value in query.items() if name.startswith(METADATA_PREFIX)}


def caller_account(app: APIGatewayRestResolver) -> str:
    """The account the authorizer resolved; API Gateway never forwards a request without one."""
    context = app.current_event.request_context.authorizer.raw_event or {}
    account_id = context.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        raise AuthenticationError("Missing, malformed, unknown or revoked API key.")
    return account_id
