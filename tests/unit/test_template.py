"""template.yaml as deployed: aws-sam-translator expands it into the CloudFormation that would really be
created, and these tests read that output. cfn-lint checks resource schemas but not what SAM generates
from event sources, authorizers and policies, nor whether the template agrees with the code."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from local.emulator.lambda_runtime import load_module
from local.stack.template import LAYER_PATH, REGION, ROOT, TEMPLATE_PATH, load_template, load_template_document
from request_logs.api.errors import allowed_methods
from request_logs.config import ENVIRONMENT_VARIABLES, get_settings
from request_logs.domain.exports import EXPORT_RETENTION, PartLimits, export_expiry_s
from request_logs.domain.retention import CONTENT_RETENTION, LOG_RETENTION, content_expiry_s
from request_logs.domain.timeutil import parse_instant
from request_logs.logic.export_run import LEASE_MS
from request_logs.logic.ingest import request_log_from
from request_logs.models.messages import RequestCompleted
from request_logs.store import keys
from request_logs.store.indexes import (
    BUCKET_PARTITION,
    ERROR_BUCKET_PARTITION,
    ERROR_VALUE_INDEXES,
    FILTER_INDEXES,
    LATENCY_BUCKET_PARTITION,
    LISTED_ATTRIBUTES,
    MAX_INDEXED_METADATA_KEYS,
    METADATA_SLOTS,
    USER_INDEX,
    VALUE_INDEXES,
    indexed,
    is_keys_only,
    metadata_index,
)
from request_logs.store.items import SUMMARY_ATTRIBUTES, StoredContent, log_to_item
from tests.sam_translated import functions, granted, of_type, role_of, translate

SAMPLE_MESSAGE = {
    "request_id": "req_template_check",
    "account_id": "acct_template",
    "api_key_id": "key_template",
    "api_key_prefix": "sk-abc1...",
    "model": "openai/gpt-4o",
    "provider": "openai",
    "endpoint": "/v1/chat/completions",
    "method": "POST",
    "status": "error",
    "status_code": 429,
    "error": {"type": "rate_limit_error", "code": "rate_limit_exceeded", "message": "Slow down."},
    "created_at": "2026-11-19T09:15:00Z",
    "completed_at": "2026-11-19T09:15:00.150Z",
    "latency_ms": 150,
    "input_tokens": 12,
    "output_tokens": 0,
    "streaming": False,
    "request": {"model": "openai/gpt-4o", "messages": []},
}

# What each function may do, and to which resource (logical id, plus any ARN suffix). A new function
# fails test_every_function_has_least_privilege until its permissions are declared here; the calls the
# code really makes are checked against the template in tests/integration/test_function_tour.py.
LIST_READS = {
    # Listing reads through key conditions only: never a Scan, never a write.
    "dynamodb:Query": {"RequestLogsTable", "RequestLogsTable/index/*"},
    # Exact totals from rollups: the account's progress item and the bucket items, by key; the account's
    # indexed metadata keys (metadata filters).
    "dynamodb:GetItem": {"StatsTable", "ApiKeysTable"},
    # Rollups by key; a page found through a value index (sorted, or inside a bound) fetched by key.
    "dynamodb:BatchGetItem": {"StatsTable", "RequestLogsTable"},
}
PERMISSIONS: dict[str, dict[str, set[str]]] = {
    "AuthorizerFunction": {"dynamodb:GetItem": {"ApiKeysTable"}},
    # A 405 needs nothing but the request.
    "MethodNotAllowedFunction": {},
    "ListRequestLogsFunction": LIST_READS,
    "EnhancedRequestLogsFunction": LIST_READS,
    "GetRequestLogFunction": {"dynamodb:GetItem": {"RequestLogsTable"}},
    "GetRequestLogDetailsFunction": {
        "dynamodb:GetItem": {"RequestLogsTable", "RequestContentTable"},
        "s3:GetObject": {"ContentBucket/content/*"},
    },
    "IngestFunction": {
        # The log by a conditional put (idempotency); the content in batches, unconditionally.
        "dynamodb:PutItem": {"RequestLogsTable"},
        "dynamodb:BatchWriteItem": {"RequestContentTable"},
        # A late log (created long before it arrives) is recorded on the account's progress item.
        "dynamodb:UpdateItem": {"StatsTable"},
        "s3:PutObject": {"ContentBucket/content/*"},
        # The account's indexed metadata keys, once per account and batch.
        "dynamodb:GetItem": {"ApiKeysTable"},
    },
    # Stats read rollups and, for the partial hours at a range's edges, the base table (never an index).
    # The account's indexed metadata keys for group_by=metadata.<key>.
    "GetRequestLogStatsFunction": {
        "dynamodb:Query": {"StatsTable", "RequestLogsTable"},
        "dynamodb:GetItem": {"ApiKeysTable"},
    },
    # One conditional put per rollup item after one batched read, and the progress item's update; SAM
    # adds the on-failure destination.
    "StatsAggregatorFunction": {
        "dynamodb:BatchGetItem": {"StatsTable"},
        "dynamodb:PutItem": {"StatsTable"},
        "dynamodb:UpdateItem": {"StatsTable"},
        # The on-failure destination, and settling asked for after late logs.
        "sqs:SendMessage": {"StatsAggregatorFailureQueue", "SettleQueue"},
    },
    # Exports (decisions §34). Starting one: the account's indexed keys (a metadata filter), its lock and the
    # record by conditional puts, the first message.
    "CreateExportFunction": {
        "dynamodb:GetItem": {"ApiKeysTable"},
        "dynamodb:PutItem": {"ExportsTable"},
        "sqs:SendMessage": {"ExportQueue"},
    },
    # Reading one: its record, and the downloads its presigned URLs grant (signed with this role).
    "GetExportFunction": {"dynamodb:GetItem": {"ExportsTable"}, "s3:GetObject": {"ExportsBucket/exports/*"}},
    "ListExportsFunction": {"dynamodb:Query": {"ExportsTable"}},
    # Running one: the list's reads and the content's (a page's at once, big bodies from S3), its record's
    # lease and checkpoints, the account's lock, its files, and the message of its next run.
    "ExportLogsFunction": {
        "dynamodb:Query": {"RequestLogsTable", "RequestLogsTable/index/*"},
        "dynamodb:BatchGetItem": {"RequestLogsTable", "StatsTable", "RequestContentTable"},
        "dynamodb:GetItem": {"StatsTable", "ApiKeysTable", "ExportsTable"},
        "dynamodb:UpdateItem": {"ExportsTable"},
        "dynamodb:PutItem": {"ExportsTable"},
        "dynamodb:DeleteItem": {"ExportsTable"},
        "s3:GetObject": {"ContentBucket/content/*"},
        "s3:PutObject": {"ExportsBucket/exports/*"},
        "sqs:SendMessage": {"ExportQueue"},
    },
    # Reads an account's progress, writes markers into its log partitions, or asks again later.
    "SettleFunction": {
        "dynamodb:GetItem": {"StatsTable"},
        "dynamodb:UpdateItem": {"StatsTable"},
        "dynamodb:BatchWriteItem": {"RequestLogsTable"},
        "sqs:SendMessage": {"SettleQueue"},
    },
}
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# SAM attaches these to every SQS and stream consumer (reading the event source); not ours to narrow.
SQS_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
DYNAMODB_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"

# Spec "Rate Limits", per key, by route.
SPEC_RATE_PER_MINUTE = {
    "/api/account/request-logs": 60,
    "/api/account/request-logs/enhanced": 60,
    "/api/account/request-logs/{id}": 120,
    "/api/account/request-logs/{id}/details": 120,
    "/api/account/request-logs/stats": 30,
}
# Beyond the spec (decisions §34): exports, per route and method (a path with two methods).
EXPORT_RATE_PER_MINUTE = {
    "/api/account/request-logs/exports/POST": 30,
    "/api/account/request-logs/exports/GET": 60,
    "/api/account/request-logs/exports/{id}/GET": 120,
}

# Gateway responses every error path of API Gateway itself must customise to the one JSON error shape.
GATEWAY_RESPONSES = {
    "UNAUTHORIZED": ("401", "authentication_error"),
    "ACCESS_DENIED": ("401", "authentication_error"),
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found_error"),
    "THROTTLED": ("429", "rate_limit_error"),
    "DEFAULT_4XX": (None, "invalid_request_error"),
    "DEFAULT_5XX": (None, "api_error"),
}
# What API Gateway substitutes for the context variables of a gateway-response template. messageString
# is documented as "the quoted value of $context.error.message": it must not be quoted again.
RUNTIME_VALUES = {
    "$context.error.message": "Missing Authentication Token",
    "$context.error.messageString": json.dumps("Missing Authentication Token"),
    "$context.error.validationErrorString": "Missing required request parameters: [Authorization]",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_template_document()


@pytest.fixture(scope="module")
def resources(document: dict[str, Any]) -> dict[str, Any]:
    return translate(document)


def rest_api_body(resources: dict[str, Any]) -> dict[str, Any]:
    (api,) = of_type(resources, "AWS::ApiGateway::RestApi").values()
    body: dict[str, Any] = api["Properties"]["Body"]
    return body


# ------------------------------------------------------------------ ingest event source
def event_source_of(resources: dict[str, Any], function: str) -> dict[str, Any]:
    (mapping,) = [
        mapping
        for mapping in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == {"Ref": function}
    ]
    properties: dict[str, Any] = mapping["Properties"]
    return properties


def test_ingest_event_source_reports_partial_batch_failures(resources: dict[str, Any]) -> None:
    properties = event_source_of(resources, "IngestFunction")
    assert properties["EventSourceArn"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == 10
    assert properties["MaximumBatchingWindowInSeconds"] == 1


def test_ingest_queue_redrives_to_its_dead_letter_queue(resources: dict[str, Any]) -> None:
    queue = resources["IngestQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]}
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 1
    # Lambda's guidance: a visibility timeout of at least six times the consumer's timeout, so a message
    # is not handed out again while a slow batch holding it is still running.
    assert queue["VisibilityTimeout"] >= 6 * resources["IngestFunction"]["Properties"]["Timeout"]


# ------------------------------------------------------------------ aggregator event source
def test_aggregator_event_source_sees_inserts_only_and_gives_up_on_a_batch_only_after_bounded_retries(
    resources: dict[str, Any],
) -> None:
    properties = event_source_of(resources, "StatsAggregatorFunction")
    assert properties["EventSourceArn"] == {"Fn::GetAtt": ["RequestLogsTable", "StreamArn"]}
    # TTL deletions (REMOVE) must never change stats, which are kept forever.
    assert [json.loads(f["Pattern"]) for f in properties["FilterCriteria"]["Filters"]] == [{"eventName": ["INSERT"]}]
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BisectBatchOnFunctionError"] is True
    # One batch per shard at a time keeps each log partition's records in order (docs/decisions.md §13).
    assert properties["ParallelizationFactor"] == 1
    assert 0 < properties["MaximumRetryAttempts"] <= 100
    assert 0 < properties["MaximumRecordAgeInSeconds"] < 86_400  # below the stream's 24 h retention
    assert properties["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StatsAggregatorFailureQueue", "Arn"]
    }
    alarmed = {
        json.dumps(alarm["Properties"]["Dimensions"]) for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values()
    }
    assert json.dumps([{"Name": "FunctionName", "Value": {"Ref": "StatsAggregatorFunction"}}]) in alarmed
    assert (
        json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["StatsAggregatorFailureQueue", "QueueName"]}}])
        in alarmed
    )


# ------------------------------------------------------------------ REST API and authorizer
def test_rest_api_takes_api_keys_from_the_authorizer(resources: dict[str, Any]) -> None:
    (api,) = of_type(resources, "AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["ApiKeySourceType"] == "AUTHORIZER"


def test_request_authorizer_on_the_authorization_header(resources: dict[str, Any]) -> None:
    definition = rest_api_body(resources)["securityDefinitions"]["BearerKeyAuthorizer"]
    authorizer = definition["x-amazon-apigateway-authorizer"]
    assert definition["x-amazon-apigateway-authtype"] == "custom"
    assert authorizer["type"] == "request"
    assert authorizer["identitySource"] == "method.request.header.Authorization"
    assert authorizer["authorizerResultTtlInSeconds"] == load_template().authorizer().ttl_seconds == 300
    assert authorizer["authorizerUri"]["Fn::Sub"][1]["__FunctionArn__"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    permissions = of_type(resources, "AWS::Lambda::Permission").values()
    assert any(
        permission["Properties"]["FunctionName"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
        for permission in permissions
    )


def test_every_route_requires_the_authorizer_and_an_api_key(resources: dict[str, Any]) -> None:
    paths = rest_api_body(resources)["paths"]
    any_method = "X-AMAZON-APIGATEWAY-ANY-METHOD"  # how an ANY route reaches API Gateway
    assert {
        (path, "ANY" if method.upper() == any_method else method.upper())
        for path, methods in paths.items()
        for method in methods
    } == {(route.path, route.method) for route in load_template().routes()}
    for methods in paths.values():
        for operation in methods.values():
            assert {"BearerKeyAuthorizer": []} in operation["security"]
            assert {"api_key": []} in operation["security"]
            assert operation["x-amazon-apigateway-integration"]["type"] == "aws_proxy"


def render(template_text: str) -> str:
    def value(match: re.Match[str]) -> str:
        variable = match.group(0)
        assert variable in RUNTIME_VALUES, f"add the runtime value of {variable} to RUNTIME_VALUES"
        return RUNTIME_VALUES[variable]

    return re.sub(r"\$context\.[A-Za-z.]*[A-Za-z]", value, template_text)


@pytest.mark.parametrize("response_type", sorted(GATEWAY_RESPONSES))
def test_gateway_response_is_the_json_error_shape(resources: dict[str, Any], response_type: str) -> None:
    status, error_type = GATEWAY_RESPONSES[response_type]
    response = rest_api_body(resources)["x-amazon-apigateway-gateway-responses"][response_type]
    assert response.get("statusCode") == status
    assert response["responseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"
    # As the client receives it: context variables substituted, then parsed.
    body = json.loads(render(response["responseTemplates"]["application/json"]))
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "code", "message"}
    assert body["error"]["type"] == error_type
    assert body["error"]["code"]
    assert body["error"]["message"]
    if response_type == "THROTTLED":
        # API Gateway cannot compute the wait: the static header is the longest one, stats' 1 / 0.5 rps.
        assert response["responseParameters"]["gatewayresponse.header.Retry-After"] == "'2'"


def test_every_gateway_response_renders_to_json(resources: dict[str, Any]) -> None:
    for response_type, response in rest_api_body(resources)["x-amazon-apigateway-gateway-responses"].items():
        assert "error" in json.loads(render(response["responseTemplates"]["application/json"])), response_type


def test_usage_plan_throttles_every_route_at_the_spec_rate(resources: dict[str, Any]) -> None:
    (plan,) = of_type(resources, "AWS::ApiGateway::UsagePlan").values()
    (stage,) = plan["Properties"]["ApiStages"]
    throttles = stage["Throttle"]
    # The ANY routes (405s) take the plan's default throttle: no spec rate to meet.
    routes = {f"{route.path}/{route.method}": route for route in load_template().routes() if route.method != "ANY"}
    # A throttle key naming no route is silently ignored by API Gateway: a typo there disables a limit.
    assert set(throttles) == set(routes)
    for key, route in routes.items():
        if key in EXPORT_RATE_PER_MINUTE:
            assert throttles[key]["RateLimit"] * 60 == EXPORT_RATE_PER_MINUTE[key], key
            continue
        assert route.path in SPEC_RATE_PER_MINUTE, f"declare the spec's rate limit of {route.path}"
        assert throttles[key]["RateLimit"] * 60 == SPEC_RATE_PER_MINUTE[route.path], key
    # The static Retry-After of THROTTLED ('2') is the wait of the slowest route: no route may be slower.
    assert min(throttle["RateLimit"] for throttle in throttles.values()) >= 0.5


# ------------------------------------------------------------------ least privilege
def test_every_function_has_least_privilege(resources: dict[str, Any]) -> None:
    assert functions(resources) == sorted(PERMISSIONS), "declare a new function's permissions in PERMISSIONS"
    consumers = {
        mapping["Properties"]["FunctionName"]["Ref"]: (
            DYNAMODB_EXECUTION
            if mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn"
            else SQS_EXECUTION
        )
        for mapping in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    }
    for function in functions(resources):
        role = role_of(resources, function)
        assert granted(role) == PERMISSIONS[function], function
        expected_managed = [BASIC_EXECUTION, consumers[function]] if function in consumers else [BASIC_EXECUTION]
        assert role["Properties"]["ManagedPolicyArns"] == expected_managed, function


def test_only_this_apis_routes_and_authorizer_may_invoke_the_functions(resources: dict[str, Any]) -> None:
    """Each resource policy SAM writes names API Gateway on this API (a route of it, or its authorizers),
    never any API; the SQS and stream consumers have none (their event sources use the role)."""
    template = load_template()
    invocable = set()
    for permission in of_type(resources, "AWS::Lambda::Permission").values():
        properties = permission["Properties"]
        assert properties["Action"] == "lambda:InvokeFunction"
        assert properties["Principal"] == "apigateway.amazonaws.com"
        arn, variables = properties["SourceArn"]["Fn::Sub"]
        assert arn.startswith("arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/"), arn
        assert variables["__ApiId__"] == {"Ref": "RequestLogsApi"}
        function = properties["FunctionName"]
        invocable.add(function["Ref"] if "Ref" in function else function["Fn::GetAtt"][0])
    assert invocable == {route.function for route in template.routes()} | {template.authorizer().function}


# ------------------------------------------------------------------ the template agrees with the code
def test_every_route_has_a_matching_powertools_route(monkeypatch: pytest.MonkeyPatch) -> None:
    # A function refuses to start without its settings: give it stand-ins (nothing is called here).
    for variable in ENVIRONMENT_VARIABLES.values():
        monkeypatch.setenv(variable, f"stand-in-{variable.lower()}")
    get_settings.cache_clear()
    template = load_template()
    specs = template.functions()
    for route in template.routes():
        spec = specs[route.function]
        if route.method == "ANY":
            continue  # every other method's 405: no resolver (tests/integration/test_method_not_allowed.py)
        assert spec.code_uri.parent == ROOT / "functions"
        assert (spec.code_uri / "app.py").is_file(), spec.code_uri
        module = load_module(spec)
        served = {
            (path, method.upper())
            for path, item in module.app.get_openapi_schema().paths.items()
            for method in item.model_dump(exclude_none=True)
        }
        # The handler serves exactly the template's route for it: nothing unreachable, nothing missing.
        assert served == {(r.path, r.method) for r in template.routes() if r.function == route.function}
    get_settings.cache_clear()  # the stand-ins are this test's only


def table_of(document: dict[str, Any], variable: str) -> dict[str, Any]:
    """The table a function environment variable (LOGS_TABLE, CONTENT_TABLE...) names."""
    reference = document["Globals"]["Function"]["Environment"]["Variables"][variable]
    table: dict[str, Any] = document["Resources"][reference["Ref"]]
    assert table["Type"] == "AWS::DynamoDB::Table"
    return table


def test_filter_indexes_exist_with_their_key_attributes(document: dict[str, Any]) -> None:
    table = table_of(document, "LOGS_TABLE")["Properties"]
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    attribute_types = {
        attribute["AttributeName"]: attribute["AttributeType"] for attribute in table["AttributeDefinitions"]
    }
    item_log = request_log_from(RequestCompleted.model_validate(SAMPLE_MESSAGE))
    item = log_to_item(item_log)
    for filter_name, (index_name, key_attribute) in FILTER_INDEXES.items():
        assert index_name in indexes, filter_name
        index = indexes[index_name]
        assert {key["KeyType"]: key["AttributeName"] for key in index["KeySchema"]} == {
            "HASH": key_attribute,
            "RANGE": "sk",
        }
        assert attribute_types[key_attribute] == "S"
        # The store writes the key, so every log lands in the index (the status index: errors only).
        if indexed(filter_name, getattr(item_log, filter_name)):
            assert isinstance(item[key_attribute], str), key_attribute
        else:
            assert key_attribute not in item, key_attribute
    for sort, value_index in VALUE_INDEXES.items():
        errors_index = ERROR_VALUE_INDEXES[sort]
        for each in (value_index, errors_index):
            assert {key["KeyType"]: key["AttributeName"] for key in indexes[each.name]["KeySchema"]} == {
                "HASH": each.partition,
                "RANGE": each.value,
            }
            assert attribute_types[each.partition] == "S" and attribute_types[each.value] == "N", each
        assert errors_index.partition == ERROR_BUCKET_PARTITION and errors_index.value == value_index.value
        assert value_index.partition in item and value_index.value in item, sort
    assert VALUE_INDEXES["latency"].partition == LATENCY_BUCKET_PARTITION
    assert {index.partition for index in VALUE_INDEXES.values()} == {BUCKET_PARTITION, LATENCY_BUCKET_PARTITION}
    # Sparse: only errors carry the errors' half-day partition, with the value of the half-day partition.
    error = log_to_item(replace(item_log, status="error"))
    assert ERROR_BUCKET_PARTITION not in item if item_log.status != "error" else item[ERROR_BUCKET_PARTITION]
    assert error[ERROR_BUCKET_PARTITION] == error[BUCKET_PARTITION]


# DynamoDB: "the total count of attributes provided in NonKeyAttributes, summed across all of the secondary
# indexes, must not exceed 100" (an attribute projected into two indexes counts twice). moto does not check.
MAX_PROJECTED_ATTRIBUTES = 100


def test_every_index_projects_what_lists_and_summaries_read_within_dynamodbs_limit(document: dict[str, Any]) -> None:
    table = table_of(document, "LOGS_TABLE")["Properties"]
    projected = 0
    for index in table["GlobalSecondaryIndexes"]:
        projection = index["Projection"]
        if projection["ProjectionType"] in ("ALL", "KEYS_ONLY"):
            continue
        assert projection["ProjectionType"] == "INCLUDE", index["IndexName"]
        keys = {key["AttributeName"] for key in index["KeySchema"]}
        # Every listed attribute is there, as a key of the index or projected (a key projected again is refused).
        assert set(projection["NonKeyAttributes"]) == set(LISTED_ATTRIBUTES) - keys, index["IndexName"]
        projected += len(projection["NonKeyAttributes"])
    assert projected <= MAX_PROJECTED_ATTRIBUTES


def test_a_logs_summary_attributes_are_all_projected() -> None:
    assert set(SUMMARY_ATTRIBUTES) <= set(LISTED_ATTRIBUTES)


def test_ttl_attributes_are_what_the_store_writes(document: dict[str, Any]) -> None:
    created_ms = parse_instant(SAMPLE_MESSAGE["created_at"])
    log_item = log_to_item(request_log_from(RequestCompleted.model_validate(SAMPLE_MESSAGE)))
    content_item = StoredContent("acct_template", "log_x", expires_at=content_expiry_s(created_ms)).to_item()
    for variable, item, retention in (
        ("LOGS_TABLE", log_item, LOG_RETENTION),
        ("CONTENT_TABLE", content_item, CONTENT_RETENTION),
    ):
        ttl = table_of(document, variable)["Properties"]["TimeToLiveSpecification"]
        assert ttl["Enabled"] is True
        # DynamoDB expects epoch seconds; anything else (ms, an ISO string) is never expired.
        assert item[ttl["AttributeName"]] == created_ms // 1000 + int(retention.total_seconds()), variable


def test_layer_never_bundles_boto3() -> None:
    """The Lambda runtime provides boto3; a bundled copy would shadow it and bloat every cold start."""
    requirements = (LAYER_PATH / "requirements.txt").read_text().splitlines()
    names = {
        re.split(r"[\s\[<>=!~;]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
        for line in requirements
        if line.strip() and not line.strip().startswith("#")
    }
    assert names
    assert not names & {"boto3", "botocore", "s3transfer", "aioboto3", "aiobotocore"}


def test_cfn_lint_passes() -> None:
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(TEMPLATE_PATH, config=ManualArgs(regions=[REGION]))
    assert [str(match) for match in matches] == []


def test_attribution_indexes_are_sparse_slots_within_the_gsi_limit(document: dict[str, Any]) -> None:
    table = table_of(document, "LOGS_TABLE")["Properties"]
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert len(indexes) <= 20  # DynamoDB's limit of GSIs per table
    expected = [USER_INDEX, *(metadata_index(slot) for slot in METADATA_SLOTS)]
    assert len(METADATA_SLOTS) == MAX_INDEXED_METADATA_KEYS
    for index_name, key_attribute in expected:
        assert {key["KeyType"]: key["AttributeName"] for key in indexes[index_name]["KeySchema"]} == {
            "HASH": key_attribute,
            "RANGE": "sk",
        }
        # Keys only, as the store's plan expects (DynamoDB's 100 projected attributes are used up).
        assert indexes[index_name]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
        assert is_keys_only(index_name)
    message = {**SAMPLE_MESSAGE, "version": 2, "user": "u1", "metadata": {"feature": "chat", "other": "x"}}
    log = request_log_from(RequestCompleted.model_validate(message))
    item = log_to_item(log, {"feature": 2, "env": 3})
    shard = int(item["pk"].rpartition("#")[2])
    assert item["user_pk"] == f"acct_template#{shard}#u1"
    assert item["metadata_2_pk"] == f"acct_template#{shard}#feature=chat"
    # Sparse: a key the log lacks, or one the account does not index, writes no slot attribute.
    assert {name for name in item if name.startswith("metadata_") and name.endswith("_pk")} == {"metadata_2_pk"}
    assert item["metadata_indexed"] == ["env", "feature"]
    assert item["attribution"] == {"u=u1", "m:feature=chat"}
    plain = log_to_item(request_log_from(RequestCompleted.model_validate(SAMPLE_MESSAGE)))
    assert "user_pk" not in plain and "metadata_indexed" not in plain


# ------------------------------------------------------------------ exports
def test_exports_expire_after_7_days_in_the_bucket_and_in_the_table(document: dict[str, Any]) -> None:
    (rule,) = document["Resources"]["ExportsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == EXPORT_RETENTION.days == 7
    assert keys.export_object_key("acct_x", "exp_y", "part-00001.ndjson.gz").startswith(rule["Prefix"])
    ttl = document["Resources"]["ExportsTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}
    created_ms = parse_instant("2026-11-20T12:00:00Z")
    assert export_expiry_s(created_ms) == created_ms // 1000 + int(EXPORT_RETENTION.total_seconds())
    bucket = document["Resources"]["ExportsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())


def test_the_export_function_runs_one_message_at_a_time_and_outlives_no_lease(resources: dict[str, Any]) -> None:
    properties = event_source_of(resources, "ExportLogsFunction")
    assert properties["EventSourceArn"] == {"Fn::GetAtt": ["ExportQueue", "Arn"]}
    assert properties["BatchSize"] == 1
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    function = resources["ExportLogsFunction"]["Properties"]
    queue = resources["ExportQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["ExportDeadLetterQueue", "Arn"]}
    # A run's lease outlasts the function's longest run; a crashed run's message returns after both.
    assert function["Timeout"] * 1000 < LEASE_MS <= queue["VisibilityTimeout"] * 1000
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]
    # It hands over to its next run with time to spare.
    assert PartLimits().reserve_ms < function["Timeout"] * 1000 // 5
    # pyarrow is the export function's own: never in the layer every function loads.
    layer = (LAYER_PATH / "requirements.txt").read_text()
    assert "pyarrow" not in layer
    assert "pyarrow" in (ROOT / "functions" / "export_logs" / "requirements.txt").read_text()


def test_a_405_allows_exactly_the_methods_the_template_routes_on_its_path() -> None:
    routes = load_template().routes()
    for path in {route.path for route in routes if route.method == "ANY"}:
        methods = {route.method for route in routes if route.path == path and route.method != "ANY"}
        assert set(allowed_methods(path)) == methods, path
