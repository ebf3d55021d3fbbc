"""The world the files in ``events/`` describe, so that they mean what their names say on a fresh stack.

``events/`` holds raw Lambda events, the files ``sam local invoke -e`` takes. The API events name logs
by id and carry the authorizer context of a key; the authorizer events carry API keys. This module
creates the accounts and keys those events refer to and ingests ``events/sqs/ingest_good.json``
through the real IngestFunction, which writes exactly the logs whose ids the API events use (a log id
is derived from account, request id and creation time, so it is the same on every fresh stack).

Time: the fixture logs have fixed creation dates while retention is relative to now (logs 90 days,
content 30 days), so the events only mean what their names say at a fixed instant, ``EVENTS_NOW``.
Callers pin the clock there (``python -m local.invoke`` by default, the tests always); at that instant
``details_expired.json`` names a log whose content is past 30 days while the log is within 90 days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.emulator.events import dynamodb_stream_event
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_reader import StreamReader
from local.stack.template import ROOT
from request_logs.logic.accounts import create_account, create_api_key, revoke_api_key

EVENTS_DIR = ROOT / "events"
# Shortly after the newest fixture log (2026-11-20T11:45Z) and the tests' NOW.
EVENTS_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SEED_INGEST_EVENT = EVENTS_DIR / "sqs" / "ingest_good.json"


@dataclass(frozen=True)
class FixtureAccount:
    account_id: str
    name: str
    # Stands in for the API Gateway key a deployed stack links to its usage plan: the authorizer
    # returns it as usageIdentifierKey.
    usage_identifier: str


@dataclass(frozen=True)
class FixtureKey:
    """A key the events refer to. The plaintexts are test values, published in ``events/``, never secrets."""

    account_id: str
    api_key_id: str
    api_key: str
    name: str
    revoked: bool = False


ACCOUNT = FixtureAccount("acct_events", "Event fixtures", "usageKeyEventsTestOnly00000000")
OTHER_ACCOUNT = FixtureAccount("acct_eventsOther", "Event fixtures (other tenant)", "usageKeyEventsOtherTestOnly000")

# The key of events/authorizer/valid.json, and the one whose context every API event carries.
VALID_KEY = FixtureKey(ACCOUNT.account_id, "key_eventsValid", "sk-TESTvalidEventFixtureKeyNotASecret000000", "valid")
# The key of events/authorizer/revoked.json.
REVOKED_KEY = FixtureKey(
    ACCOUNT.account_id, "key_eventsRevoked", "sk-REVKrevokedEventFixtureKeyNotASecret0000", "revoked", revoked=True
)
# The other tenant's key, which sent the log events/api/get_other_account.json asks for.
OTHER_KEY = FixtureKey(
    OTHER_ACCOUNT.account_id, "key_eventsOther", "sk-OTHRotherTenantFixtureKeyNotASecret00000", "other"
)

ACCOUNTS = (ACCOUNT, OTHER_ACCOUNT)
KEYS = (VALID_KEY, REVOKED_KEY, OTHER_KEY)


def load_event(path: Path | str) -> dict[str, Any]:
    with Path(path).open() as handle:
        event: dict[str, Any] = json.load(handle)
    return event


def sqs_consumer(functions: FunctionRegistry) -> str:
    """The function the template subscribes to the ingest queue."""
    (function,) = (
        logical
        for logical, spec in functions.specs.items()
        if any(
            event["Type"] == "SQS" and event["Properties"]["Queue"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}
            for event in spec.events.values()
        )
    )
    return function


def stream_consumer(functions: FunctionRegistry) -> str:
    """The function the template subscribes to the logs table's stream (the stats aggregator)."""
    (function,) = (
        logical
        for logical, spec in functions.specs.items()
        if any(event["Type"] == "DynamoDB" for event in spec.events.values())
    )
    return function


def seed_event_fixtures(functions: FunctionRegistry, logs_stream_arn: str) -> None:
    """Create the fixture accounts and keys, ingest ``ingest_good.json`` and aggregate its logs (on an
    empty stack, once): the stats events answer from the rollups, as on a deployed stack a few seconds on.

    Run it with the clock pinned at ``EVENTS_NOW`` so the accounts and keys are created when the
    events say they were used.
    """
    for account in ACCOUNTS:
        create_account(account.name, account.account_id, usage_identifier=account.usage_identifier)
    for key in KEYS:
        create_api_key(key.account_id, name=key.name, api_key=key.api_key, api_key_id=key.api_key_id)
        if key.revoked:
            revoke_api_key(key.account_id, key.api_key_id)
    result = functions.invoke(sqs_consumer(functions), load_event(SEED_INGEST_EVENT))
    if result["batchItemFailures"]:
        raise RuntimeError(f"{SEED_INGEST_EVENT.name} no longer ingests cleanly: {result['batchItemFailures']}")
    reader = StreamReader(logs_stream_arn)
    while polled := reader.poll():
        for records in polled.values():
            outcome = functions.invoke(stream_consumer(functions), dynamodb_stream_event(records))
            if outcome["batchItemFailures"]:
                raise RuntimeError(f"the fixture logs no longer aggregate cleanly: {outcome['batchItemFailures']}")
