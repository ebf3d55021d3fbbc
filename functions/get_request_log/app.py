"""GET /api/account/request-logs/{id} — one request log."""

# First: importing it pauses the garbage collector until cold_start.loaded() at the end of this module.
from request_logs.api import cold_start

# isort: split
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.api.models import LogDetail
from request_logs.api.resolver import caller_account, create_resolver
from request_logs.domain.timeutil import now_ms
from request_logs.logic.read_logs import get_request_log

logger = Logger()
app = create_resolver()


@app.get("/api/account/request-logs/<id>")
def get_log(id: str) -> LogDetail:  # noqa: A002 - the spec's path parameter
    return get_request_log(caller_account(app), id, now_ms=now_ms())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)


cold_start.loaded()
