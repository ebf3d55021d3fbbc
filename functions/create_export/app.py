"""POST /api/account/request-logs/exports — start a bulk export of the filtered logs (202 with its id).

The body takes the list's and the enhanced list's filters with the same names and limits, the file format
(ndjson, csv or parquet, always compressed) and include_content. An account runs one export at a time: a
second while one is queued or running is a 409 naming it (its id in error.export_id). Poll the Location it
answers with.
"""

# First: importing it pauses the garbage collector until cold_start.loaded() at the end of this module.
from request_logs.api import cold_start

# isort: split
from typing import Annotated

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.api import params
from request_logs.api.resolver import caller_account, create_resolver, request_reads, resolve_metered
from request_logs.config import require_settings
from request_logs.domain.timeutil import now_ms
from request_logs.logic.exports import create_export
from request_logs.models.exports import ExportCreated
from request_logs.observability import publish_metrics

settings = require_settings("exports_table", "export_queue_url", "api_keys_table")
logger = Logger()
metrics = Metrics()
app = create_resolver()
EXPORTS_PATH = "/api/account/request-logs/exports"


@app.post(EXPORTS_PATH, status_code=202, response_description="The export is queued.")
def start_export(body: Annotated[params.ExportBody, Body()]) -> Response[ExportCreated]:
    created = create_export(params.export_request(caller_account(app), body), now_ms=now_ms(), reads=request_reads(app))
    return Response(
        status_code=202,
        content_type="application/json",
        body=created,
        headers={"Location": f"{EXPORTS_PATH}/{created.id}"},
    )


@publish_metrics(metrics)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return resolve_metered(app, metrics, event, context)


cold_start.loaded()
