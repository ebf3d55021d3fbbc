"""GET /api/account/request-logs/enhanced — logs with token, cost and price detail, sorted, with a summary."""

# First: importing it pauses the garbage collector until cold_start.loaded() at the end of this module.
from request_logs.api import cold_start

# isort: split
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.api import params
from request_logs.api.resolver import (
    caller_account,
    create_resolver,
    metadata_query,
    request_reads,
    resolve_metered,
)
from request_logs.config import require_settings
from request_logs.domain.ordering import Ordering
from request_logs.domain.timeutil import now_ms
from request_logs.logic.enhanced import enhanced_request_logs
from request_logs.models.logs import EnhancedListResponse
from request_logs.observability import publish_metrics

settings = require_settings("logs_table", "stats_table", "cursor_signing_key", "api_keys_table")
logger = Logger()
metrics = Metrics()
app = create_resolver()


@app.get("/api/account/request-logs/enhanced")
def list_enhanced_logs(
    limit: params.Limit = 50,
    offset: params.Offset = 0,
    model: params.Model = None,
    provider: params.Provider = None,
    status: params.Status = None,
    start_date: params.StartDate = None,
    end_date: params.EndDate = None,
    min_latency: params.MinLatency = None,
    max_latency: params.MaxLatency = None,
    api_key_id: params.ApiKeyId = None,
    min_cost: params.MinCost = None,
    max_cost: params.MaxCost = None,
    sort: params.Sort = "created_at",
    order: params.Order = "desc",
    cursor: params.Cursor = None,
    tz: params.Tz = "UTC",
    user: params.User = None,
) -> EnhancedListResponse:
    query = params.log_query(
        caller_account(app),
        model=model,
        provider=provider,
        status=status,
        start_date=start_date,
        end_date=end_date,
        min_latency=min_latency,
        max_latency=max_latency,
        api_key_id=api_key_id,
        min_cost=min_cost,
        max_cost=max_cost,
        tz=tz,
        user=user,
        metadata=metadata_query(app),
    )
    return enhanced_request_logs(
        query,
        Ordering(sort, order),
        limit=limit,
        offset=offset,
        cursor=cursor,
        now_ms=now_ms(),
        reads=request_reads(app),
    )


@publish_metrics(metrics)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return resolve_metered(app, metrics, event, context)


cold_start.loaded()
