"""GET /api/account/request-logs/exports — the account's exports of the last 7 days, newest first.

Paged like the logs: limit, offset, or the cursor in pagination.nextCursor.
"""

# First: importing it pauses the garbage collector until cold_start.loaded() at the end of this module.
from request_logs.api import cold_start

# isort: split
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.api import params
from request_logs.api.resolver import caller_account, create_resolver, request_reads, resolve_metered
from request_logs.config import require_settings
from request_logs.domain.timeutil import now_ms
from request_logs.logic.exports import list_exports
from request_logs.models.exports import ExportListResponse
from request_logs.observability import publish_metrics

settings = require_settings("exports_table", "cursor_signing_key")
logger = Logger()
metrics = Metrics()
app = create_resolver()


@app.get("/api/account/request-logs/exports")
def list_account_exports(
    limit: params.Limit = 50, offset: params.Offset = 0, cursor: params.Cursor = None
) -> ExportListResponse:
    return list_exports(
        caller_account(app), limit=limit, offset=offset, cursor=cursor, now_ms=now_ms(), reads=request_reads(app)
    )


@publish_metrics(metrics)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return resolve_metered(app, metrics, event, context)


cold_start.loaded()
