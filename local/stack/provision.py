"""Create every table, queue and bucket of ``template.yaml`` in moto (in process or server mode).

Properties are passed through from the template as they are, so the local tables have exactly the
deployed key schemas, indexes, streams and TTL attributes.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import boto3

from local.stack.template import REGION, Template, load_template


@dataclass
class Stack:
    template: Template
    queue_urls: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)
    stream_arns: dict[str, str] = field(default_factory=dict)
    secret_values: dict[str, str] = field(default_factory=dict)  # secret ARN → its value

    def name(self, logical_id: str) -> str:
        return self.template.physical_names[logical_id]

    def function_environment(self) -> dict[str, str]:
        """The union of every function's environment (they must agree where they overlap), plus what only
        a local run sets (``LOCAL_ENVIRONMENT``)."""
        merged: dict[str, str] = dict(LOCAL_ENVIRONMENT)
        for spec in self.template.functions().values():
            for key, value in spec.environment_source.items():
                resolved = self._dynamic_references(str(self.template.resolve(value, self.arns)))
                if merged.get(key, resolved) != resolved:
                    raise ValueError(f"functions disagree on environment variable {key}")
                merged[key] = resolved
        return merged

    def resource_names(self) -> dict[str, str]:
        """The tables' and buckets' physical names, by the environment variable that carries each (what
        ``make run`` tells ``make admin`` through its state file)."""
        environment = self.function_environment()
        return {name: value for name, value in environment.items() if name.endswith(("_TABLE", "_BUCKET"))}

    def _dynamic_references(self, value: str) -> str:
        """``{{resolve:secretsmanager:<arn>:SecretString}}``, as CloudFormation resolves it at deploy time."""
        # A stack not provisioned in this process (the admin CLI reading table names) leaves them as they are.
        return _SECRET_REFERENCE.sub(lambda match: self.secret_values.get(match["arn"], match[0]), value)

    def read_provisioned_values(self, session: boto3.Session) -> None:
        """Learn the secrets' values and the queues' URLs from a stack provisioned elsewhere (``make run``'s
        moto server)."""
        sqs = session.client("sqs")
        for logical in self.template.of_type("AWS::SQS::Queue"):
            url = sqs.get_queue_url(QueueName=self.name(logical))["QueueUrl"]
            self.queue_urls[logical] = self.arns[f"{logical}.Ref"] = url
        client = session.client("secretsmanager")
        for logical in self.template.of_type("AWS::SecretsManager::Secret"):
            secret = client.get_secret_value(SecretId=self.name(logical))
            self.arns[f"{logical}.Ref"] = secret["ARN"]
            self.secret_values[secret["ARN"]] = secret["SecretString"]


# No CloudWatch reads the functions' metrics here: Powertools would print each invocation's EMF document
# among the log lines. Off unless a caller turns them on (the metrics tests do).
LOCAL_ENVIRONMENT = {"POWERTOOLS_METRICS_DISABLED": "true"}

_SECRET_REFERENCE = re.compile(r"\{\{resolve:secretsmanager:(?P<arn>[^}]+?):SecretString\}\}")


def _table_request(name: str, props: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if index_kind in props:
            request[index_kind] = props[index_kind]
    if "StreamSpecification" in props:
        request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    return request


def provision(template: Template | None = None, session: boto3.Session | None = None) -> Stack:
    template = template or load_template()
    session = session or boto3.Session(region_name=REGION)
    stack = Stack(template)
    dynamodb = session.client("dynamodb")
    sqs = session.client("sqs")
    s3 = session.client("s3")

    for logical, resource in template.of_type("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        description = dynamodb.create_table(**_table_request(stack.name(logical), props))["TableDescription"]
        stack.arns[f"{logical}.Arn"] = description["TableArn"]
        if "LatestStreamArn" in description:
            stack.arns[f"{logical}.StreamArn"] = description["LatestStreamArn"]
            stack.stream_arns[logical] = description["LatestStreamArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=stack.name(logical),
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )

    queues = template.of_type("AWS::SQS::Queue")
    for logical in queues:
        url = sqs.create_queue(QueueName=stack.name(logical))["QueueUrl"]
        stack.queue_urls[logical] = url
        stack.arns[f"{logical}.Ref"] = url  # a queue's Ref is its URL
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        stack.arns[f"{logical}.Arn"] = arn
    for logical, resource in queues.items():
        props = template.resolve(resource.get("Properties", {}), stack.arns)
        attributes = {
            name: str(props[name])
            for name in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
            if name in props
        }
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        if attributes:
            sqs.set_queue_attributes(QueueUrl=stack.queue_urls[logical], Attributes=attributes)

    secretsmanager = session.client("secretsmanager")
    for logical, resource in template.of_type("AWS::SecretsManager::Secret").items():
        generate = resource.get("Properties", {}).get("GenerateSecretString", {})
        # What CloudFormation does for GenerateSecretString: a random value nobody has seen.
        value = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
        created = secretsmanager.create_secret(Name=stack.name(logical), SecretString=value)
        stack.arns[f"{logical}.Ref"] = created["ARN"]
        stack.secret_values[created["ARN"]] = value

    for logical, resource in template.of_type("AWS::S3::Bucket").items():
        bucket = stack.name(logical)
        s3.create_bucket(Bucket=bucket)
        stack.arns[f"{logical}.Arn"] = f"arn:aws:s3:::{bucket}"
        lifecycle = resource.get("Properties", {}).get("LifecycleConfiguration")
        if lifecycle:
            rules = [
                {
                    "ID": rule.get("Id", f"rule{position}"),
                    "Status": rule["Status"],
                    "Filter": {"Prefix": rule.get("Prefix", "")},
                    "Expiration": {"Days": rule["ExpirationInDays"]},
                }
                for position, rule in enumerate(lifecycle["Rules"])
            ]
            s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    return stack
