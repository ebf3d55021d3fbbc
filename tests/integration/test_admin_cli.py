"""The admin CLI against both of its targets: the local stack (a moto server behind AWS_ENDPOINT_URL,
provisioned from template.yaml) and a deployed stack (moto's CloudFormation, API Gateway and DynamoDB
in process, with the template's own keys-table definition)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer

from admin.cli import ONCE_WARNING, main
from local.emulator.events import authorizer_request_event
from local.stack.provision import Stack, provision
from local.stack.state import STATE_FILE_VARIABLE, LocalStackState, write_state
from local.stack.template import load_template, load_template_document
from request_logs.config import get_settings
from request_logs.domain.api_keys import hash_api_key
from request_logs.logic.authorize import Unauthorized, authorize
from request_logs.store.dynamo import dynamodb, reset_clients

STACK = "request-logs-prod"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def admin(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True)
def no_running_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A state file of our own, absent unless a test writes it: never a developer's running make run."""
    state_file = tmp_path / "stack.json"
    monkeypatch.setenv(STATE_FILE_VARIABLE, str(state_file))
    return state_file


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI points the package at its table through the environment; undo that after each test."""
    for name in ("API_KEYS_TABLE", "LOGS_TABLE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    reset_clients()
    yield
    get_settings.cache_clear()
    reset_clients()


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def local_stack(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """What `make run` serves: the template's resources behind AWS_ENDPOINT_URL, names from local.stack.provision."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return provision()


def authorizer_event(api_key: str) -> dict[str, Any]:
    path = "/api/account/request-logs"
    return authorizer_request_event(
        stage="v1", method="GET", resource=path, path=path, headers={"Authorization": f"Bearer {api_key}"}
    )


def scan_keys_table(table: str) -> list[dict[str, Any]]:
    return dynamodb().scan(TableName=table)["Items"]


# ------------------------------------------------------------------ local stack
def test_key_lifecycle_on_the_local_stack(local_stack: Stack, clock: Any, admin: Any) -> None:
    created = admin("create-account", "--name", "Acme", "--account-id", "acct_acme")
    assert created.code == 0
    assert "acct_acme" in created.out

    key_run = admin("create-key", "--account-id", "acct_acme", "--name", "ci")
    assert key_run.code == 0
    (api_key,) = [line.strip() for line in key_run.out.splitlines() if line.strip().startswith("sk-")]
    assert ONCE_WARNING in key_run.err
    policy = authorize(authorizer_event(api_key))
    assert policy["principalId"] == "acct_acme"
    key_id = policy["context"]["api_key_id"]
    assert key_id in key_run.out

    listed = admin("list-keys", "--account-id", "acct_acme")
    assert listed.code == 0
    header, row, indexed = listed.out.splitlines()
    assert indexed == "Indexed metadata keys: none."
    assert header.split() == ["KEY", "ID", "PREFIX", "STATUS", "CREATED", "NAME"]
    assert row.split() == [key_id, api_key[:7] + "...", "active", "2026-11-20T12:00:00Z", "ci"]
    assert api_key not in listed.out
    assert hash_api_key(api_key) not in listed.out

    revoked = admin("revoke-key", "--account-id", "acct_acme", "--key-id", key_id)
    assert revoked.code == 0
    assert key_id in revoked.out
    with pytest.raises(Unauthorized):
        authorize(authorizer_event(api_key))
    assert admin("list-keys", "--account-id", "acct_acme").out.splitlines()[1].split()[2] == "revoked"

    # Indexed metadata keys: declared (no logs yet, so nothing to backfill), listed, at most five, freed.
    declared = admin("index-metadata-key", "--account-id", "acct_acme", "--key", "feature", "--force", "--json")
    assert declared.code == 0, declared.err
    assert (declared.json["slot"], declared.json["logs_with_key"], declared.json["pending_from"]) == (1, 0, None)
    for key in ("env", "team", "tier", "region"):
        assert admin("index-metadata-key", "--account-id", "acct_acme", "--key", key, "--force").code == 0
    assert admin("list-keys", "--account-id", "acct_acme", "--json").json["indexed_metadata_keys"] == [
        "env",
        "feature",
        "region",
        "team",
        "tier",
    ]
    refused = admin("index-metadata-key", "--account-id", "acct_acme", "--key", "sixth", "--force")
    assert refused.code == 1 and "already indexes 5 metadata keys" in refused.err
    freed = admin("unindex-metadata-key", "--account-id", "acct_acme", "--key", "team")
    assert freed.code == 0 and "slot 3 is free" in freed.out
    assert (
        admin("index-metadata-key", "--account-id", "acct_acme", "--key", "sixth", "--force", "--json").json["slot"]
        == 3
    )
    missing = admin("unindex-metadata-key", "--account-id", "acct_acme", "--key", "team")
    assert missing.code == 1 and "does not index 'team'" in missing.err


