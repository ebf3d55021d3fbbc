"""A REQUEST authorizer's answer: parsed as API Gateway accepts it, evaluated as IAM evaluates it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from local.emulator.gateway.responses import Denied


@dataclass(frozen=True)
class Policy:
    principal_id: str
    statements: list[dict[str, Any]]
    context: dict[str, str]
    usage_identifier_key: str | None


def _wildcard(pattern: str) -> re.Pattern[str]:
    """IAM-style matching: ``*`` any run of characters, ``?`` any one character, all else literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def parse_policy(result: Any) -> Policy:
    """The authorizer's answer; anything API Gateway would reject is AUTHORIZER_CONFIGURATION_ERROR."""
    try:
        principal_id = result["principalId"]
        statements = _as_list(result["policyDocument"]["Statement"])
        context = result.get("context") or {}
        if not isinstance(principal_id, str) or not all(isinstance(s, dict) for s in statements):
            raise TypeError("principalId or Statement")
        # Context values must be flat strings, numbers or booleans; the integration sees them as strings.
        if not all(isinstance(value, str | int | float | bool) for value in context.values()):
            raise TypeError("context values must be strings, numbers or booleans")
        flat = {str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in context.items()}
        usage_key = result.get("usageIdentifierKey")
        return Policy(principal_id, statements, flat, str(usage_key) if usage_key else None)
    except (KeyError, TypeError, AttributeError) as exc:
        raise Denied("AUTHORIZER_CONFIGURATION_ERROR") from exc


def allows(policy: Policy, arn: str) -> bool:
    """IAM evaluation for ``execute-api:Invoke`` on ``arn``: an explicit Deny wins, else an Allow is needed."""
    allowed = False
    for statement in policy.statements:
        actions = _as_list(statement.get("Action", []))
        resources = _as_list(statement.get("Resource", []))
        if not any(_wildcard(str(action).lower()).fullmatch("execute-api:invoke") for action in actions):
            continue
        if not any(_wildcard(str(resource)).fullmatch(arn) for resource in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed
