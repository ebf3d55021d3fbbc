"""GET /api/account/request-logs/exports/{id} — an export's status and progress, and its download URLs once done.

urls (one presigned URL per part, in order) and manifest_url are given only when the export has
succeeded, and expire at urls_expire_at (an hour at most): ask again for fresh ones until expires_at.
Another account's export id is a 404, like an id that does not exist.
"""

# First: importing it pauses the garbage collector until cold_start.loaded() at the end of this module.
from request_logs.api import cold_start

# isort: split
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.api.resolver import caller_account, create_resolver, request_reads, resolve_metered
from request_logs.config import require_settings
from request_logs.domain.timeutil import now_ms
from request_logs.logic.exports import get_export
from request_logs.models.exports import ExportDetail
from request_logs.observability import publish_metrics

settings = require_settings("exports_table", "exports_bucket")
logger = Logger()
metrics = Metrics()
app = create_resolver()


@app.get("/api/account/request-logs/exports/<id>")
def get_one_export(id: str) -> ExportDetail:  # noqa: A002 - the path parameter's name, as the logs' routes
    return get_export(caller_account(app), id, now_ms=now_ms(), reads=request_reads(app))


@publish_metrics(metrics)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return resolve_metered(app, metrics, event, context)


cold_start.loaded()
