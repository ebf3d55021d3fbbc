"""Read a DynamoDB stream (moto's, in process or server mode) the way an event-source mapping sees it:
every shard from TRIM_HORIZON, records in each shard's order, as the dicts Lambda puts in ``Records``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from local.stack.template import REGION


@dataclass
class ShardCursor:
    shard_id: str
    iterator: str | None


@dataclass
class StreamReader:
    """Incremental reader: each ``poll`` returns the records that arrived since the previous one."""

    stream_arn: str
    client: Any = field(default=None)
    cursors: dict[str, ShardCursor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.client is None:
            # botocore ≥ 1.40 sends stream calls to account-id endpoints (<account>.streams-ddb…), which
            # moto does not route; the regional endpoint is the same API.
            self.client = boto3.client(
                "dynamodbstreams", region_name=REGION, config=Config(account_id_endpoint_mode="disabled")
            )

    def _discover_shards(self) -> None:
        description = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self.cursors:
                iterator = self.client.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                self.cursors[shard_id] = ShardCursor(shard_id, iterator)

    def poll(self, limit: int = 1000) -> dict[str, list[dict[str, Any]]]:
        """New records per shard, each list in sequence order, at most ``limit`` per shard."""
        self._discover_shards()
        found: dict[str, list[dict[str, Any]]] = {}
        for cursor in self.cursors.values():
            records: list[dict[str, Any]] = []
            while cursor.iterator is not None and len(records) < limit:
                response = self.client.get_records(ShardIterator=cursor.iterator, Limit=limit - len(records))
                cursor.iterator = response.get("NextShardIterator")
                batch = response.get("Records", [])
                if not batch:
                    break
                records.extend(_as_lambda_record(record, self.stream_arn) for record in batch)
            if records:
                found[cursor.shard_id] = records
        return found


def _as_lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """GetRecords output → the record shape Lambda delivers (adds eventSourceARN, epoch-second times)."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None and not isinstance(created, (int, float)):
        change["ApproximateCreationDateTime"] = created.timestamp()
    lambda_record = {key: value for key, value in record.items() if key != "dynamodb"}
    lambda_record["dynamodb"] = change
    lambda_record["eventSourceARN"] = stream_arn
    return lambda_record
