"""Export records, the account's export lock, export files in S3 and the export queue.

The exports table holds, per account (``keys.export_pk``), one record per export (``keys.export_sk``) and
one lock item (``keys.EXPORT_LOCK_SK``) naming the export that is queued or running. Every state change is
one conditional write:

- the lock is taken with a conditional put (free, or held by an export that stopped heartbeating), so two
  concurrent creations can never both start (no read-then-write);
- a run claims the record (a lease with a token, for one message step) before it writes anything;
- each part is checkpointed under that lease and step, so a run that lost its lease, or a message for a
  step the export has moved past, can change nothing.

Records carry ``expires_at`` (TTL, 7 days after creation); reads never rely on DynamoDB having deleted
them (``domain/exports.export_visible``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import IO, Any

from request_logs.config import get_settings
from request_logs.domain.exports import ExportFormat, ExportStatus
from request_logs.domain.reads import ReadStats
from request_logs.store import keys
from request_logs.store.dynamo import count_read, dynamodb, from_attributes, s3, sqs, to_attributes


@dataclass(frozen=True)
class StoredPart:
    number: int
    key: str  # the object key in the exports bucket
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class StoredExport:
    account_id: str
    export_id: str
    status: ExportStatus
    format: ExportFormat
    include_content: bool
    filters: dict[str, Any]  # the request's filters as given (echoed by the API and the manifest)
    query: dict[str, Any]  # the resolved query (``logic/exports.query_to_dict``)
    created_ms: int
    expires_at: int  # TTL, epoch seconds
    heartbeat_ms: int  # the last claim or checkpoint: an active export silent for long has stalled
    step: int = 0  # checkpoints so far; a message names the step it continues
    claimed_step: int = 0  # the step of the message whose run holds (or last held) the lease
    rows: int = 0
    total: int | None = None
    parts: tuple[StoredPart, ...] = ()
    cursor: dict[str, Any] | None = None  # where the walk stands after the last part (``cursors.state_to_dict``)
    started_ms: int | None = None
    finished_ms: int | None = None
    error: str | None = None
    manifest_key: str | None = None
    lease_token: str | None = None
    lease_until_ms: int = 0
    range_ms: tuple[int, int] | None = None  # the range the walk covered, once its first page is read

    def lease_held(self, now_ms: int) -> bool:
        return self.lease_until_ms > now_ms


# Stored as JSON text: a walk position may hold a float (a bound's selectivity), which DynamoDB's number
# type refuses, and filters keep the types the client sent.
_JSON_ATTRIBUTES = ("filters", "query", "cursor")


def _to_item(record: StoredExport) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": keys.export_pk(record.account_id),
        "sk": keys.export_sk(record.export_id),
        "account_id": record.account_id,
        "export_id": record.export_id,
        "status": record.status,
        "format": record.format,
        "include_content": record.include_content,
        "created_ms": record.created_ms,
        "expires_at": record.expires_at,
        "heartbeat_ms": record.heartbeat_ms,
        "step": record.step,
        "claimed_step": record.claimed_step,
        "rows": record.rows,
        "parts": [_part_item(part) for part in record.parts],
        "lease_until_ms": record.lease_until_ms,
    }
    for name in _JSON_ATTRIBUTES:
        value = getattr(record, name)
        if value is not None:
            item[name] = json.dumps(value, separators=(",", ":"))
    for name in ("total", "started_ms", "finished_ms", "error", "manifest_key", "lease_token"):
        value = getattr(record, name)
        if value is not None:
            item[name] = value
    return item


def _part_item(part: StoredPart) -> dict[str, Any]:
    return {"number": part.number, "key": part.key, "rows": part.rows, "bytes": part.bytes, "sha256": part.sha256}


def _from_item(item: dict[str, Any]) -> StoredExport:
    def optional_int(name: str) -> int | None:
        value = item.get(name)
        return int(value) if value is not None else None

    range_start, range_end = optional_int("range_start_ms"), optional_int("range_end_ms")
    return StoredExport(
        account_id=str(item["account_id"]),
        export_id=str(item["export_id"]),
        status=item["status"],
        format=item["format"],
        include_content=bool(item["include_content"]),
        filters=json.loads(item["filters"]),
        query=json.loads(item["query"]),
        created_ms=int(item["created_ms"]),
        expires_at=int(item["expires_at"]),
        heartbeat_ms=int(item["heartbeat_ms"]),
        step=int(item.get("step", 0)),
        claimed_step=int(item.get("claimed_step", 0)),
        rows=int(item.get("rows", 0)),
        total=optional_int("total"),
        parts=tuple(
            StoredPart(int(p["number"]), str(p["key"]), int(p["rows"]), int(p["bytes"]), str(p["sha256"]))
            for p in item.get("parts", [])
        ),
        cursor=json.loads(item["cursor"]) if "cursor" in item else None,
        started_ms=optional_int("started_ms"),
        finished_ms=optional_int("finished_ms"),
        error=item.get("error"),
        manifest_key=item.get("manifest_key"),
        lease_token=item.get("lease_token"),
        lease_until_ms=int(item.get("lease_until_ms", 0)),
        range_ms=(range_start, range_end) if range_start is not None and range_end is not None else None,
    )


def _key(account_id: str, export_id: str) -> dict[str, Any]:
    return {"pk": {"S": keys.export_pk(account_id)}, "sk": {"S": keys.export_sk(export_id)}}


def _conditional(call: Any, **params: Any) -> bool:
    """Run a conditional write; False when its condition failed."""
    client = dynamodb()
    try:
        call(TableName=get_settings().exports_table, **params)
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


# ------------------------------------------------------------------ the account's lock
def _lock_item(account_id: str, export_id: str, until_ms: int) -> dict[str, Any]:
    """The account's lock, held by ``export_id`` until ``until_ms``."""
    return to_attributes(
        {
            "pk": keys.export_pk(account_id),
            "sk": keys.EXPORT_LOCK_SK,
            "export_id": export_id,
            "lock_until_ms": until_ms,
            # The lock outlives its export by nothing: TTL at the latest instant it could matter.
            "expires_at": until_ms // 1000 + 1,
        }
    )


