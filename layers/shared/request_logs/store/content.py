"""Request and response bodies: gzip-compressed JSON in the content table, spilled to S3 when too big.

A DynamoDB item is capped at 400 KB; bodies are kept inline while the item stays under
``INLINE_BUDGET_BYTES`` and the larger ones go to S3 (same 30-day retention through the bucket's
lifecycle rule). Nothing is ever truncated.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from request_logs.config import get_settings
from request_logs.domain.reads import ReadStats
from request_logs.domain.retention import content_expiry_s
from request_logs.store import keys
from request_logs.store.dynamo import (
    BATCH_GET_LIMIT,
    BATCH_WRITE_LIMIT,
    batch_write,
    dynamodb,
    from_attributes,
    s3,
    to_attributes,
)
from request_logs.store.items import StoredContent

# Leaves room under DynamoDB's 400 KB item limit for keys and attribute names.
INLINE_BUDGET_BYTES = 350_000


def compress_body(body: Any) -> bytes:
    return gzip.compress(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), mtime=0)


def decompress_body(blob: bytes) -> Any:
    return json.loads(gzip.decompress(blob))


def prepare_content(
    account_id: str, log_id: str, created_ms: int, request: dict[str, Any], response: dict[str, Any] | None
) -> StoredContent:
    """Compress both bodies and spill to S3 what does not fit in an item (S3 puts are idempotent)."""
    bodies = {"request": compress_body(request)}
    if response is not None:
        bodies["response"] = compress_body(response)
    inline: dict[str, bytes] = {}
    spilled: dict[str, str] = {}
    used = 0
    for part, blob in sorted(bodies.items(), key=lambda pair: len(pair[1])):
        if used + len(blob) <= INLINE_BUDGET_BYTES:
            inline[part] = blob
            used += len(blob)
            continue
        object_key = keys.content_object_key(account_id, log_id, part)
        s3().put_object(
            Bucket=get_settings().content_bucket,
            Key=object_key,
            Body=blob,
            ContentType="application/json",
            ContentEncoding="gzip",
        )
        spilled[part] = object_key
    return StoredContent(
        account_id=account_id,
        log_id=log_id,
        expires_at=content_expiry_s(created_ms),
        request_gz=inline.get("request"),
        response_gz=inline.get("response"),
        request_s3_key=spilled.get("request"),
        response_s3_key=spilled.get("response"),
        has_response=response is not None,
    )


def put_contents(contents: list[StoredContent]) -> set[str]:
    """Write content items with BatchWriteItem (25 a call); returns the log ids that could not be written.

    Content puts are unconditional and idempotent, so they batch (a log put, being conditional, cannot).
    Two entries for one log (a message delivered twice in one batch) keep the first: BatchWriteItem
    refuses duplicate keys, and the first is the one whose log the conditional put keeps.
    """
    table = get_settings().content_table
    unique: dict[str, StoredContent] = {}
    for content in contents:
        unique.setdefault(content.log_id, content)
    pending = list(unique.values())
    failed: set[str] = set()
    for start in range(0, len(pending), BATCH_WRITE_LIMIT):
        chunk = pending[start : start + BATCH_WRITE_LIMIT]
        by_pk = {keys.content_pk(c.account_id, c.log_id): c.log_id for c in chunk}
        requests = [{"PutRequest": {"Item": to_attributes(c.to_item())}} for c in chunk]
        try:
            requests = batch_write(table, requests)
        except (BotoCoreError, ClientError):
            requests = [{"PutRequest": {"Item": to_attributes(c.to_item())}} for c in chunk]
        failed.update(by_pk[request["PutRequest"]["Item"]["pk"]["S"]] for request in requests)
    return failed


def get_content(account_id: str, log_id: str, reads: ReadStats | None = None) -> StoredContent | None:
    """The content, or None when it is gone (retention is the caller's check: DynamoDB deletes lazily)."""
    response = dynamodb().get_item(
        TableName=get_settings().content_table, Key={"pk": {"S": keys.content_pk(account_id, log_id)}}
    )
    raw = response.get("Item")
    if reads is not None:
        reads.add(1 if raw is not None else 0)
    if raw is None:
        return None
    return StoredContent.from_item(from_attributes(raw))


def get_contents(account_id: str, log_ids: list[str], reads: ReadStats | None = None) -> dict[str, StoredContent]:
    """The content of each of these logs that is still stored, by log id: BatchGetItem, 100 keys a call
    (an export reads a page's content at once). Retention is the caller's check."""
    table = get_settings().content_table
    found: dict[str, StoredContent] = {}
    for start in range(0, len(log_ids), BATCH_GET_LIMIT):
        chunk = log_ids[start : start + BATCH_GET_LIMIT]
        request: dict[str, Any] = {
            table: {"Keys": [{"pk": {"S": keys.content_pk(account_id, log_id)}} for log_id in chunk]}
        }
        while request:
            response = dynamodb().batch_get_item(RequestItems=request)
            items = response.get("Responses", {}).get(table, [])
            if reads is not None:
                reads.add(len(items))
            for raw in items:
                content = StoredContent.from_item(from_attributes(raw))
                found[content.log_id] = content
            request = response.get("UnprocessedKeys") or {}
    return found


def load_body(content: StoredContent, part: str) -> Any:
    """The decoded request or response body, from the item or from S3."""
    inline: bytes | None = getattr(content, f"{part}_gz")
    if inline is not None:
        return decompress_body(inline)
    object_key: str | None = getattr(content, f"{part}_s3_key")
    if object_key is None:
        return None
    obj = s3().get_object(Bucket=get_settings().content_bucket, Key=object_key)
    return decompress_body(obj["Body"].read())
