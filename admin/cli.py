"""``python -m admin``: create accounts, and create, list and revoke their API keys.

Two targets, and never a real AWS table by accident:

- the local stack (the default): the running ``make run``, found through the state file it writes
  (``.local/stack.json``, see ``local.stack.state``), or the endpoint ``AWS_ENDPOINT_URL`` names, which
  wins. A loopback endpoint gets the local runtime's fake credentials, so nothing needs exporting; an
  endpoint elsewhere uses the usual AWS credentials. The tables are ``$API_KEYS_TABLE``,
  ``$LOGS_TABLE``, ``$STATS_TABLE`` when set, else the state file's, else the names
  ``local.stack.provision`` gives the template's tables;
- a deployed stack: ``--stack NAME`` reads the stack's ``ApiKeysTableName`` and ``UsagePlanId``
  outputs. There a new key also gets an API Gateway API key linked to the usage plan: the authorizer
  returns its value as ``usageIdentifierKey``, which is how the per-key throttles of the plan apply.
  Revoking a key disables that API Gateway key too, so revocation takes effect at once rather than
  when the authorizer's cached policy expires.

Keys are stored only as hashes: ``create-key`` prints the plaintext once, and nothing prints it again.

``index-metadata-key`` declares a metadata key indexed for an account (at most 5), so its logs can be
filtered (``metadata.<key>=``) and grouped (``group_by=metadata.<key>``); it then covers the logs already
stored: it waits one ingest timeout (batches that read the account before still write without the key's
index), backfills the retained logs that carry the key, and rebuilds the account's stats for the settled
retained days (``--force`` skips the wait and rebuilds up to today: only when nothing is being ingested or
aggregated). ``unindex-metadata-key`` frees the key's slot. ``list-keys`` shows the indexed keys too.

``backfill-value-partitions`` gives an account's retained logs the value-index partition attributes they
lack: run once per account after deploying a value index partitioned anew (docs/decisions.md §35).

``rebuild-stats`` recomputes an account's rollups from its retained logs for whole days (recovery; see
``request_logs.logic.rebuild`` for why it is safe beside the live aggregator), with a progress bar.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from request_logs.config import get_settings
from request_logs.domain.api_keys import generate_id
from request_logs.domain.ids import ACCOUNT_ID_PATTERN, API_KEY_ID_PATTERN
from request_logs.domain.retention import oldest_retained_log_ms
from request_logs.domain.rollups import DAY_MS, HOUR_MS
from request_logs.domain.timeutil import InvalidInstant, format_ms, now_ms, parse_instant
from request_logs.logic import accounts
from request_logs.logic import rebuild as stats_rebuild
from request_logs.store import api_keys as key_store
from request_logs.store.api_keys import StoredApiKey
from request_logs.store.dynamo import reset_clients

ONCE_WARNING = "Store this key now: it is shown only this once. Only its hash is kept, so it cannot be recovered."


class CliError(Exception):
    """A failure the user can act on: printed as one line, exit status 1."""


@dataclass(frozen=True)
class Target:
    keys_table: str
    usage_plan_id: str | None  # deployed stacks only: new keys are linked to it
    local_names: dict[str, str] = field(default_factory=dict)  # the local stack's table names, by variable


def _matching(pattern: str, what: str) -> Callable[[str], str]:
    """An argparse type that accepts only ids the rest of the system accepts (ingest validates them too)."""

    def check(value: str) -> str:
        if not re.match(pattern, value):
            raise argparse.ArgumentTypeError(f"{value!r} is not a valid {what} (expected {pattern})")
        return value

    return check


def _stack_outputs(stack_name: str) -> dict[str, str]:
    try:
        (stack,) = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        raise CliError(f"cannot read stack {stack_name!r}: {exc.response['Error']['Message']}") from exc
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def resolve_target(stack_name: str | None) -> Target:
    if stack_name is not None:
        outputs = _stack_outputs(stack_name)
        missing = sorted({"ApiKeysTableName", "UsagePlanId"} - outputs.keys())
        if missing:
            raise CliError(f"stack {stack_name!r} has no output {', '.join(missing)}: is it this project's stack?")
        return Target(outputs["ApiKeysTableName"], outputs["UsagePlanId"])
    names = _use_local_stack()
    return Target(os.environ.get("API_KEYS_TABLE") or names["API_KEYS_TABLE"], None, names)


def _use_local_stack() -> dict[str, str]:
    """Point this process at the local stack; return its table names (by environment variable).

    ``AWS_ENDPOINT_URL`` wins; else the running ``make run``'s state file. Fake credentials go to a
    loopback endpoint only: anything else signs with whatever AWS credentials are configured.
    """
    from local.stack.moto_server import use_endpoint
    from local.stack.provision import Stack
    from local.stack.state import NoLocalStack, is_loopback, require_running
    from local.stack.template import load_template

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    names = Stack(load_template()).resource_names()
    if endpoint:
        if is_loopback(endpoint):
            use_endpoint(endpoint)
    else:
        try:
            state = require_running("pass --stack NAME for a deployed stack")
        except NoLocalStack as exc:
            raise CliError(str(exc)) from exc
        use_endpoint(state.endpoint_url)
        os.environ["AWS_DEFAULT_REGION"] = state.region
        names.update(state.names)
    reset_clients()  # boto3 clients read the endpoint and credentials when they are made
    return names


def _use_keys_table(table: str) -> None:
    """Point the shared package at the keys table, the only one key administration touches."""
    os.environ["API_KEYS_TABLE"] = table
    # Settings insists on LOGS_TABLE, which the admin never reads.
    os.environ.setdefault("LOGS_TABLE", "")
    get_settings.cache_clear()


def _instant(*, exclusive_end: bool) -> Callable[[str], int]:
    """An argparse type for ISO 8601 dates and instants, read as the API reads start_date/end_date."""

    def parse(value: str) -> int:
        try:
            return parse_instant(value, exclusive_end=exclusive_end)
        except InvalidInstant as exc:
            raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date or date-time ({exc})") from exc

    return parse


def _use_stats_tables(stack_name: str | None, local_names: dict[str, str]) -> None:
    """Point the shared package at the logs and stats tables: a deployed stack's, or the local stack's."""
    if stack_name is not None:
        cloudformation = boto3.client("cloudformation")

        def physical(logical: str) -> str:
            try:
                detail = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=logical)
            except ClientError as exc:
                raise CliError(f"stack {stack_name!r} has no {logical}: {exc.response['Error']['Message']}") from exc
            return str(detail["StackResourceDetail"]["PhysicalResourceId"])

        tables = {"LOGS_TABLE": physical("RequestLogsTable"), "STATS_TABLE": physical("StatsTable")}
    else:
        tables = {name: os.environ.get(name) or local_names[name] for name in ("LOGS_TABLE", "STATS_TABLE")}
    os.environ.update(tables)
    get_settings.cache_clear()


def _ingest_settle_seconds() -> int:
    """The ingest function's timeout: how long a batch that read an account's indexed keys may still write
    logs with what it read (it reads them once per batch, ``logic/ingest``)."""
    from local.stack.template import load_template

    return load_template().functions()["IngestFunction"].timeout


def _aggregator_settle_seconds() -> int:
    """From the template's stream event source: how long a log's record may still reach the aggregator."""
    from local.stack.template import load_template

    template = load_template()
    ((function, properties),) = template.event_sources("DynamoDB")
    max_age = int(properties.get("MaximumRecordAgeInSeconds", -1))
    return stats_rebuild.settle_seconds(None if max_age == -1 else max_age, template.functions()[function].timeout)


# ------------------------------------------------------------------ API Gateway keys (deployed stacks)
def _create_gateway_key(usage_plan_id: str, account_id: str, api_key_id: str) -> tuple[str, str]:
    """An enabled API Gateway key named after our key id, linked to the usage plan: (id, value)."""
    apigateway = boto3.client("apigateway")
    created = apigateway.create_api_key(
        name=api_key_id,
        description=f"Usage identifier of Request Logs API key {api_key_id} of {account_id}",
        enabled=True,
    )
    try:
        apigateway.create_usage_plan_key(usagePlanId=usage_plan_id, keyId=created["id"], keyType="API_KEY")
    except ClientError:
        apigateway.delete_api_key(apiKey=created["id"])
        raise
    return created["id"], created["value"]


def _disable_gateway_key(api_key_id: str) -> bool:
    """Disable the API Gateway key named after ours; False when there is none."""
    apigateway = boto3.client("apigateway")
    found = [
        item
        for page in apigateway.get_paginator("get_api_keys").paginate(nameQuery=api_key_id)
        for item in page["items"]
        if item["name"] == api_key_id
    ]
    for item in found:
        apigateway.update_api_key(
            apiKey=item["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
        )
    return bool(found)


# ------------------------------------------------------------------ commands
def _key_view(key: StoredApiKey) -> dict[str, Any]:
    """What may be shown about a stored key: never its hash, never its usage identifier."""
    return {
        "api_key_id": key.api_key_id,
        "account_id": key.account_id,
        "prefix": key.prefix,
        "status": key.status,
        "created_at": format_ms(key.created_ms),
        "name": key.name,
    }


def create_account(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    try:
        account = accounts.create_account(args.name, args.account_id)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise CliError(f"account {args.account_id} already exists") from exc
        raise
    return {"account_id": account.account_id, "name": account.name, "created_at": format_ms(account.created_ms)}


def create_key(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    account = key_store.get_account(args.account_id)
    if account is None:
        raise CliError(f"no account {args.account_id}")
    api_key_id = generate_id("key")
    # Locally there is no API Gateway key: the local gateway only needs an identifier to throttle by
    # (and, like API Gateway with ApiKeyRequired, refuses a principal without one).
    gateway_key_id, usage_identifier = (
        _create_gateway_key(target.usage_plan_id, args.account_id, api_key_id)
        if target.usage_plan_id is not None
        else (None, account.usage_identifier or f"local-{api_key_id}")
    )
    try:
        created = accounts.create_api_key(
            args.account_id, name=args.name, usage_identifier=usage_identifier, api_key_id=api_key_id
        )
    except Exception:
        # Leave no API Gateway key behind that no stored key refers to.
        if gateway_key_id is not None:
            boto3.client("apigateway").delete_api_key(apiKey=gateway_key_id)
        raise
    return {"api_key": created.api_key, **_key_view(created.record), "usage_plan_linked": gateway_key_id is not None}


def list_keys(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    if key_store.get_account(args.account_id) is None:
        raise CliError(f"no account {args.account_id}")
    account = key_store.get_account(args.account_id)
    return {
        "account_id": args.account_id,
        "keys": [_key_view(key) for key in accounts.list_api_keys(args.account_id)],
        "indexed_metadata_keys": sorted(account.metadata_slots) if account is not None else [],
    }


def revoke_key(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    revoked = accounts.revoke_api_key(args.account_id, args.key_id)
    if revoked is None:
        raise CliError(f"account {args.account_id} has no key {args.key_id}")
    gateway_key_disabled = target.usage_plan_id is not None and _disable_gateway_key(revoked.api_key_id)
    return {**_key_view(revoked), "gateway_key_disabled": gateway_key_disabled}


def rebuild_stats(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    if key_store.get_account(args.account_id) is None:
        raise CliError(f"no account {args.account_id}")
    _use_stats_tables(args.stack, target.local_names)
    now = now_ms()
    try:
        plan = stats_rebuild.plan_rebuild(
            args.account_id,
            args.start,
            args.end,
            now_ms=now,
            settle_seconds=_aggregator_settle_seconds(),
            force=args.force,
        )
    except stats_rebuild.RebuildRefused as exc:
        raise CliError(f"refusing to rebuild: {exc}") from exc
    from tqdm import tqdm  # a dev dependency of the CLI, never of the layer

    with tqdm(total=plan.hours, unit="hour", desc=f"rebuilding {args.account_id}", disable=args.json) as bar:
        try:
            result = stats_rebuild.rebuild_stats(plan, now_ms=now, progress=bar.update)
        except stats_rebuild.RebuildConflict as exc:
            raise CliError(f"{exc}: is the aggregator still applying records for these days? Try again later") from exc
    completed = accounts.rebuilt(plan.account_id, plan.start_ms, plan.end_ms)
    return {
        "account_id": plan.account_id,
        "completed_metadata_keys": completed,
        "start": format_ms(plan.start_ms),
        "end": format_ms(plan.end_ms),
        "days": plan.hours // 24,
        "logs_read": result.logs_read,
        "items_written": result.written,
        "items_deleted": result.deleted,
        "items_unchanged": result.unchanged,
    }


def index_metadata_key(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    try:
        slot = accounts.index_metadata_key(args.account_id, args.key)
    except accounts.UnknownAccount as exc:
        raise CliError(f"no account {args.account_id}") from exc
    except accounts.MetadataKeyRefused as exc:
        raise CliError(f"refusing to index {args.key!r}: {exc}") from exc
    _use_stats_tables(args.stack, target.local_names)
    if not args.force:
        # Batches that read the account before the declaration write their logs without the key's index.
        time.sleep(_ingest_settle_seconds())
    now = now_ms()
    backfill = accounts.backfill_metadata_key(args.account_id, args.key, now_ms=now)
    # The retained days holding logs whose rollups can be made exact: not the oldest (its first logs are
    # expiring), and not those whose records may still reach the aggregator unless forced (logic/rebuild).
    settle = _aggregator_settle_seconds()
    first = oldest_retained_log_ms(now) + HOUR_MS
    first += -first % DAY_MS
    last = now + DAY_MS if args.force else now - settle * 1000
    last -= last % DAY_MS
    days = [day for day in backfill.days if first <= day < last]
    written = 0
    from tqdm import tqdm  # a dev dependency of the CLI, never of the layer

    with tqdm(total=24 * len(days), unit="hour", desc=f"rebuilding {args.account_id}", disable=args.json) as bar:
        for day in days:
            plan = stats_rebuild.plan_rebuild(
                args.account_id, day, day + DAY_MS, now_ms=now, settle_seconds=settle, force=args.force
            )
            try:
                written += stats_rebuild.rebuild_stats(plan, now_ms=now, progress=bar.update).written
            except stats_rebuild.RebuildConflict as exc:
                raise CliError(f"{exc}: run rebuild-stats for these days once the aggregator is idle") from exc
    pending = [day for day in backfill.days if day >= last]
    # Until rebuilt, those days' rollups of the key lack the logs stored before now: the API then counts
    # the key's filters from the logs, and its groupings say so.
    today_end = now - now % DAY_MS + DAY_MS
    accounts.mark_metadata_pending(args.account_id, args.key, (pending[0], today_end) if pending else None)
    return {
        "account_id": args.account_id,
        "key": args.key,
        "slot": slot,
        "logs_with_key": backfill.carrying,
        "logs_indexed": backfill.written,
        "days_rebuilt": len(days),
        "items_written": written,
        # Days holding logs not rebuilt yet: rebuild-stats from there once settled (or --force when idle).
        "pending_from": format_ms(pending[0]) if pending else None,
    }


def unindex_metadata_key(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    try:
        slot = accounts.unindex_metadata_key(args.account_id, args.key)
    except accounts.UnknownAccount as exc:
        raise CliError(f"no account {args.account_id}") from exc
    except accounts.MetadataKeyRefused as exc:
        raise CliError(f"refusing to unindex {args.key!r}: {exc}") from exc
    return {"account_id": args.account_id, "key": args.key, "slot": slot}


def backfill_value_partitions(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    _use_stats_tables(args.stack, target.local_names)
    try:
        result = accounts.backfill_value_partitions(args.account_id, now_ms=now_ms())
    except accounts.UnknownAccount as exc:
        raise CliError(f"no account {args.account_id}") from exc
    return {
        "account_id": args.account_id,
        "logs": result.logs,
        "written": result.written,
        "items_read": result.items_read,
    }


# ------------------------------------------------------------------ output
def _print_human(command: str, result: dict[str, Any]) -> None:
    if command == "create-account":
        print(f"Created account {result['account_id']} ({result['name']}) at {result['created_at']}.")
    elif command == "create-key":
        print(f"Created API key {result['api_key_id']} for account {result['account_id']}:\n")
        print(f"    {result['api_key']}\n")
        if result["usage_plan_linked"]:
            print("Linked to the stack's usage plan through a new API Gateway key.")
    elif command == "list-keys":
        keys = result["keys"]
        if not keys:
            print(f"Account {result['account_id']} has no API keys.")
            print(f"Indexed metadata keys: {', '.join(result['indexed_metadata_keys']) or 'none'}.")
            return
        rows = [("KEY ID", "PREFIX", "STATUS", "CREATED", "NAME")] + [
            (key["api_key_id"], key["prefix"], key["status"], key["created_at"], key["name"] or "") for key in keys
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        print(f"Indexed metadata keys: {', '.join(result['indexed_metadata_keys']) or 'none'}.")
    elif command == "revoke-key":
        print(f"Revoked {result['api_key_id']} ({result['prefix']}) of account {result['account_id']}.")
        if result["gateway_key_disabled"]:
            print("Its API Gateway key is disabled too.")
    elif command == "index-metadata-key":
        print(
            f"Account {result['account_id']} indexes metadata key {result['key']!r} (slot {result['slot']}): "
            f"{result['logs_with_key']:,} retained logs carry it, {result['logs_indexed']:,} newly indexed; stats "
            f"of {result['days_rebuilt']} days with logs rebuilt ({result['items_written']:,} items written)."
        )
        if result["pending_from"]:
            print(
                f"Days from {result['pending_from']} may still be aggregating: run rebuild-stats for them once "
                "settled (or pass --force when nothing is being ingested)."
            )
    elif command == "unindex-metadata-key":
        print(f"Account {result['account_id']} no longer indexes {result['key']!r} (slot {result['slot']} is free).")
    elif command == "backfill-value-partitions":
        print(
            f"{result['written']:,} of the {result['logs']:,} retained logs of {result['account_id']} were given "
            "the value-index partitions they lacked."
        )
    elif command == "rebuild-stats":
        print(
            f"Rebuilt the stats of {result['account_id']} from {result['start']} to {result['end']} "
            f"({result['days']} days): {result['logs_read']:,} logs read, {result['items_written']:,} items "
            f"written, {result['items_deleted']:,} deleted, {result['items_unchanged']:,} already right."
        )
        if result["completed_metadata_keys"]:
            print(f"Rollups of metadata keys {', '.join(result['completed_metadata_keys'])} are complete again.")


COMMANDS: dict[str, Callable[[argparse.Namespace, Target], dict[str, Any]]] = {
    "create-account": create_account,
    "create-key": create_key,
    "list-keys": list_keys,
    "revoke-key": revoke_key,
    "rebuild-stats": rebuild_stats,
    "index-metadata-key": index_metadata_key,
    "unindex-metadata-key": unindex_metadata_key,
    "backfill-value-partitions": backfill_value_partitions,
}


def build_parser() -> argparse.ArgumentParser:
    # Target and output options sit on every subcommand, so they can follow it like its own options.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack", metavar="NAME", help="a deployed CloudFormation stack (default: the local stack)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    account_id = _matching(ACCOUNT_ID_PATTERN, "account id")

    parser = argparse.ArgumentParser(
        prog="python -m admin",
        description="Accounts and API keys of the Request Logs API. Local stack (default): the running "
        "make run, or AWS_ENDPOINT_URL; deployed stack: --stack NAME.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = commands.add_parser("create-account", parents=[common], help="create an account")
    command.add_argument("--name", required=True)
    command.add_argument("--account-id", type=account_id, help="default: a generated acct_... id")
    command = commands.add_parser("create-key", parents=[common], help="create an API key (shown once)")
    command.add_argument("--account-id", required=True, type=account_id, help="the account that owns the key")
    command.add_argument("--name", help="a label for the key")
    command = commands.add_parser("list-keys", parents=[common], help="list an account's keys (never the keys)")
    command.add_argument("--account-id", required=True, type=account_id)
    command = commands.add_parser("revoke-key", parents=[common], help="revoke an API key")
    command.add_argument("--account-id", required=True, type=account_id)
    command.add_argument("--key-id", required=True, type=_matching(API_KEY_ID_PATTERN, "key id"))
    command = commands.add_parser(
        "rebuild-stats",
        parents=[common],
        help="recompute an account's stats from its retained logs, for whole UTC days (recovery)",
    )
    command.add_argument("--account-id", required=True, type=account_id)
    command.add_argument("--start", required=True, type=_instant(exclusive_end=False), help="first day (ISO 8601)")
    command.add_argument(
        "--end", required=True, type=_instant(exclusive_end=True), help="last day, included (ISO 8601)"
    )
    command.add_argument(
        "--force",
        action="store_true",
        help="rebuild days whose logs may still reach the aggregator (only when it is idle)",
    )
    command = commands.add_parser(
        "index-metadata-key",
        parents=[common],
        help="index a metadata key (at most 5 per account) for filters and groupings, covering stored logs",
    )
    command.add_argument("--account-id", required=True, type=account_id)
    command.add_argument("--key", required=True, help="the metadata key, as the gateway sends it")
    command.add_argument(
        "--force",
        action="store_true",
        help="no wait for ingest, and rebuild up to today (only when nothing is being ingested or aggregated)",
    )
    command = commands.add_parser("unindex-metadata-key", parents=[common], help="stop indexing a metadata key")
    command.add_argument("--account-id", required=True, type=account_id)
    command.add_argument("--key", required=True)
    command = commands.add_parser(
        "backfill-value-partitions",
        parents=[common],
        help="put an account's retained logs into value-index partitions added since they were written",
    )
    command.add_argument("--account-id", required=True, type=account_id)
    return parser


def _explain(exc: BotoCoreError, stack_name: str | None) -> str:
    from local.stack.state import is_loopback

    if isinstance(exc, EndpointConnectionError) and stack_name is None:
        if is_loopback(os.environ.get("AWS_ENDPOINT_URL", "")):
            return f"{exc}: is the local stack (make run) still running?"
        return str(exc)
    if isinstance(exc, NoCredentialsError):
        if stack_name is not None:
            return f"{exc}: a deployed stack needs the AWS credentials of its account (aws configure, AWS_PROFILE)"
        return f"{exc}: {os.environ.get('AWS_ENDPOINT_URL')} is not a loopback endpoint, so it needs AWS credentials"
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        target = resolve_target(args.stack)
        _use_keys_table(target.keys_table)
        result = COMMANDS[args.command](args, target)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ClientError as exc:
        error = exc.response["Error"]
        print(f"error: {exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}", file=sys.stderr)
        return 1
    except BotoCoreError as exc:
        # No credentials, an endpoint that does not answer, no region: one line, not botocore's traceback.
        print(f"error: {_explain(exc, args.stack)}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_human(args.command, result)
    if args.command == "create-key":
        print(ONCE_WARNING, file=sys.stderr)
    return 0
