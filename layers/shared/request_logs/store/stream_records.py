"""DynamoDB stream records → the logs they inserted, with their place in the stream.

A record that is not a well-formed log INSERT is a poison record: it raises, and the batch processor
reports it as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from request_logs.domain.log import RequestLog
from request_logs.store import keys
from request_logs.store.dynamo import from_attributes
from request_logs.store.items import log_from_item


class PoisonRecord(ValueError):
    pass


@dataclass(frozen=True)
class StreamLog:
    """One INSERT record: the log, its partition, and its place in the stream."""

    partition: str  # the log's table partition (account#shard): the unit stream order is kept in
    sequence: int
    sequence_number: str  # as Lambda reports it back in batchItemFailures
    log: RequestLog


def stream_log_from(record: dict[str, Any]) -> StreamLog:
    """The log a stream record (as Lambda delivers it: DynamoDB JSON) inserted."""
    event_name = record.get("eventName")
    if event_name != "INSERT":
        raise PoisonRecord(f"not an INSERT record: {str(event_name)[:32]}")
    change = record.get("dynamodb")
    sequence_number = change.get("SequenceNumber") if isinstance(change, dict) else None
    if not isinstance(change, dict) or not isinstance(sequence_number, str):
        raise PoisonRecord("record has no sequence number")
    try:
        log = log_from_item(from_attributes(change["NewImage"]))
        shard = keys.log_shard(log.id)
    except (KeyError, TypeError, ValueError) as exc:
        raise PoisonRecord(f"NewImage is not a request log: {exc}") from exc
    return StreamLog(
        partition=keys.log_pk(log.account_id, shard),
        sequence=int(sequence_number),
        sequence_number=sequence_number,
        log=log,
    )
