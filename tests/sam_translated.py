"""template.yaml as CloudFormation would receive it: aws-sam-translator's output, and the IAM grants of
each function's role read from it. Shared by the template checks and the tests that compare those
grants with the AWS calls the functions really make."""

from __future__ import annotations

import copy
import re
from fnmatch import fnmatchcase
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from local.stack.template import REGION, load_template_document


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs only when a policy names one; ours never do."""

    def load(self) -> dict[str, str]:
        return {}


def translate(document: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CloudFormation resources SAM would deploy (code locations replaced by S3 URIs, as `sam package` does)."""
    packaged = copy.deepcopy(document if document is not None else load_template_document())
    for resource in packaged["Resources"].values():
        properties = resource.get("Properties", {})
        for uri in ("CodeUri", "ContentUri"):
            if uri in properties:
                properties[uri] = f"s3://deployment-bucket/{properties[uri].strip('/')}.zip"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        translated = transform(packaged, {}, _NoManagedPolicies())
    resources: dict[str, Any] = translated["Resources"]
    return resources


def of_type(resources: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {name: resource for name, resource in resources.items() if resource["Type"] == resource_type}


def functions(resources: dict[str, Any]) -> list[str]:
    return sorted(of_type(resources, "AWS::Lambda::Function"))


def role_of(resources: dict[str, Any], function: str) -> dict[str, Any]:
    role: dict[str, Any] = resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]]
    return role


def resource_name(resource: Any) -> str:
    """``{"Fn::GetAtt": [X, "Arn"]}`` and ``{"Ref": X}`` → X; ``{"Fn::Sub": "${X.Arn}/suffix"}`` → X/suffix.

    ``Ref`` is an ARN only for some types (a secret's is; a table's is its name), which the policy
    validation of CloudFormation itself catches; anything else is a resource these checks do not
    understand, a ``*`` included.
    """
    if isinstance(resource, dict) and "Fn::GetAtt" in resource and resource["Fn::GetAtt"][1] == "Arn":
        return str(resource["Fn::GetAtt"][0])
    if isinstance(resource, dict) and set(resource) == {"Ref"}:
        return str(resource["Ref"])
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), str):
        match = re.fullmatch(r"\$\{(\w+)\.Arn\}(/.+)", resource["Fn::Sub"])
        if match:
            return match.group(1) + match.group(2)
    raise AssertionError(f"a resource the least-privilege check does not understand: {resource!r}")


def statements(role: dict[str, Any], *, own_only: bool = False) -> list[dict[str, Any]]:
    """The role's inline policy statements; ``own_only``: those of the template's ``Policies``, not the
    ones SAM adds for an event source's on-failure destination (Lambda's service uses those, not the code)."""
    found: list[dict[str, Any]] = []
    for policy in role["Properties"].get("Policies", []):
        # SAM names the template's own policies <Role>Policy<N>; those it adds for events get other names.
        if own_only and not re.fullmatch(r".*RolePolicy\d+", policy["PolicyName"]):
            continue
        found += policy["PolicyDocument"]["Statement"]
    return found


def granted(role: dict[str, Any], *, own_only: bool = False) -> dict[str, set[str]]:
    """IAM action → the logical resources (with any ARN suffix) it is allowed on."""
    permissions: dict[str, set[str]] = {}
    for statement in statements(role, own_only=own_only):
        assert statement["Effect"] == "Allow"
        assert set(statement) == {"Effect", "Action", "Resource"}, "no NotAction, NotResource or Condition"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            assert "*" not in action, action
            permissions.setdefault(action, set()).update(resource_name(target) for target in targets)
    return permissions


def allows(permissions: dict[str, set[str]], action: str, resource: str) -> bool:
    """Whether ``action`` on the logical ``resource`` (``Table/index/name``, ``Bucket/key``) is granted."""
    return any(fnmatchcase(resource, pattern) for pattern in permissions.get(action, set()))
