"""The resolver every API function uses: validation on, the one error shape, strict query strings."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from request_logs.api.errors import AuthenticationError, InvalidParameter, register_error_handlers


def reject_unknown_or_repeated_params(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """An unknown or repeated query parameter is a 400, never silently ignored or last-one-wins."""
    route = app.context.get("_route")
    allowed = {field.alias for field in route.dependant.query_params} if route is not None else set()
    multi = app.current_event.multi_value_query_string_parameters or {}
    for name in sorted(app.current_event.query_string_parameters or {}):
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise InvalidParameter(f"Unknown query parameter '{name}'. Known parameters: {known}.", param=name)
        if len(multi.get(name, ())) > 1:
            raise InvalidParameter(f"Query parameter '{name}' is given more than once.", param=name)
    return next_middleware(app)


def create_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    register_error_handlers(app)
    app.use(middlewares=[reject_unknown_or_repeated_params])
    return app


def caller_account(app: APIGatewayRestResolver) -> str:
    """The account the authorizer resolved; API Gateway never forwards a request without one."""
    context = app.current_event.request_context.authorizer.raw_event or {}
    account_id = context.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        raise AuthenticationError("Missing, malformed, unknown or revoked API key.")
    return account_id
