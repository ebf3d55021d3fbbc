"""GET /api/account/request-logs/stats — aggregated statistics from rollups, exact for any range."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.api import params
from request_logs.api.resolver import caller_account, create_resolver, request_reads, resolve_metered
from request_logs.config import require_settings
from request_logs.domain.timeutil import now_ms
from request_logs.logic.stats import get_request_log_stats
from request_logs.models.stats import StatsResponse
from request_logs.observability import publish_metrics

settings = require_settings("logs_table", "stats_table", "api_keys_table")
logger = Logger()
metrics = Metrics()
app = create_resolver()


@app.get("/api/account/request-logs/stats")
def get_stats(
    start_date: params.StartDate = None,
    end_date: params.EndDate = None,
    group_by: params.GroupBy = "day",
    tz: params.Tz = "UTC",
    limit: params.GroupLimit = params.DEFAULT_GROUP_LIMIT,
) -> StatsResponse:
    now = now_ms()
    zone = params.time_zone(tz)
    requested = params.stats_range(start_date, end_date, now, zone)
    groups = params.group_by_list(group_by)
    return get_request_log_stats(
        caller_account(app),
        requested.start_ms,
        requested.end_ms,
        groups,
        now_ms=now,
        zone=zone,
        reads=request_reads(app),
        group_limit=limit,
    )


@publish_metrics(metrics)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return resolve_metered(app, metrics, event, context)