def acquire_lock(account_id: str, export_id: str, *, now_ms: int, until_ms: int) -> str | None:
    """Take the account's export lock for ``export_id``; None when taken, else the id of the export that
    holds it. One conditional put: free, or held by an export that stopped heartbeating (its
    ``lock_until_ms`` is past)."""
    client = dynamodb()
    try:
        client.put_item(
            TableName=get_settings().exports_table,
            Item=_lock_item(account_id, export_id, until_ms),
            ConditionExpression="attribute_not_exists(pk) OR lock_until_ms < :now",
            ExpressionAttributeValues={":now": {"N": str(now_ms)}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client.exceptions.ConditionalCheckFailedException as exc:
        held = from_attributes(exc.response.get("Item") or {})
        return str(held.get("export_id", "unknown"))
    return None


def refresh_lock(account_id: str, export_id: str, *, now_ms: int, until_ms: int) -> bool:
    """Extend the lock while ``export_id`` holds it (or take it back, when free or stale); False when another
    export holds it."""
    return _conditional(
        dynamodb().put_item,
        Item=_lock_item(account_id, export_id, until_ms),
        ConditionExpression="attribute_not_exists(pk) OR export_id = :me OR lock_until_ms < :now",
        ExpressionAttributeValues={":me": {"S": export_id}, ":now": {"N": str(now_ms)}},
    )


def abandon(record: StoredExport, *, error: str) -> None:
    """A new export that could not be queued: its record says so (unless a run has already taken it up)
    and its lock is expired at once, with the same puts that created them (the creating function writes
    nothing else)."""
    failed = replace(record, status="failed", error=error, finished_ms=record.created_ms)
    _conditional(
        dynamodb().put_item,
        Item=to_attributes(_to_item(failed)),
        ConditionExpression="attribute_not_exists(pk) OR (#status = :queued AND #step = :zero)",
        ExpressionAttributeNames={"#status": "status", "#step": "step"},
        ExpressionAttributeValues={":queued": {"S": "queued"}, ":zero": {"N": "0"}},
    )
    _conditional(
        dynamodb().put_item,
        Item=to_attributes(
            {
                "pk": keys.export_pk(record.account_id),
                "sk": keys.EXPORT_LOCK_SK,
                "export_id": record.export_id,
                "lock_until_ms": 0,
                "expires_at": record.created_ms // 1000 + 1,
            }
        ),
        ConditionExpression="export_id = :me",
        ExpressionAttributeValues={":me": {"S": record.export_id}},
    )


def release_lock(account_id: str, export_id: str) -> None:
    """Free the lock if ``export_id`` holds it (a newer export's lock is left alone)."""
    _conditional(
        dynamodb().delete_item,
        Key={"pk": {"S": keys.export_pk(account_id)}, "sk": {"S": keys.EXPORT_LOCK_SK}},
        ConditionExpression="export_id = :me",
        ExpressionAttributeValues={":me": {"S": export_id}},
    )


# ------------------------------------------------------------------ records
def put_export(record: StoredExport) -> None:
    """A new export's record (ids are random: the condition only guards against a collision)."""
    dynamodb().put_item(
        TableName=get_settings().exports_table,
        Item=to_attributes(_to_item(record)),
        ConditionExpression="attribute_not_exists(pk)",
    )


def get_export(account_id: str, export_id: str, reads: ReadStats | None = None) -> StoredExport | None:
    """The caller's export with this id, read consistently, or None (another account's id is a key the
    caller does not have). Whether it has expired is the caller's check."""
    response = dynamodb().get_item(
        TableName=get_settings().exports_table, Key=_key(account_id, export_id), ConsistentRead=True
    )
    raw = response.get("Item")
    if reads is not None:
        reads.add(1)
    return _from_item(from_attributes(raw)) if raw else None


def _range_params(account_id: str, from_ms: int, before_export_id: str | None) -> dict[str, Any]:
    high = keys.export_sk(before_export_id) if before_export_id is not None else keys.export_sk_high()
    return {
        "TableName": get_settings().exports_table,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.export_pk(account_id)},
            ":lo": {"S": keys.export_sk_from(from_ms)},
            ":hi": {"S": high},
        },
    }


