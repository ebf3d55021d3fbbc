"""SQS → one request log per gateway message; malformed messages are reported as batch item failures."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from request_logs.logic.ingest import ingest

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    try:
        outcome, log = ingest(record.body)
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
    logger.debug("ingested", extra={"log_id": log.id, "outcome": outcome.value})
    return outcome.value


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
