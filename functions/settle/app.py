"""SQS (the aggregator's settle requests) → settle markers for accounts that went quiet after late logs."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.config import require_settings
from request_logs.domain.timeutil import now_ms
from request_logs.logic.settle import SettleOutcome, settle_requested
from request_logs.observability import publish_metrics

settings = require_settings("logs_table", "stats_table", "settle_queue_url")
logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@publish_metrics(metrics)
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    outcomes: list[SettleOutcome] = []

    def handle(record: SQSRecord) -> None:
        # The stamp is taken before the markers are written, as ingest takes a log's.
        outcomes.append(settle_requested(record.body, now_ms()))

    response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    for outcome in outcomes:
        logger.info(
            outcome.result,
            extra={
                "account_id": outcome.account_id,
                "markers": outcome.markers,
                "asked_again_in_s": outcome.asked_again_in_s,
            },
        )
    metrics.add_metric(name="SettleMarkersWritten", unit=MetricUnit.Count, value=sum(len(o.markers) for o in outcomes))
    metrics.add_metric(
        name="SettleRequestsDeferred",
        unit=MetricUnit.Count,
        value=sum(1 for o in outcomes if o.asked_again_in_s is not None),
    )
    return dict(response)
