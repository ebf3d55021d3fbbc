"""DynamoDB stream records → the logs they inserted. A record that is not a well-formed log INSERT
is a poison record: it raises, and the batch processor reports it as a failure."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from request_logs.logic.aggregate import StreamLog
from request_logs.store import keys
from request_logs.store.items import StoredLog


class PoisonRecord(ValueError):
    pass


def stream_log_from(record: DynamoDBRecord) -> StreamLog:
    if record.event_name is None or record.event_name.name != "INSERT":
        raise PoisonRecord(f"not an INSERT record: {record.event_name}")
    change = record.dynamodb
    if change is None or change.sequence_number is None:
        raise PoisonRecord("record has no sequence number")
    try:
        log = StoredLog.from_item(change.new_image)
    except (KeyError, TypeError, ValueError) as exc:
        raise PoisonRecord(f"NewImage is not a request log: {exc}") from exc
    return StreamLog(
        partition=keys.log_pk(log.account_id, log.shard),
        sequence=int(change.sequence_number),
        sequence_number=change.sequence_number,
        log=log,
    )
