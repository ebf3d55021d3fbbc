"""DynamoDB stream (INSERT records only, by the event source's filter) → hour/day rollups."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.config import require_settings
from request_logs.domain.timeutil import now_ms
from request_logs.logic.aggregate import StreamLog, aggregate, oldest_record_age_ms, stream_log_from
from request_logs.logic.settle import request_settling
from request_logs.observability import publish_metrics

settings = require_settings("stats_table", "settle_queue_url")
logger = Logger()
metrics = Metrics()
# A batch whose every record is a poison record is still a partial response: Lambda retries from the
# lowest failed record and, after MaximumRetryAttempts, sends it to the on-failure destination.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


@publish_metrics(metrics)
@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    batch: list[StreamLog] = []

    def collect(record: DynamoDBRecord) -> None:
        batch.append(stream_log_from(record.raw_event))

    records = event.get("Records", [])
    with processor(records=records, handler=collect, lambda_context=context):
        processor.process()
    poison = processor.response()["batchItemFailures"]
    # A poison record without a sequence number has no place in the stream: None says so.
    unparsed = [item["itemIdentifier"] if isinstance(item["itemIdentifier"], str) else None for item in poison]
    result = aggregate(batch, unparsed_sequence_numbers=unparsed)
    failures = poison + [{"itemIdentifier": sequence} for sequence in result.failed_sequence_numbers]
    if result.progress_failed_accounts:
        # The rollups are written; only the freshness horizon lags, so readers fall back to raw logs longer.
        logger.warning("applied stamps not recorded", extra={"accounts": result.progress_failed_accounts})
    # After late logs, ask for the account's horizon to be moved past them even if no newer log comes.
    unsent = request_settling(result.late_stamps, now_ms())
    if unsent:
        logger.warning("settling not requested", extra={"accounts": unsent})
    logger.info(
        "aggregated",
        extra={
            "records": len(batch),
            "items": result.items_touched,
            "writes": result.writes,
            "conflicts": result.conflicts,
            "progress_writes": result.progress_writes,
            "settle_requests": len(result.late_stamps) - len(unsent),
            "failures": len(failures),
        },
    )
    metrics.add_metric(name="RecordsAggregated", unit=MetricUnit.Count, value=len(batch))
    metrics.add_metric(name="PoisonRecords", unit=MetricUnit.Count, value=len(poison))
    metrics.add_metric(name="RollupItemsWritten", unit=MetricUnit.Count, value=result.writes)
    metrics.add_metric(name="RollupVersionConflicts", unit=MetricUnit.Count, value=result.conflicts)
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=len(failures))
    metrics.add_metric(name="ProgressWriteFailures", unit=MetricUnit.Count, value=len(result.progress_failed_accounts))
    metrics.add_metric(name="SettleRequestFailures", unit=MetricUnit.Count, value=len(unsent))
    age_ms = oldest_record_age_ms(records, now_ms())
    if age_ms is not None:
        metrics.add_metric(name="OldestRecordAgeMs", unit=MetricUnit.Milliseconds, value=age_ms)
    return {"batchItemFailures": failures}
