"""REQUEST authorizer: Bearer key → account. Any failure is the same 401, whatever the reason."""

from __future__ import annotations

from typing import Any

from request_logs.domain.api_keys import bearer_key, hash_api_key, hashes_match
from request_logs.store import api_keys


class Unauthorized(Exception):
    """API Gateway turns exactly this message into its UNAUTHORIZED (401) gateway response."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def _header(headers: dict[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def _api_wide_resource(method_arn: str) -> str:
    """``arn:…:api-id/stage/*/*``: the cached policy must allow every route, not just the first one."""
    arn_prefix, _, path = method_arn.partition(":execute-api:")
    parts = path.split("/")
    if len(parts) < 2:
        return method_arn
    return f"{arn_prefix}:execute-api:{parts[0]}/{parts[1]}/*/*"


def authorize(event: dict[str, Any]) -> dict[str, Any]:
    presented = bearer_key(_header(event.get("headers"), "authorization"))
    if presented is None:
        raise Unauthorized()
    presented_hash = hash_api_key(presented)
    stored = api_keys.get_key_by_hash(presented_hash)
    if stored is None or not stored.active or not hashes_match(stored.key_hash, presented_hash):
        raise Unauthorized()
    policy: dict[str, Any] = {
        "principalId": stored.account_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _api_wide_resource(event.get("methodArn", "")),
                }
            ],
        },
        "context": {
            "account_id": stored.account_id,
            "api_key_id": stored.api_key_id,
            "api_key_prefix": stored.prefix,
        },
    }
    if stored.usage_identifier:
        policy["usageIdentifierKey"] = stored.usage_identifier
    return policy
