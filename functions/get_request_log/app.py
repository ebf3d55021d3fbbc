"""GET /api/account/request-logs/{id} — one request log."""

# First: importing it pauses the garbage collector until cold_start.loaded() at the end of this module.
from request_logs.api import cold_start

# isort: split
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.api.resolver import caller_account, create_resolver, request_reads, resolve_metered
from request_logs.config import require_settings
from request_logs.domain.timeutil import now_ms
from request_logs.logic.read_logs import get_request_log
from request_logs.models.logs import LogDetail
from request_logs.observability import publish_metrics

settings = require_settings("logs_table")
logger = Logger()
metrics = Metrics()
app = create_resolver()


@app.get("/api/account/request-logs/<id>")
def get_log(id: str) -> LogDetail:  # noqa: A002 - the spec's path parameter
    return get_request_log(caller_account(app), id, now_ms=now_ms(), reads=request_reads(app))


@publish_metrics(metrics)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return resolve_metered(app, metrics, event, context)


cold_start.loaded()
