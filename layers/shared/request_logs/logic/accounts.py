"""Accounts and API keys for the admin CLI and the local runtime's demo accounts."""

from __future__ import annotations

from dataclasses import dataclass

from request_logs.domain.api_keys import display_prefix, generate_api_key, generate_id, hash_api_key
from request_logs.domain.timeutil import now_ms
from request_logs.store import api_keys as key_store
from request_logs.store.api_keys import StoredAccount, StoredApiKey


class UnknownAccount(Exception):
    pass


@dataclass(frozen=True)
class NewApiKey:
    """A freshly created key: ``api_key`` is the only time the plaintext exists outside the caller."""

    api_key: str
    record: StoredApiKey


def create_account(name: str, account_id: str | None = None, usage_identifier: str | None = None) -> StoredAccount:
    account = StoredAccount(
        account_id=account_id or generate_id("acct"),
        name=name,
        created_ms=now_ms(),
        usage_identifier=usage_identifier,
    )
    key_store.put_account(account)
    return account


def create_api_key(
    account_id: str,
    *,
    name: str | None = None,
    usage_identifier: str | None = None,
    api_key: str | None = None,
    api_key_id: str | None = None,
) -> NewApiKey:
    """A new key for an existing account. ``api_key`` lets fixtures pin a known key; never in production.

    ``api_key_id`` lets a caller name things after the key before it exists (the admin CLI names the
    API Gateway key linked to it; event fixtures pin a known id); by default one is generated.
    """
    account = key_store.get_account(account_id)
    if account is None:
        raise UnknownAccount(account_id)
    plaintext = api_key or generate_api_key()
    record = StoredApiKey(
        key_hash=hash_api_key(plaintext),
        api_key_id=api_key_id or generate_id("key"),
        account_id=account_id,
        prefix=display_prefix(plaintext),
        status="active",
        created_ms=now_ms(),
        usage_identifier=usage_identifier or account.usage_identifier,
        name=name,
    )
    key_store.put_key(record)
    return NewApiKey(plaintext, record)


def list_api_keys(account_id: str) -> list[StoredApiKey]:
    return sorted(key_store.list_keys(account_id), key=lambda key: key.created_ms)


def revoke_api_key(account_id: str, api_key_id: str) -> StoredApiKey | None:
    return key_store.revoke_key(account_id, api_key_id)
