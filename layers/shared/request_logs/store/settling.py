"""Settle markers in the logs table and the queue that asks for them (``logic/settle``).

A marker is an item of a log partition whose sort key no log range reaches (``keys.settle_marker_sk``),
carrying the stamp taken before it was written in ``ingested_ms``, as a log does. Each marker is a new
item, so its stream record is an INSERT (the aggregator's event filter drops every other kind), and it
expires a day later: once applied, it has done its work.
"""

from __future__ import annotations

import json
from typing import Any

from request_logs.config import get_settings
from request_logs.store import keys
from request_logs.store.dynamo import batch_write, sqs, to_attributes

_MARKER_LIFETIME_S = 86_400
# SQS's longest per-message delay.
MAX_DELAY_S = 900


def put_settle_markers(account_id: str, shards: list[int], stamp_ms: int) -> None:
    """One marker per shard, stamped ``stamp_ms`` (taken just before this call). At most ``LOG_SHARDS``
    items: one BatchWriteItem; what it leaves unprocessed after its retries raises (the queue redelivers
    the request)."""
    requests: list[dict[str, Any]] = [
        {
            "PutRequest": {
                "Item": to_attributes(
                    {
                        "pk": keys.log_pk(account_id, shard),
                        "sk": keys.settle_marker_sk(stamp_ms),
                        "ingested_ms": stamp_ms,
                        "expires_at": stamp_ms // 1000 + _MARKER_LIFETIME_S,
                    }
                )
            }
        }
        for shard in shards
    ]
    unprocessed = batch_write(get_settings().logs_table, requests)
    if unprocessed:
        raise RuntimeError(f"{len(unprocessed)} settle markers of {account_id} left unprocessed")


def request_settling(account_id: str, due_ms: int, delay_s: int) -> None:
    """Ask the settle function to look at the account at ``due_ms``, in ``delay_s`` seconds (capped at
    SQS's 15 minutes; the function asks again if that is too early)."""
    sqs().send_message(
        QueueUrl=get_settings().settle_queue_url,
        MessageBody=json.dumps({"account_id": account_id, "due_ms": due_ms}),
        DelaySeconds=max(0, min(MAX_DELAY_S, delay_s)),
    )


def parse_settle_request(body: str) -> tuple[str, int]:
    """(account, due instant) of a settle request; ValueError for anything else."""
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("a settle request is a JSON object")
    account_id, due_ms = message.get("account_id"), message.get("due_ms")
    if not isinstance(account_id, str) or not account_id:
        raise ValueError("a settle request names an account_id")
    if not isinstance(due_ms, int) or isinstance(due_ms, bool):
        raise ValueError("a settle request names its due_ms")
    return account_id, due_ms
