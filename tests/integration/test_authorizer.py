"""AuthorizerFunction through the template's handler: Bearer key → account, or exactly "Unauthorized"."""

from __future__ import annotations

import hmac
import json
from fnmatch import fnmatchcase
from typing import Any

import pytest

from local.emulator.events import authorizer_request_event, method_arn
from local.emulator.lambda_runtime import FunctionRegistry
from local.stack.provision import Stack
from request_logs.domain.api_keys import generate_api_key, hash_api_key
from request_logs.logic.accounts import create_account, create_api_key, revoke_api_key
from request_logs.logic.authorize import Unauthorized
from request_logs.store import keys
from request_logs.store.dynamo import dynamodb

ACCOUNT = "acct_authz"
USAGE_KEY = "usagePlanKeyValueForTests0001"


@pytest.fixture
def authorizer(stack: Stack, functions: FunctionRegistry, clock: Any) -> Any:
    """Calls the template's authorizer function with a REQUEST event for the list route."""
    function = stack.template.authorizer().function
    stage = stack.template.stage_name()

    def call(headers: dict[str, str], path: str = "/api/account/request-logs") -> dict[str, Any]:
        event = authorizer_request_event(
            stage=stage, method="GET", resource=path, path=path, headers={"Accept": "application/json", **headers}
        )
        result: dict[str, Any] = functions.invoke(function, event)
        return result

    return call


@pytest.fixture
def account(stack: Stack, clock: Any) -> str:
    create_account("Authorizer tests", ACCOUNT, usage_identifier=USAGE_KEY)
    return ACCOUNT


@pytest.fixture
def api_key(account: str) -> Any:
    return create_api_key(account, name="primary")


def test_valid_key_is_allowed_as_its_account(authorizer: Any, api_key: Any) -> None:
    policy = authorizer({"Authorization": f"Bearer {api_key.api_key}"})
    assert policy["principalId"] == ACCOUNT
    assert policy["context"] == {
        "account_id": ACCOUNT,
        "api_key_id": api_key.record.api_key_id,
        "api_key_prefix": api_key.api_key[:7] + "...",
    }
    assert policy["usageIdentifierKey"] == USAGE_KEY
    (statement,) = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"


def test_policy_covers_every_route_of_the_stage(authorizer: Any, api_key: Any, stack: Stack) -> None:
    """API Gateway caches the policy per key for ReauthorizeEvery seconds, for whichever route comes next."""
    log_path = "/api/account/request-logs/log_00000000000aaaaaaaaaaaaaaaa"
    resource = authorizer({"Authorization": f"Bearer {api_key.api_key}"}, path=log_path)["policyDocument"]["Statement"][
        0
    ]["Resource"]
    stage = stack.template.stage_name()
    assert resource.endswith(f"/{stage}/*/*")
    for route in stack.template.routes():
        concrete = route.path.replace("{id}", "log_00000000000aaaaaaaaaaaaaaaa")
        assert fnmatchcase(method_arn(stage, route.method, concrete), resource), route


def test_key_without_usage_identifier_has_no_usage_identifier_key(authorizer: Any, stack: Stack, clock: Any) -> None:
    create_account("No usage plan", "acct_plain")
    key = create_api_key("acct_plain")
    policy = authorizer({"Authorization": f"Bearer {key.api_key}"})
    assert "usageIdentifierKey" not in policy


