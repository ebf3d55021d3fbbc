"""Boto3 clients and DynamoDB (de)serialisation, created lazily and once per execution environment.

Clients are built on first use rather than at import: a handler that rejects bad input never pays for
one, and the cold-start benchmark sees the import cost alone.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from typing import Any

from request_logs.domain.reads import ReadStats

# DynamoDB's cap on the keys of one BatchGetItem call.
BATCH_GET_LIMIT = 100
# ... and on the requests of one BatchWriteItem call.
BATCH_WRITE_LIMIT = 25
_BATCH_WRITE_ATTEMPTS = 4
_BACKOFF_SECONDS = 0.05

_clients: dict[str, Any] = {}
# One client per service even when the first calls race: the list handler's shard threads all ask for
# the DynamoDB client at once on a cold start, and an unlocked cache let each of them build its own
# (eight clients, ~50 ms each, instead of one). boto3's default session is not thread-safe either.
_clients_lock = threading.Lock()


def _client(service: str) -> Any:
    client = _clients.get(service)
    if client is None:
        with _clients_lock:
            client = _clients.get(service)
            if client is None:
                import boto3

                if service == "s3":
                    from botocore.config import Config

                    # Presigned URLs signed with SigV4 (X-Amz-Signature), as S3 requires of new regions and
                    # keys; requests are SigV4 already.
                    client = _clients[service] = boto3.client(service, config=Config(signature_version="s3v4"))
                else:
                    client = _clients[service] = boto3.client(service)
    return client


def dynamodb() -> Any:
    return _client("dynamodb")


def batch_write(table: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One BatchWriteItem of at most ``BATCH_WRITE_LIMIT`` requests, with what it leaves unprocessed
    (throttled) retried after a growing pause; returns the requests still unprocessed after the last try.
    Raises botocore errors."""
    for attempt in range(_BATCH_WRITE_ATTEMPTS):
        response = dynamodb().batch_write_item(RequestItems={table: requests})
        requests = response.get("UnprocessedItems", {}).get(table, [])
        if not requests or attempt == _BATCH_WRITE_ATTEMPTS - 1:
            break
        time.sleep(_BACKOFF_SECONDS * 2**attempt)  # throttled: back off before retrying the rest
    return requests


def s3() -> Any:
    return _client("s3")


def sqs() -> Any:
    return _client("sqs")


@lru_cache(maxsize=1)
def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


@lru_cache(maxsize=1)
def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    serialize = _serializer().serialize
    return {name: serialize(value) for name, value in item.items()}


def from_attributes(item: dict[str, Any]) -> dict[str, Any]:
    deserialize = _deserializer().deserialize
    return {name: deserialize(value) for name, value in item.items()}


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials between sessions)."""
    with _clients_lock:
        _clients.clear()


def count_read(reads: ReadStats, response: dict[str, Any]) -> None:
    """Tally one Query or Scan response: the items it read (before any filter), one call."""
    reads.add(int(response.get("ScannedCount", 0)))
