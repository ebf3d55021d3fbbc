"""DynamoDB stream records → the logs they inserted (or the settle markers), with their place in the stream.

A record that is neither a well-formed log INSERT nor a settle marker's is a poison record: it raises,
and the batch processor reports it as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from request_logs.domain.log import RequestLog
from request_logs.store import keys
from request_logs.store.dynamo import from_attributes
from request_logs.store.items import indexed_metadata_keys, log_from_item


class PoisonRecord(ValueError):
    pass


@dataclass(frozen=True)
class StreamLog:
    """One INSERT record: its partition and place in the stream, the ingest stamp it carries, and the log
    it inserted (None for a settle marker, which only moves its partition's horizon)."""

    partition: str  # the log's table partition (account#shard): the unit stream order is kept in
    sequence: int
    sequence_number: str  # as Lambda reports it back in batchItemFailures
    account_id: str
    shard: int
    stamp: int | None  # ingest's stamp (the marker's own); logs ingested before stamps existed have none
    log: RequestLog | None
    # The metadata keys the log was indexed under when written (``items.indexed_metadata_keys``).
    metadata_keys: tuple[str, ...] = ()

    @classmethod
    def of_log(cls, log: RequestLog, sequence_number: str, metadata_keys: tuple[str, ...] = ()) -> StreamLog:
        shard = keys.log_shard(log.id)
        partition = keys.log_pk(log.account_id, shard)
        return cls(
            partition, int(sequence_number), sequence_number, log.account_id, shard, log.ingested_ms, log, metadata_keys
        )


def stream_log_from(record: dict[str, Any]) -> StreamLog:
    """The log (or settle marker) a stream record (as Lambda delivers it: DynamoDB JSON) inserted."""
    event_name = record.get("eventName")
    if event_name != "INSERT":
        raise PoisonRecord(f"not an INSERT record: {str(event_name)[:32]}")
    change = record.get("dynamodb")
    sequence_number = change.get("SequenceNumber") if isinstance(change, dict) else None
    if not isinstance(change, dict) or not isinstance(sequence_number, str):
        raise PoisonRecord("record has no sequence number")
    try:
        image = from_attributes(change["NewImage"])
        if keys.is_settle_marker_sk(str(image.get("sk", ""))):
            account_id, shard = keys.parse_log_pk(str(image["pk"]))
            return StreamLog(
                partition=str(image["pk"]),
                sequence=int(sequence_number),
                sequence_number=sequence_number,
                account_id=account_id,
                shard=shard,
                stamp=int(image["ingested_ms"]),
                log=None,
            )
        return StreamLog.of_log(log_from_item(image), sequence_number, indexed_metadata_keys(image))
    except (KeyError, TypeError, ValueError) as exc:
        raise PoisonRecord(f"NewImage is not a request log: {exc}") from exc