@pytest.mark.parametrize("header_name", ["Authorization", "authorization", "AUTHORIZATION", "aUtHoRiZaTiOn"])
def test_header_name_is_case_insensitive(authorizer: Any, api_key: Any, header_name: str) -> None:
    assert authorizer({header_name: f"Bearer {api_key.api_key}"})["principalId"] == ACCOUNT


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_scheme_is_case_insensitive(authorizer: Any, api_key: Any, scheme: str) -> None:
    assert authorizer({"Authorization": f"{scheme} {api_key.api_key}"})["principalId"] == ACCOUNT


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing header"),
        pytest.param({"Authorization": ""}, id="empty header"),
        pytest.param({"Authorization": "Bearer"}, id="scheme without key"),
        pytest.param({"Authorization": "{key}"}, id="key without scheme"),
        pytest.param({"Authorization": "Basic {key}"}, id="wrong scheme"),
        pytest.param({"Authorization": "Token {key}"}, id="other scheme"),
        pytest.param({"Authorization": "Bearer {key} extra"}, id="trailing garbage"),
        pytest.param({"Authorization": "Bearer {key}x"}, id="key too long"),
        pytest.param({"Authorization": "Bearer sk-short"}, id="malformed key"),
        pytest.param({"Authorization": "Bearer {key_upper}"}, id="wrong case key"),
        pytest.param({"Authorization": "Bearer " + "sk-" + "a" * 300}, id="oversized header"),
        pytest.param({"X-Api-Key": "{key}"}, id="key in another header"),
    ],
)
def test_bad_credentials_are_unauthorized(authorizer: Any, api_key: Any, headers: dict[str, str]) -> None:
    filled = {
        name: value.format(key=api_key.api_key, key_upper=api_key.api_key.upper()) for name, value in headers.items()
    }
    # API Gateway maps exactly this message to its 401 gateway response (anything else becomes a 500).
    with pytest.raises(Unauthorized, match=r"^Unauthorized$"):
        authorizer(filled)


def test_unknown_key_is_unauthorized(authorizer: Any, api_key: Any) -> None:
    with pytest.raises(Unauthorized, match=r"^Unauthorized$"):
        authorizer({"Authorization": f"Bearer {generate_api_key()}"})


def test_revoked_key_is_unauthorized_and_others_still_work(authorizer: Any, api_key: Any, account: str) -> None:
    other = create_api_key(account, name="secondary")
    revoke_api_key(account, api_key.record.api_key_id)
    with pytest.raises(Unauthorized, match=r"^Unauthorized$"):
        authorizer({"Authorization": f"Bearer {api_key.api_key}"})
    assert authorizer({"Authorization": f"Bearer {other.api_key}"})["context"]["api_key_id"] == other.record.api_key_id


def test_keys_are_stored_only_hashed(stack: Stack, api_key: Any, account: str) -> None:
    revoked = create_api_key(account, name="to revoke")
    revoke_api_key(account, revoked.record.api_key_id)
    items = dynamodb().scan(TableName=stack.name("ApiKeysTable"))["Items"]
    stored = json.dumps(items)
    for key in (api_key, revoked):
        assert key.api_key not in stored
        # Not even the secret part (the 7-character display prefix is all that is shown).
        assert key.api_key[7:] not in stored
        assert hash_api_key(key.api_key) in stored


def test_a_key_item_filed_under_another_hash_is_refused(authorizer: Any, api_key: Any, stack: Stack) -> None:
    """The lookup by hash is not the check: the stored hash is compared with the presented one, so a
    corrupted or planted item (its key's hash differs from the one it is filed under) admits nobody."""
    presented = generate_api_key()
    table = stack.name("ApiKeysTable")
    item = dynamodb().get_item(
        TableName=table,
        Key={"pk": {"S": keys.api_key_item_pk(api_key.record.key_hash)}, "sk": {"S": keys.API_KEY_SK}},
    )["Item"]
    dynamodb().put_item(TableName=table, Item={**item, "pk": {"S": keys.api_key_item_pk(hash_api_key(presented))}})

    with pytest.raises(Unauthorized, match=r"^Unauthorized$"):
        authorizer({"Authorization": f"Bearer {presented}"})


def test_hashes_are_compared_in_constant_time(authorizer: Any, api_key: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``==`` on strings returns at the first differing character; ``hmac.compare_digest`` does not."""
    compared: list[tuple[str, str]] = []
    compare_digest = hmac.compare_digest

    def recording(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)

    assert authorizer({"Authorization": f"Bearer {api_key.api_key}"})["principalId"] == ACCOUNT
    assert compared == [(hash_api_key(api_key.api_key), hash_api_key(api_key.api_key))]
