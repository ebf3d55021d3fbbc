"""Accounts and API keys. Keys are stored only as SHA-256 hashes; the plaintext is shown once.

Each key is two items written together: ``KEY#<hash>`` (what the authorizer looks up) and
``ACCOUNT#<id> / KEY#<key id>`` (what listing an account's keys reads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from request_logs.config import get_settings
from request_logs.store import keys
from request_logs.store.dynamo import dynamodb, from_attributes, to_attributes


@dataclass(frozen=True)
class StoredApiKey:
    key_hash: str
    api_key_id: str
    account_id: str
    prefix: str
    status: str  # "active" | "revoked"
    created_ms: int
    usage_identifier: str | None = None
    name: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class StoredAccount:
    account_id: str
    name: str
    created_ms: int
    usage_identifier: str | None = None
    # Indexed metadata keys → their slot (1..5): which ``by_metadata_<slot>`` index ingest puts them in
    # (``store/indexes``). The attribute ``metadata_slots``, a map; absent on accounts that index none.
    metadata_slots: dict[str, int] = field(default_factory=dict)
    # Indexed key → [start, end) ms of the days whose key rollups still lack the logs stored before the
    # key was declared (the rebuild could not cover them yet): no totals from those rollups meanwhile.
    metadata_pending: dict[str, tuple[int, int]] = field(default_factory=dict)


class AccountChanged(Exception):
    """The account's indexed keys changed since they were read: read again."""


def _key_item(key: StoredApiKey) -> dict[str, Any]:
    return {name: value for name, value in key.__dict__.items() if value is not None}


def _key_from(item: dict[str, Any]) -> StoredApiKey:
    fields = StoredApiKey.__dataclass_fields__
    values = {name: value for name, value in item.items() if name in fields}
    values["created_ms"] = int(values["created_ms"])
    return StoredApiKey(**values)


def get_key_by_hash(key_hash: str) -> StoredApiKey | None:
    response = dynamodb().get_item(
        TableName=get_settings().api_keys_table,
        Key={"pk": {"S": keys.api_key_item_pk(key_hash)}, "sk": {"S": keys.API_KEY_SK}},
    )
    raw = response.get("Item")
    return _key_from(from_attributes(raw)) if raw else None


def put_account(account: StoredAccount) -> None:
    item = {name: value for name, value in account.__dict__.items() if value is not None and value != {}}
    dynamodb().put_item(
        TableName=get_settings().api_keys_table,
        Item=to_attributes({"pk": keys.account_pk(account.account_id), "sk": keys.ACCOUNT_SK, **item}),
        ConditionExpression="attribute_not_exists(pk)",
    )


def get_account(account_id: str) -> StoredAccount | None:
    response = dynamodb().get_item(
        TableName=get_settings().api_keys_table,
        Key={"pk": {"S": keys.account_pk(account_id)}, "sk": {"S": keys.ACCOUNT_SK}},
    )
    raw = response.get("Item")
    if not raw:
        return None
    item = from_attributes(raw)
    return StoredAccount(
        account_id=item["account_id"],
        name=item["name"],
        created_ms=int(item["created_ms"]),
        usage_identifier=item.get("usage_identifier"),
        metadata_slots={str(key): int(slot) for key, slot in (item.get("metadata_slots") or {}).items()},
        metadata_pending={
            str(key): (int(span[0]), int(span[1])) for key, span in (item.get("metadata_pending") or {}).items()
        },
    )


def set_metadata_pending(account_id: str, pending: dict[str, tuple[int, int]]) -> None:
    """Replace the account's pending key rollups (``StoredAccount.metadata_pending``); an admin write."""
    dynamodb().update_item(
        TableName=get_settings().api_keys_table,
        Key={"pk": {"S": keys.account_pk(account_id)}, "sk": {"S": keys.ACCOUNT_SK}},
        UpdateExpression="SET #pending = :pending",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#pending": "metadata_pending"},
        ExpressionAttributeValues={
            ":pending": to_attributes({"v": {key: list(span) for key, span in pending.items()}})["v"]
        },
    )


def set_metadata_slots(account_id: str, before: dict[str, int], after: dict[str, int]) -> None:
    """Replace the account's indexed keys, on the condition that they are still ``before`` (two admins
    declaring keys at once must not hand out one slot twice). Raises AccountChanged otherwise."""
    client = dynamodb()
    names = {"#slots": "metadata_slots"}
    values: dict[str, Any] = {":after": to_attributes({"v": after})["v"]}
    if before:
        condition = "#slots = :before"
        values[":before"] = to_attributes({"v": before})["v"]
    else:
        condition = "attribute_exists(pk) AND (attribute_not_exists(#slots) OR size(#slots) = :zero)"
        values[":zero"] = {"N": "0"}
    try:
        client.update_item(
            TableName=get_settings().api_keys_table,
            Key={"pk": {"S": keys.account_pk(account_id)}, "sk": {"S": keys.ACCOUNT_SK}},
            UpdateExpression="SET #slots = :after",
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except client.exceptions.ConditionalCheckFailedException as exc:
        raise AccountChanged(account_id) from exc


def put_key(key: StoredApiKey) -> None:
    """Both items of a new key, atomically, and only if the account exists."""
    table = get_settings().api_keys_table
    item = _key_item(key)
    dynamodb().transact_write_items(
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"pk": {"S": keys.account_pk(key.account_id)}, "sk": {"S": keys.ACCOUNT_SK}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": to_attributes({"pk": keys.api_key_item_pk(key.key_hash), "sk": keys.API_KEY_SK, **item}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": to_attributes(
                        {"pk": keys.account_pk(key.account_id), "sk": keys.account_key_sk(key.api_key_id), **item}
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )


def list_keys(account_id: str) -> list[StoredApiKey]:
    client = dynamodb()
    params: dict[str, Any] = {
        "TableName": get_settings().api_keys_table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :key)",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.account_pk(account_id)},
            ":key": {"S": keys.ACCOUNT_KEY_SK_PREFIX},
        },
    }
    found: list[StoredApiKey] = []
    while True:
        response = client.query(**params)
        found.extend(_key_from(from_attributes(raw)) for raw in response["Items"])
        if "LastEvaluatedKey" not in response:
            return found
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def revoke_key(account_id: str, api_key_id: str) -> StoredApiKey | None:
    """Mark both items of the key revoked; None if the account has no such key."""
    table = get_settings().api_keys_table
    listed = (
        dynamodb()
        .get_item(
            TableName=table,
            Key={"pk": {"S": keys.account_pk(account_id)}, "sk": {"S": keys.account_key_sk(api_key_id)}},
        )
        .get("Item")
    )
    if not listed:
        return None
    key = _key_from(from_attributes(listed))
    update = {
        "UpdateExpression": "SET #st = :revoked",
        "ExpressionAttributeNames": {"#st": "status"},
        "ExpressionAttributeValues": {":revoked": {"S": "revoked"}},
        "ConditionExpression": "attribute_exists(pk)",
    }
    dynamodb().transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": keys.api_key_item_pk(key.key_hash)}, "sk": {"S": keys.API_KEY_SK}},
                    **update,
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": keys.account_pk(account_id)}, "sk": {"S": keys.account_key_sk(api_key_id)}},
                    **update,
                }
            },
        ]
    )
    return StoredApiKey(**{**key.__dict__, "status": "revoked"})
