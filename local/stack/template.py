"""``template.yaml`` as data: the single source of truth for the local runtime and the tests.

Reads resources, function settings, routes, authorizer, gateway responses, usage-plan throttles and
event-source settings from the template. Nothing here repeats a key schema or a route by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
LAYER_PATH = ROOT / "layers" / "shared"
REGION = "us-east-1"
ACCOUNT = "123456789012"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that understands CloudFormation's short intrinsic tags (!Ref, !GetAtt, !Sub...)."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template_document(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open() as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return document


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, Any]  # resolved before any resource exists: names, not ARNs
    events: dict[str, dict[str, Any]]
    timeout: int
    # As written in the template, for resolving once resources exist (a secret's Ref is its ARN).
    environment_source: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    path: str  # API Gateway resource path, e.g. /api/account/request-logs/{id}
    method: str
    function: str


@dataclass(frozen=True)
class AuthorizerSpec:
    function: str
    identity_headers: tuple[str, ...]
    ttl_seconds: int


@dataclass
class Template:
    document: dict[str, Any]
    physical_names: dict[str, str] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.document["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res["Type"] == resource_type}

    def parameter_default(self, name: str) -> Any:
        return self.document.get("Parameters", {}).get(name, {}).get("Default")

    # ------------------------------------------------------------- intrinsic resolution
    def resolve(self, value: Any, arns: dict[str, str] | None = None) -> Any:
        """Resolve Ref / GetAtt / Sub against physical names (and ARNs once resources exist)."""
        arns = arns or {}
        if isinstance(value, dict) and len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Ref":
                if f"{inner}.Ref" in arns:  # a resource whose Ref is its ARN (a secret), once created
                    return arns[f"{inner}.Ref"]
                if inner in self.physical_names:
                    return self.physical_names[inner]
                if inner.endswith(".Stage"):
                    return self.parameter_default("StageName")
                if inner == "AWS::Region":
                    return REGION
                return self.parameter_default(inner)
            if key == "Fn::GetAtt":
                logical, attribute = inner
                return arns.get(f"{logical}.{attribute}") or self._attribute(logical, attribute)
            if key == "Fn::Sub":
                return self._sub(inner, arns)
        if isinstance(value, dict):
            return {k: self.resolve(v, arns) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, arns) for v in value]
        return value

    def _attribute(self, logical: str, attribute: str) -> str:
        name = self.physical_names.get(logical, logical)
        resource_type = self.resources[logical]["Type"]
        if attribute == "Arn":
            if resource_type == "AWS::DynamoDB::Table":
                return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            if resource_type == "AWS::SQS::Queue":
                return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            if resource_type == "AWS::S3::Bucket":
                return f"arn:aws:s3:::{name}"
            if resource_type == "AWS::Serverless::Function":
                return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        if attribute == "QueueName":
            return name
        raise KeyError(f"cannot resolve !GetAtt {logical}.{attribute} locally")

    def _sub(self, spec: Any, arns: dict[str, str]) -> str:
        text, variables = (spec, {}) if isinstance(spec, str) else (spec[0], spec[1])
        out, position = [], 0
        while (start := text.find("${", position)) != -1:
            end = text.index("}", start)
            out.append(text[position:start])
            token = text[start + 2 : end]
            if token in variables:
                out.append(str(self.resolve(variables[token], arns)))
            elif "." in token and not token.startswith("AWS::"):
                logical, attribute = token.split(".", 1)
                out.append(self.resolve({"Fn::GetAtt": [logical, attribute]}, arns))
            else:
                out.append(str(self.resolve({"Ref": token}, arns)))
            position = end + 1
        out.append(text[position:])
        return "".join(out)

    # ------------------------------------------------------------- functions and events
    def functions(self) -> dict[str, FunctionSpec]:
        globals_ = self.document.get("Globals", {}).get("Function", {})
        specs = {}
        for logical, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource["Properties"]
            environment = {
                **globals_.get("Environment", {}).get("Variables", {}),
                **props.get("Environment", {}).get("Variables", {}),
            }
            specs[logical] = FunctionSpec(
                logical_id=logical,
                code_uri=ROOT / props["CodeUri"],
                handler=props.get("Handler", globals_.get("Handler", "app.lambda_handler")),
                environment={name: self.resolve(value) for name, value in environment.items()},
                events=props.get("Events", {}),
                timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
                environment_source=environment,
            )
        return specs

    def event_sources(self, event_type: str) -> list[tuple[str, dict[str, Any]]]:
        """(function, event properties) for every event of a type (``SQS``, ``DynamoDB``, ``Api``)."""
        found = []
        for logical, spec in self.functions().items():
            for event in spec.events.values():
                if event["Type"] == event_type:
                    found.append((logical, event["Properties"]))
        return found

    def event_source(self, function: str, event_type: str) -> dict[str, Any]:
        """The properties of a function's one event of a type (its SQS queue, its stream)."""
        ((properties),) = (props for logical, props in self.event_sources(event_type) if logical == function)
        return properties

    def routes(self) -> list[Route]:
        return [
            Route(path=props["Path"], method=props["Method"].upper(), function=logical)
            for logical, props in self.event_sources("Api")
        ]

    def api(self) -> dict[str, Any]:
        (api,) = self.of_type("AWS::Serverless::Api").values()
        return api["Properties"]

    def authorizer(self) -> AuthorizerSpec:
        auth = self.api()["Auth"]
        config = auth["Authorizers"][auth["DefaultAuthorizer"]]
        function = config["FunctionArn"]["Fn::GetAtt"][0]
        identity = config.get("Identity", {})
        return AuthorizerSpec(
            function=function,
            identity_headers=tuple(identity.get("Headers", ())),
            ttl_seconds=int(identity.get("ReauthorizeEvery", 300)),
        )

    def gateway_responses(self) -> dict[str, dict[str, Any]]:
        return self.api().get("GatewayResponses", {})

    def usage_plan_throttles(self) -> tuple[dict[str, dict[str, float]], dict[str, float] | None]:
        """Per-method throttles keyed ``"<resource path>/<METHOD>"`` and the plan-wide default."""
        plans = self.of_type("AWS::ApiGateway::UsagePlan")
        if not plans:
            return {}, None
        (plan,) = plans.values()
        props = plan["Properties"]
        methods: dict[str, dict[str, float]] = {}
        for stage in props.get("ApiStages", []):
            methods.update(stage.get("Throttle", {}))
        return methods, props.get("Throttle")

    def stage_name(self) -> str:
        return str(self.resolve(self.api()["StageName"]))


_NAMED_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::S3::Bucket",
    "AWS::Serverless::Function",
    "AWS::SecretsManager::Secret",
)


@lru_cache(maxsize=1)
def _cached_document() -> str:
    return json.dumps(load_template_document())


def load_template(stack_name: str = "request-logs-local") -> Template:
    """A fresh Template (its own physical-name map) over the parsed ``template.yaml``."""
    template = Template(json.loads(_cached_document()))
    for logical, resource in template.resources.items():
        if resource["Type"] in _NAMED_TYPES:
            name = f"{stack_name}-{logical}"
            # S3 bucket names must be lower case.
            template.physical_names[logical] = name.lower() if resource["Type"] == "AWS::S3::Bucket" else name
    return template
