"""The resolver every API function uses: validation on, the one error shape, strict query strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, get_args

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from request_logs.api import exact_json
from request_logs.api.errors import AuthenticationError, InvalidParameter, register_error_handlers

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
    multi = app.current_event.multi_value_query_string_parameters or {}
    for name, value in sorted((app.current_event.query_string_parameters or {}).items()):
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            if not name:  # '?=value': the parameter at fault is the one named ''
                raise InvalidParameter(
                    f"A query parameter has no name ('=value'). Known parameters: {known}.", param=""
                )
            raise InvalidParameter(f"Unknown query parameter '{name}'. Known parameters: {known}.", param=name)
        if len(multi.get(name, ())) > 1:
            raise InvalidParameter(f"Query parameter '{name}' is given more than once.", param=name)
        if name in numbers and not value.isascii():
            raise InvalidParameter(f"Invalid value for '{name}': write numbers with the digits 0-9.", param=name)
    return next_middleware(app)


def create_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, serializer=exact_json.dumps)
    register_error_handlers(app)
    app.use(middlewares=[strict_query_string])
    return app


def caller_account(app: APIGatewayRestResolver) -> str:
    """The account the authorizer resolved; API Gateway never forwards a request without one."""
    context = app.current_event.request_context.authorizer.raw_event or {}
    account_id = context.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        raise AuthenticationError("Missing, malformed, unknown or revoked API key.")
    return account_id
