"""SQS → one request log per gateway message; malformed messages are reported as batch item failures.

Two passes over the batch: the batch processor validates each message (a malformed one fails alone),
then the valid ones are written together, so their content items share BatchWriteItem calls.
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from request_logs.config import require_settings
from request_logs.logic.ingest import IngestOutcome, PreparedMessage, prepare, write_batch
from request_logs.observability import publish_metrics

settings = require_settings("logs_table", "content_table", "content_bucket", "stats_table", "api_keys_table")
logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@publish_metrics(metrics)
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    valid: list[tuple[str, PreparedMessage]] = []

    def validate(record: SQSRecord) -> None:
        try:
            valid.append((record.message_id, prepare(record.body)))
        except ValidationError as exc:
            # The reason without the input: bodies hold customer prompts and must not reach the logs.
            reasons = [
                f"{'.'.join(map(str, e['loc'])) or '<message>'}: {e['msg']}" for e in exc.errors(include_input=False)
            ]
            logger.error(
                "malformed ingest message",
                extra={
                    "message_id": record.message_id,
                    "receive_count": record.attributes.approximate_receive_count,
                    "reasons": reasons[:20],
                },
            )
            raise

    with processor(records=event.get("Records", []), handler=validate, lambda_context=context):
        processor.process()
    written = write_batch(valid)
    if written.failed:
        logger.warning("messages not stored, left for redelivery", extra={"message_ids": written.failed})
    outcomes = list(written.outcomes.values())
    metrics.add_metric(name="LogsStored", unit=MetricUnit.Count, value=outcomes.count(IngestOutcome.WRITTEN))
    metrics.add_metric(name="DuplicateMessages", unit=MetricUnit.Count, value=outcomes.count(IngestOutcome.DUPLICATE))
    metrics.add_metric(
        name="MalformedMessages", unit=MetricUnit.Count, value=len(event.get("Records", [])) - len(valid)
    )
    metrics.add_metric(name="MessagesLeftForRedelivery", unit=MetricUnit.Count, value=len(written.failed))
    metrics.add_metric(name="ContentSpilledToS3", unit=MetricUnit.Count, value=written.spilled_to_s3)
    return {
        "batchItemFailures": processor.response()["batchItemFailures"]
        + [{"itemIdentifier": message_id} for message_id in written.failed]
    }
