"""DynamoDB stream (INSERT records only, by the event source's filter) → hour/day rollups."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.logic.aggregate import StreamLog, aggregate
from request_logs.logic.stream_records import stream_log_from

logger = Logger()
# A batch whose every record is a poison record is still a partial response: Lambda retries from the
# lowest failed record and, after MaximumRetryAttempts, sends it to the on-failure destination.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    batch: list[StreamLog] = []

    def collect(record: DynamoDBRecord) -> None:
        batch.append(stream_log_from(record))

    with processor(records=event.get("Records", []), handler=collect, lambda_context=context):
        processor.process()
    poison = processor.response()["batchItemFailures"]
    result = aggregate(batch, unparsed_sequence_numbers=[item["itemIdentifier"] for item in poison])
    failures = poison + [{"itemIdentifier": sequence} for sequence in result.failed_sequence_numbers]
    if result.progress_failed_accounts:
        # The rollups are written; only the freshness horizon lags, so readers fall back to raw logs longer.
        logger.warning("applied stamps not recorded", extra={"accounts": result.progress_failed_accounts})
    logger.info(
        "aggregated",
        extra={
            "records": len(batch),
            "items": result.items_touched,
            "writes": result.writes,
            "conflicts": result.conflicts,
            "progress_writes": result.progress_writes,
            "failures": len(failures),
        },
    )
    return {"batchItemFailures": failures}
