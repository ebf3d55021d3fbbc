"""Demo accounts: created with the package's own use cases, linked to the usage plan, with API keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from local.demo.messages import DemoKey
from request_logs.domain.api_keys import generate_id
from request_logs.logic import accounts

# The demo traffic's metadata keys (local/demo/messages.py), indexed so that `make run` shows metadata
# filters and groupings: declared before any log arrives, so nothing needs a backfill.
DEMO_METADATA_KEYS = ("feature", "environment")


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    api_key: str  # the plaintext of the first key: shown once, as on creation
    keys: list[DemoKey]  # every key of the account; its demo traffic is spread over them
    api_keys: list[str]  # the plaintexts of ``keys``, in the same order


def create_demo_account(
    name: str,
    key_names: Sequence[str],
    *,
    usage_identifier_per_key: bool = False,
    metadata_keys: Sequence[str] = (),
) -> DemoAccount:
    """An account linked to the usage plan, with one API key per name, indexing ``metadata_keys``.

    The account's usage identifier links it, as ``admin create-account`` does; with
    ``usage_identifier_per_key`` each key has its own instead, as ``admin create-key --stack`` makes them on
    a deployed stack (one API Gateway key each), so that the throttles apply per key.
    """
    if usage_identifier_per_key:
        account = accounts.create_account(name)
        created = [
            accounts.create_api_key(account.account_id, name=key_name, usage_identifier=generate_id("usage"))
            for key_name in key_names
        ]
    else:
        account = accounts.create_account(name, usage_identifier=generate_id("usage"))
        created = [accounts.create_api_key(account.account_id, name=key_name) for key_name in key_names]
    for key in metadata_keys:
        accounts.index_metadata_key(account.account_id, key)
    demo_keys = [DemoKey(key.record.api_key_id, key.record.prefix) for key in created]
    return DemoAccount(account.account_id, created[0].api_key, demo_keys, [key.api_key for key in created])
