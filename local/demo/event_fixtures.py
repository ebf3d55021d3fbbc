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
from request_logs.domain.exports import export_expiry_s, make_export_id
from request_logs.domain.filters import LogQuery
from request_logs.domain.timeutil import END_OF_TIME_MS, parse_instant, to_ms
from request_logs.logic.accounts import create_account, create_api_key, revoke_api_key
from request_logs.logic.exports import query_to_dict
from request_logs.store import exports as export_store

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


# The export events/sqs/export_*.json run: queued by acct_events a minute before EVENTS_NOW, every log of
# the account since 2026-09-01 (the five of ingest_good.json), NDJSON. A fixed id, so the files can name it.
FIXTURE_EXPORT_CREATED_MS = to_ms(EVENTS_NOW) - 60_000
FIXTURE_EXPORT_ID = make_export_id(FIXTURE_EXPORT_CREATED_MS, 0x5EED_E0E0_0000_0001)
FIXTURE_EXPORT_FILTERS = {"start_date": "2026-09-01"}


def load_event(path: Path | str) -> dict[str, Any]:
    with Path(path).open() as handle:
        event: dict[str, Any] = json.load(handle)
    return event


def sqs_consumer(functions: FunctionRegistry, queue: str = "IngestQueue") -> str:
    """The function the template subscribes to a queue (by its logical id; the ingest queue by default)."""
    (function,) = (
        logical
        for logical, spec in functions.specs.items()
        if any(
            event["Type"] == "SQS" and event["Properties"]["Queue"] == {"Fn::GetAtt": [queue, "Arn"]}
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


def seed_fixture_export() -> None:
    """The queued export the export events run (``FIXTURE_EXPORT_ID``), as ``POST …/exports`` leaves it:
    its record and the account's lock (the start message is the event file itself)."""
    query = LogQuery(ACCOUNT.account_id, parse_instant(FIXTURE_EXPORT_FILTERS["start_date"]), END_OF_TIME_MS)
    created = FIXTURE_EXPORT_CREATED_MS
    if export_store.acquire_lock(ACCOUNT.account_id, FIXTURE_EXPORT_ID, now_ms=created, until_ms=created + 1800_000):
        raise RuntimeError("the fixture account already runs an export")
    export_store.put_export(
        export_store.StoredExport(
            account_id=ACCOUNT.account_id,
            export_id=FIXTURE_EXPORT_ID,
            status="queued",
            format="ndjson",
            include_content=False,
            filters=dict(FIXTURE_EXPORT_FILTERS),
            query=query_to_dict(query),
            created_ms=created,
            expires_at=export_expiry_s(created),
            heartbeat_ms=created,
        )
    )


def seed_event_fixtures(functions: FunctionRegistry, logs_stream_arn: str, *, with_export: bool = False) -> None:
    """Create the fixture accounts and keys, ingest ``ingest_good.json`` and aggregate its logs (on an
    empty stack, once): the stats events answer from the rollups, as on a deployed stack a few seconds on.
    ``with_export``: also the queued export the export function's events run (``seed_fixture_export``;
    without it the account has none, so that ``api/export_create.json`` can start one).

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
    if with_export:
        seed_fixture_export()
