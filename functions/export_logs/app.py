"""SQS (the export queue) → one run of an export: parts to S3 from its checkpoint, then its end or its next run.

Batch size 1: a run uses the function's whole time. A malformed message fails alone (and reaches the
dead-letter queue); a message whose export another run holds is retried later (``ExportBusy``).
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.config import export_limits, require_settings
from request_logs.domain.timeutil import now_ms
from request_logs.logic.export_run import RunResult, run_export
from request_logs.models.exports import ExportMessage
from request_logs.observability import publish_metrics

settings = require_settings(
    "logs_table",
    "stats_table",
    "api_keys_table",
    "content_table",
    "content_bucket",
    "exports_table",
    "exports_bucket",
    "export_queue_url",
)
logger = Logger()
metrics = Metrics()
# One message a batch: a failed one is reported as the batch item failure it is, never a raise.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@publish_metrics(metrics)
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    results: list[RunResult] = []
    limits = export_limits()

    def handle(record: SQSRecord) -> None:
        message = ExportMessage.model_validate_json(record.body)
        result = run_export(message, remaining_ms=context.get_remaining_time_in_millis, now=now_ms, limits=limits)
        results.append(result)
        logger.info(
            "export run",
            extra={
                "export_id": message.export_id,
                "step": message.step,
                "outcome": result.outcome.value,
                "rows": result.rows,
                "parts": result.parts,
                "items_read": result.reads.items_read,
            },
        )

    response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    metrics.add_metric(name="ExportRowsWritten", unit=MetricUnit.Count, value=sum(r.rows for r in results))
    metrics.add_metric(name="ExportPartsWritten", unit=MetricUnit.Count, value=sum(r.parts for r in results))
    metrics.add_metric(name="DynamoDBItemsRead", unit=MetricUnit.Count, value=sum(r.reads.items_read for r in results))
    for outcome in ("continued", "succeeded", "failed"):
        count = sum(1 for r in results if r.outcome.value == outcome)
        metrics.add_metric(name=f"ExportRuns{outcome.capitalize()}", unit=MetricUnit.Count, value=count)
    return dict(response)