def count_exports(account_id: str, *, from_ms: int, reads: ReadStats) -> int:
    """The account's exports created at or after ``from_ms`` (what retention leaves visible)."""
    params = {**_range_params(account_id, from_ms, None), "Select": "COUNT"}
    total = 0
    while True:
        response = dynamodb().query(**params)
        count_read(reads, response)
        total += int(response["Count"])
        if "LastEvaluatedKey" not in response:
            return total
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def export_page(
    account_id: str, *, from_ms: int, skip: int, limit: int, before_export_id: str | None, reads: ReadStats
) -> tuple[list[StoredExport], bool]:
    """Exports ``skip .. skip+limit`` newest first (created at or after ``from_ms``, before the export
    ``before_export_id`` when a cursor gives one), and whether more follow."""
    params = {**_range_params(account_id, from_ms, before_export_id), "ScanIndexForward": False}
    wanted = skip + limit + 1
    found: list[StoredExport] = []
    while len(found) < wanted:
        response = dynamodb().query(**params, Limit=min(wanted - len(found) + 1, 1000))
        count_read(reads, response)
        for raw in response.get("Items", []):
            record = _from_item(from_attributes(raw))
            if record.export_id != before_export_id:  # BETWEEN is inclusive: the cursor's own export
                found.append(record)
        if "LastEvaluatedKey" not in response:
            break
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    page = found[skip : skip + limit]
    return page, len(found) > skip + limit