def test_writes_to_the_table_local_provision_names(local_stack: Stack, admin: Any) -> None:
    assert admin("create-account", "--name", "Acme", "--account-id", "acct_acme").code == 0
    items = scan_keys_table(local_stack.name("ApiKeysTable"))
    assert [item["account_id"]["S"] for item in items] == ["acct_acme"]


def test_api_keys_table_from_the_environment_wins(
    local_stack: Stack, admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = boto3.client("dynamodb")
    definition = load_template_document()["Resources"]["ApiKeysTable"]["Properties"]
    client.create_table(
        TableName="keys-elsewhere",
        KeySchema=definition["KeySchema"],
        AttributeDefinitions=definition["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("API_KEYS_TABLE", "keys-elsewhere")
    assert admin("create-account", "--name", "Acme").code == 0
    assert len(scan_keys_table("keys-elsewhere")) == 1
    assert scan_keys_table(local_stack.name("ApiKeysTable")) == []


def test_json_output_never_shows_hashes_and_the_key_only_once(local_stack: Stack, admin: Any) -> None:
    account = admin("create-account", "--name", "Acme", "--json").json
    assert account["account_id"].startswith("acct_")
    assert account["name"] == "Acme"

    created = admin("create-key", "--account-id", account["account_id"], "--json")
    key = created.json
    assert key["api_key"].startswith("sk-")
    assert key["prefix"] == key["api_key"][:7] + "..."
    assert key["status"] == "active"
    assert key["usage_plan_linked"] is False
    assert ONCE_WARNING in created.err

    listed = admin("list-keys", "--account-id", account["account_id"], "--json")
    (shown,) = listed.json["keys"]
    assert set(shown) == {"api_key_id", "account_id", "prefix", "status", "created_at", "name"}
    assert shown["api_key_id"] == key["api_key_id"]
    assert key["api_key"] not in listed.out
    assert hash_api_key(key["api_key"]) not in listed.out

    revoked = admin("revoke-key", "--account-id", account["account_id"], "--key-id", key["api_key_id"], "--json")
    assert revoked.json["status"] == "revoked"
    assert revoked.json["gateway_key_disabled"] is False


def test_plaintext_is_stored_nowhere(local_stack: Stack, admin: Any) -> None:
    admin("create-account", "--name", "Acme", "--account-id", "acct_acme")
    api_key = admin("create-key", "--account-id", "acct_acme", "--json").json["api_key"]
    stored = json.dumps(scan_keys_table(local_stack.name("ApiKeysTable")))
    assert api_key not in stored
    assert api_key[3:] not in stored
    assert hash_api_key(api_key) in stored


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create-account", "--name", "Again", "--account-id", "acct_acme"], "already exists"),
        (["create-key", "--account-id", "acct_nobody"], "no account acct_nobody"),
        (["list-keys", "--account-id", "acct_nobody"], "no account acct_nobody"),
        (["revoke-key", "--account-id", "acct_acme", "--key-id", "key_unknown"], "has no key key_unknown"),
    ],
)
def test_mistakes_are_one_line_errors(local_stack: Stack, admin: Any, argv: list[str], message: str) -> None:
    admin("create-account", "--name", "Acme", "--account-id", "acct_acme")
    result = admin(*argv)
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("error: ")
    assert message in result.err


def test_list_keys_of_an_account_without_keys(local_stack: Stack, admin: Any) -> None:
    admin("create-account", "--name", "Acme", "--account-id", "acct_acme")
    assert "has no API keys" in admin("list-keys", "--account-id", "acct_acme").out


def test_refuses_to_guess_a_target(admin: Any) -> None:
    """Without AWS_ENDPOINT_URL or --stack, a default AWS session could reach a real account's table."""
    result = admin("create-account", "--name", "Acme")
    assert result.code == 1
    assert "AWS_ENDPOINT_URL" in result.err
    assert "--stack" in result.err


# ------------------------------------------------------------------ finding the local stack
@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere: not in the environment, not in a file, not from instance metadata."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it caches the credentials it found before


def running_state(endpoint: str, pid: int | None = None) -> LocalStackState:
    """What make run writes, with the table names local.stack.provision gives the template's tables."""
    environment = Stack(load_template()).function_environment()
    names = {name: value for name, value in environment.items() if name.endswith("_TABLE")}
    return LocalStackState(pid or os.getpid(), endpoint, "us-east-1", names, None)


def test_finds_the_running_stack_through_its_state_file(
    local_stack: Stack, moto_server: str, no_running_stack: Path, no_aws_config: None, admin: Any
) -> None:
    write_state(running_state(moto_server), no_running_stack)
    assert admin("create-account", "--name", "Acme", "--account-id", "acct_acme").code == 0
    assert [item["account_id"]["S"] for item in scan_keys_table(local_stack.name("ApiKeysTable"))] == ["acct_acme"]
    # Fake credentials, for the loopback endpoint only.
    assert os.environ["AWS_ENDPOINT_URL"] == moto_server


def test_the_printed_endpoint_needs_no_credentials(
    local_stack: Stack, moto_server: str, no_aws_config: None, admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    assert admin("create-account", "--name", "Acme", "--account-id", "acct_acme").code == 0


def test_an_endpoint_elsewhere_gets_no_fake_credentials(
    no_aws_config: None, admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://example.invalid:4566")
    result = admin("list-keys", "--account-id", "acct_acme")
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert result.err.startswith("error: Unable to locate credentials")
    assert "not a loopback endpoint" in result.err


def test_a_stale_state_file_is_one_line(no_running_stack: Path, admin: Any) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])  # a make run that has ended (SIGKILL, say)
    gone.wait()
    write_state(running_state("http://127.0.0.1:9", pid=gone.pid), no_running_stack)
    result = admin("list-keys", "--account-id", "acct_acme")
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert "no longer running" in result.err
    assert "make run" in result.err


def test_a_state_file_naming_a_remote_endpoint_is_refused(no_running_stack: Path, admin: Any) -> None:
    write_state(running_state("https://dynamodb.us-east-1.amazonaws.com"), no_running_stack)
    result = admin("list-keys", "--account-id", "acct_acme")
    assert result.code == 1
    assert "not a loopback endpoint" in result.err


@pytest.mark.parametrize(
    "argv",
    [
        ["create-account", "--name", "Acme", "--account-id", "acme"],
        ["create-key", "--account-id", "acct_with-dash"],
        ["revoke-key", "--account-id", "acct_acme", "--key-id", "sk-notAnId"],
        ["create-key"],
        ["rotate-key", "--account-id", "acct_acme"],
    ],
)
def test_invalid_arguments_are_usage_errors(admin: Any, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2


# ------------------------------------------------------------------ deployed stack
@dataclass
class Deployed:
    usage_plan_id: str
    table: str


@pytest.fixture
def deployed() -> Iterator[Deployed]:
    """A CloudFormation stack with the template's keys table and the outputs the CLI reads."""
    with mock_aws():
        usage_plan_id = boto3.client("apigateway").create_usage_plan(name="request-logs")["id"]
        create_stack(STACK, usage_plan_id)
        yield Deployed(usage_plan_id, stack_output(STACK, "ApiKeysTableName"))


def create_stack(name: str, usage_plan_id: str, outputs: bool = True) -> None:
    table = load_template_document()["Resources"]["ApiKeysTable"]
    body: dict[str, Any] = {
        "Resources": {"ApiKeysTable": {"Type": table["Type"], "Properties": table["Properties"]}},
    }
    if outputs:
        body["Outputs"] = {
            "ApiKeysTableName": {"Value": {"Ref": "ApiKeysTable"}},
            "UsagePlanId": {"Value": usage_plan_id},
        }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(body))


def stack_output(stack: str, key: str) -> str:
    (described,) = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    return next(output["OutputValue"] for output in described["Outputs"] if output["OutputKey"] == key)


def gateway_keys() -> list[dict[str, Any]]:
    return boto3.client("apigateway").get_api_keys(includeValues=True)["items"]


def test_deployed_key_gets_a_usage_plan_key(deployed: Deployed, admin: Any) -> None:
    assert admin("create-account", "--name", "Acme", "--account-id", "acct_acme", "--stack", STACK).code == 0
    created = admin("create-key", "--account-id", "acct_acme", "--stack", STACK, "--json").json
    assert created["usage_plan_linked"] is True

    (gateway_key,) = gateway_keys()
    assert gateway_key["name"] == created["api_key_id"]
    assert gateway_key["enabled"] is True
    plan_keys = boto3.client("apigateway").get_usage_plan_keys(usagePlanId=deployed.usage_plan_id)["items"]
    assert [item["id"] for item in plan_keys] == [gateway_key["id"]]

    policy = authorize(authorizer_event(created["api_key"]))
    assert policy["usageIdentifierKey"] == gateway_key["value"]
    assert policy["context"]["api_key_id"] == created["api_key_id"]
    # The gateway key's value is a credential of the usage plan: the CLI never prints it.
    listed = admin("list-keys", "--account-id", "acct_acme", "--stack", STACK)
    assert gateway_key["value"] not in listed.out
    assert gateway_key["value"] not in json.dumps(created)


def test_revoking_a_deployed_key_disables_its_gateway_key(deployed: Deployed, admin: Any) -> None:
    admin("create-account", "--name", "Acme", "--account-id", "acct_acme", "--stack", STACK)
    created = admin("create-key", "--account-id", "acct_acme", "--stack", STACK, "--json").json
    revoked = admin("revoke-key", "--account-id", "acct_acme", "--key-id", created["api_key_id"], "--stack", STACK)
    assert revoked.code == 0
    assert "API Gateway key is disabled" in revoked.out
    (gateway_key,) = gateway_keys()
    assert gateway_key["enabled"] is False
    with pytest.raises(Unauthorized):
        authorize(authorizer_event(created["api_key"]))


def test_no_gateway_key_for_an_unknown_account(deployed: Deployed, admin: Any) -> None:
    result = admin("create-key", "--account-id", "acct_nobody", "--stack", STACK)
    assert result.code == 1
    assert gateway_keys() == []


def test_gateway_key_is_removed_when_storing_the_key_fails(deployed: Deployed, admin: Any) -> None:
    admin("create-account", "--name", "Acme", "--account-id", "acct_acme", "--stack", STACK)

    def refuse(**_: Any) -> None:
        raise RuntimeError("DynamoDB is unavailable")

    dynamodb().meta.events.register("before-call.dynamodb.TransactWriteItems", refuse)
    with pytest.raises(RuntimeError, match="unavailable"):
        main(["create-key", "--account-id", "acct_acme", "--stack", STACK])
    assert gateway_keys() == []


def test_gateway_key_is_removed_when_linking_it_fails(
    deployed: Deployed, admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin("create-account", "--name", "Acme", "--account-id", "acct_acme", "--stack", STACK)
    session = boto3.Session()
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)

    def plan_is_gone(**_: Any) -> None:
        error = {"Code": "NotFoundException", "Message": "Invalid Usage Plan ID specified"}
        raise ClientError({"Error": error}, "CreateUsagePlanKey")

    session.events.register("before-call.api-gateway.CreateUsagePlanKey", plan_is_gone)
    result = admin("create-key", "--account-id", "acct_acme", "--stack", STACK)
    assert result.code == 1
    assert "CreateUsagePlanKey failed: NotFoundException" in result.err
    assert gateway_keys() == []
    assert "has no API keys" in admin("list-keys", "--account-id", "acct_acme", "--stack", STACK).out


def test_stack_without_the_outputs(admin: Any) -> None:
    with mock_aws():
        create_stack("someone-elses", "unused", outputs=False)
        result = admin("list-keys", "--account-id", "acct_acme", "--stack", "someone-elses")
    assert result.code == 1
    assert "ApiKeysTableName, UsagePlanId" in result.err


def test_unknown_stack(admin: Any) -> None:
    with mock_aws():
        result = admin("list-keys", "--account-id", "acct_acme", "--stack", "nope")
    assert result.code == 1
    assert "cannot read stack 'nope'" in result.err
