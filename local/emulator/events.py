"""Builders for the events Lambda receives: REST proxy (v1), REQUEST authorizer, SQS, so the local
gateway, the pollers and the tests all produce the same shapes as API Gateway and Lambda do."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any
from urllib.parse import quote

from local.stack.template import ACCOUNT, REGION

API_ID = "localapi01"


def method_arn(stage: str, method: str, resource_path: str) -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{stage}/{method}{resource_path}"


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # API Gateway keeps the last value in the single-value map
        multi.setdefault(name, []).append(value)
    return single, multi


def rest_proxy_event(
    *,
    method: str,
    resource: str,
    path: str,
    stage: str,
    query: list[tuple[str, str]] | None = None,
    headers: list[tuple[str, str]] | None = None,
    path_parameters: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    body: str | None = None,
) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy integration event."""
    single_headers, multi_headers = _single_and_multi(headers or [])
    single_query, multi_query = _single_and_multi(query or [])
    request_time = time.time()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": hashlib.sha256(resource.encode()).hexdigest()[:6],
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(request_time)),
            "path": f"/{stage}{quote(path)}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(request_time * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": (single_headers or {}).get("User-Agent")},
            "domainName": "localhost",
            "apiId": API_ID,
            "authorizer": authorizer,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def authorizer_request_event(
    *,
    stage: str,
    method: str,
    resource: str,
    path: str,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The event a REQUEST authorizer receives."""
    return {
        "type": "REQUEST",
        "methodArn": method_arn(stage, method, path),
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "queryStringParameters": query or {},
        "pathParameters": path_parameters or {},
        "stageVariables": {},
        "requestContext": {
            "stage": stage,
            "httpMethod": method,
            "resourcePath": resource,
            "apiId": API_ID,
            "accountId": ACCOUNT,
            "requestId": str(uuid.uuid4()),
        },
    }


def sqs_record(
    body: str,
    *,
    queue_arn: str,
    message_id: str | None = None,
    receive_count: int = 1,
    receipt_handle: str | None = None,
) -> dict[str, Any]:
    now_ms = str(int(time.time() * 1000))
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt_handle or uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": now_ms,
            "SenderId": ACCOUNT,
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def dynamodb_stream_record(
    *,
    event_name: str,
    keys: dict[str, Any],
    sequence_number: str,
    stream_arn: str,
    new_image: dict[str, Any] | None = None,
    old_image: dict[str, Any] | None = None,
    ttl_deletion: bool = False,
    created_s: float | None = None,
) -> dict[str, Any]:
    """One DynamoDB stream record as Lambda delivers it (images in DynamoDB attribute-value form).

    ``ttl_deletion`` marks a REMOVE made by the TTL process, which carries ``userIdentity``
    ``dynamodb.amazonaws.com`` exactly as DynamoDB emits it.
    """
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": created_s if created_s is not None else time.time(),
        "Keys": keys,
        "SequenceNumber": sequence_number,
        "SizeBytes": 256,
        "StreamViewType": "NEW_IMAGE",
    }
    if new_image is not None:
        change["NewImage"] = new_image
    if old_image is not None:
        change["OldImage"] = old_image
    record: dict[str, Any] = {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }
    if ttl_deletion:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


def dynamodb_stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