# ------------------------------------------------------------------ a run's lease and checkpoints
def claim(
    account_id: str, export_id: str, *, step: int, token: str, now_ms: int, lease_until_ms: int
) -> StoredExport | None:
    """Take the export's lease for the run of the message of ``step``: the export is active, the message
    continues its current step (or is the one whose run held the lease, redelivered after a crash), and no
    live run holds the lease. The record as claimed (None when the condition failed): read in the same
    write, so no checkpoint can slip between a read and the claim."""
    client = dynamodb()
    try:
        response = client.update_item(
            TableName=get_settings().exports_table,
            Key=_key(account_id, export_id),
            UpdateExpression=(
                "SET #status = :running, claimed_step = :step, lease_token = :token, lease_until_ms = :until, "
                "heartbeat_ms = :now, started_ms = if_not_exists(started_ms, :now)"
            ),
            ConditionExpression=(
                "#status IN (:queued, :running) AND (#step = :step OR claimed_step = :step) AND lease_until_ms < :now"
            ),
            ExpressionAttributeNames={"#status": "status", "#step": "step"},
            ExpressionAttributeValues={
                ":queued": {"S": "queued"},
                ":running": {"S": "running"},
                ":step": {"N": str(step)},
                ":token": {"S": token},
                ":until": {"N": str(lease_until_ms)},
                ":now": {"N": str(now_ms)},
            },
            ReturnValues="ALL_NEW",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return _from_item(from_attributes(response["Attributes"]))


def save_walk(account_id: str, export_id: str, *, token: str, total: int, range_ms: tuple[int, int]) -> bool:
    """The filtered total and the range the walk covers, known from its first page."""
    return _conditional(
        dynamodb().update_item,
        Key=_key(account_id, export_id),
        UpdateExpression="SET #total = :total, range_start_ms = :start, range_end_ms = :end",
        ConditionExpression="lease_token = :token",
        ExpressionAttributeNames={"#total": "total"},
        ExpressionAttributeValues={
            ":total": {"N": str(total)},
            ":start": {"N": str(range_ms[0])},
            ":end": {"N": str(range_ms[1])},
            ":token": {"S": token},
        },
    )


def checkpoint(
    account_id: str,
    export_id: str,
    *,
    token: str,
    step: int,
    part: StoredPart | None,
    cursor: dict[str, Any] | None,
    rows: int,
    now_ms: int,
) -> bool:
    """Record a written part (or only the position) as step ``step + 1``: conditional on this run's lease
    and on the export still being at ``step``, so nothing is recorded twice."""
    updates = ["#step = :next", "#rows = :rows", "heartbeat_ms = :now"]
    values: dict[str, Any] = {
        ":next": {"N": str(step + 1)},
        ":step": {"N": str(step)},
        ":rows": {"N": str(rows)},
        ":now": {"N": str(now_ms)},
        ":token": {"S": token},
    }
    removes = []
    if part is not None:
        updates.append("parts = list_append(parts, :part)")
        values[":part"] = {"L": [{"M": to_attributes(_part_item(part))}]}
    if cursor is not None:
        updates.append("#cursor = :cursor")
        values[":cursor"] = {"S": json.dumps(cursor, separators=(",", ":"))}
    else:
        removes.append("#cursor")
    expression = "SET " + ", ".join(updates) + (" REMOVE " + ", ".join(removes) if removes else "")
    return _conditional(
        dynamodb().update_item,
        Key=_key(account_id, export_id),
        UpdateExpression=expression,
        ConditionExpression="lease_token = :token AND #step = :step",
        ExpressionAttributeNames={"#step": "step", "#rows": "rows", "#cursor": "cursor"},
        ExpressionAttributeValues=values,
    )


def hand_over(account_id: str, export_id: str, *, token: str, step: int) -> bool:
    """End this run's lease once the message of ``step`` (the export's step now) is on the queue: that
    message claims next, and the message of this run becomes one for a step the export has moved past."""
    return _conditional(
        dynamodb().update_item,
        Key=_key(account_id, export_id),
        UpdateExpression="SET lease_until_ms = :zero, claimed_step = :step",
        ConditionExpression="lease_token = :token AND #step = :step",
        ExpressionAttributeNames={"#step": "step"},
        ExpressionAttributeValues={":zero": {"N": "0"}, ":step": {"N": str(step)}, ":token": {"S": token}},
    )


def finish(
    account_id: str,
    export_id: str,
    *,
    token: str | None,
    status: ExportStatus,
    now_ms: int,
    manifest_key: str | None = None,
    error: str | None = None,
) -> bool:
    """The export's end (succeeded or failed), under the run's lease when ``token`` is given, else only
    while it is still active; the lease ends with it."""
    updates = ["#status = :status", "finished_ms = :now", "heartbeat_ms = :now", "lease_until_ms = :zero"]
    values: dict[str, Any] = {":status": {"S": status}, ":now": {"N": str(now_ms)}, ":zero": {"N": "0"}}
    if manifest_key is not None:
        updates.append("manifest_key = :manifest")
        values[":manifest"] = {"S": manifest_key}
    if error is not None:
        updates.append("#error = :error")
        values[":error"] = {"S": error[:1000]}
    if token is not None:
        condition = "lease_token = :token AND #status IN (:queued, :running)"
        values[":token"] = {"S": token}
    else:
        condition = "#status IN (:queued, :running)"
    values[":queued"], values[":running"] = {"S": "queued"}, {"S": "running"}
    names = {"#status": "status", **({"#error": "error"} if error is not None else {})}
    return _conditional(
        dynamodb().update_item,
        Key=_key(account_id, export_id),
        UpdateExpression="SET " + ", ".join(updates),
        ConditionExpression=condition,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def release_lease(account_id: str, export_id: str, *, token: str) -> None:
    """End this run's lease early (it failed): a redelivery of its message may then claim at once."""
    _conditional(
        dynamodb().update_item,
        Key=_key(account_id, export_id),
        UpdateExpression="SET lease_until_ms = :zero",
        ConditionExpression="lease_token = :token",
        ExpressionAttributeValues={":zero": {"N": "0"}, ":token": {"S": token}},
    )


# ------------------------------------------------------------------ the queue
def send_export_message(body: dict[str, Any]) -> None:
    sqs().send_message(QueueUrl=get_settings().export_queue_url, MessageBody=json.dumps(body))


# ------------------------------------------------------------------ files
@dataclass(frozen=True)
class ExportFile:
    key: str
    content_type: str
    download_name: str  # what a browser saves it as
    extra: dict[str, str] = field(default_factory=dict)


def upload(file: ExportFile, body: IO[bytes]) -> None:
    """One PUT of a finished part or manifest, streamed from ``body`` (a part is written to local disk
    first: nothing but the file handle is held in memory). No Content-Encoding: the bytes downloaded are
    the bytes checksummed, never transparently decompressed on the way."""
    s3().put_object(
        Bucket=get_settings().exports_bucket,
        Key=file.key,
        Body=body,
        ContentType=file.content_type,
        ContentDisposition=f'attachment; filename="{file.download_name}"',
    )


def presigned_url(file: ExportFile, *, expires_s: int) -> str:
    """A GET URL of the object, valid ``expires_s`` seconds; signed locally (no AWS call). Never log it: it
    grants the download to whoever holds it."""
    url: str = s3().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": get_settings().exports_bucket,
            "Key": file.key,
            "ResponseContentDisposition": f'attachment; filename="{file.download_name}"',
        },
        ExpiresIn=expires_s,
    )
    return url
