"""``python -m local.deploy_dashboard`` against a deployed stack: moto's CloudFormation (the template's
dashboard bucket and the outputs the publisher reads), S3 and CloudFront in process. The site is a small
one in a temporary directory, with the vendored files under the keys the real list gives them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import deploy_dashboard
from local.deploy_dashboard import (
    IMMUTABLE,
    REVALIDATE,
    UNVERSIONED_VENDOR,
    DashboardTarget,
    cache_control,
    main,
    publish,
)
from local.stack import dashboard
from local.stack.dashboard import dashboard_assets
from local.stack.template import load_template_document

STACK = "request-logs-prod"
SITE = {
    "index.html": "<!doctype html><title>Request logs</title><script type=module src=/app.js></script>",
    "app.js": "import './views/logs.js';",
    "views/logs.js": "export const view = 'logs';",
    "styles/app.css": "body { margin: 0 }",
    "favicon.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
}
STALE = ["old-app.js", "vendor/uPlot-1.6.31.min.js"]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dashboard's files in a temporary directory: the site's own, and the vendored ones at their keys."""
    site_dir = tmp_path / "site"
    for key, text in SITE.items():
        (site_dir / key).parent.mkdir(parents=True, exist_ok=True)
        (site_dir / key).write_text(text)
    vendor = {}
    for key in dashboard.VENDOR_FILES:
        vendor[key] = tmp_path / "node_modules" / key
        vendor[key].parent.mkdir(parents=True, exist_ok=True)
        vendor[key].write_text(f"/* {key} */")
    monkeypatch.setattr(dashboard, "SITE_DIR", site_dir)
    monkeypatch.setattr(dashboard, "VENDOR_FILES", vendor)
    # Never a developer's samconfig.toml.
    monkeypatch.setattr(deploy_dashboard, "SAMCONFIG", tmp_path / "samconfig.toml")
    return site_dir


@dataclass
class Deployed:
    bucket: str
    distribution_id: str


def create_distribution() -> str:
    created = boto3.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "dashboard",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "DashboardBucket",
                        "DomainName": "dashboard.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "DashboardBucket", "ViewerProtocolPolicy": "redirect-to-https"},
        }
    )
    return str(created["Distribution"]["Id"])


def create_stack(name: str, distribution_id: str, outputs: bool = True) -> None:
    bucket = load_template_document()["Resources"]["DashboardBucket"]
    body: dict[str, Any] = {"Resources": {"DashboardBucket": {"Type": bucket["Type"], "Properties": {}}}}
    if outputs:
        body["Outputs"] = {
            "DashboardBucketName": {"Value": {"Ref": "DashboardBucket"}},
            "DashboardDistributionId": {"Value": distribution_id},
            "DashboardUrl": {"Value": "https://d111111abcdef8.cloudfront.net/logs"},
        }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(body))


@pytest.fixture
def deployed(site: Path) -> Iterator[Deployed]:
    """The stack as deployed before this publish: its bucket holds files of an older dashboard."""
    with mock_aws():
        distribution_id = create_distribution()
        create_stack(STACK, distribution_id)
        (stack,) = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
        bucket = outputs["DashboardBucketName"]
        s3 = boto3.client("s3")
        for key in [*STALE, "index.html"]:
            s3.put_object(Bucket=bucket, Key=key, Body=b"old")
        yield Deployed(bucket, distribution_id)


def bucket_keys(bucket: str) -> set[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"] for item in listed}


def invalidated_paths(distribution_id: str) -> list[list[str]]:
    cloudfront = boto3.client("cloudfront")
    summaries = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    return [
        cloudfront.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])["Invalidation"][
            "InvalidationBatch"
        ]["Paths"]["Items"]
        for summary in summaries
    ]


def test_publishes_every_file_with_its_type_deletes_the_stale_ones_and_invalidates_once(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--stack-name", STACK]) == 0

    assets = dashboard_assets()
    assert {asset.key for asset in assets} == set(SITE) | set(dashboard.VENDOR_FILES)
    assert bucket_keys(deployed.bucket) == {asset.key for asset in assets}
    s3 = boto3.client("s3")
    for asset in assets:
        stored = s3.get_object(Bucket=deployed.bucket, Key=asset.key)
        assert stored["Body"].read() == asset.path.read_bytes(), asset.key
        assert stored["ContentType"] == asset.content_type, asset.key
        assert stored["CacheControl"] == cache_control(asset.key), asset.key
    assert s3.head_object(Bucket=deployed.bucket, Key="app.js")["ContentType"] == "text/javascript; charset=utf-8"
    assert invalidated_paths(deployed.distribution_id) == [["/*"]]
    out = capsys.readouterr().out
    assert f"{len(assets)} files" in out
    assert f"{len(STALE)} stale deleted" in out
    assert "https://d111111abcdef8.cloudfront.net/logs" in out


def test_index_is_uploaded_after_every_file_it_may_reference(deployed: Deployed) -> None:
    s3 = boto3.client("s3")
    order: list[str] = []
    s3.meta.events.register("before-call.s3.PutObject", lambda params, **_: order.append(params["url_path"]))
    target = DashboardTarget(deployed.bucket, deployed.distribution_id, "https://example.cloudfront.net/logs")

    published = publish(target, dashboard_assets(), s3=s3, cloudfront=boto3.client("cloudfront"))

    assert order[-1].endswith("/index.html")
    assert len(order) == len(published.uploaded) == len(SITE) + len(dashboard.VENDOR_FILES)
    assert published.uploaded[-1] == "index.html"
    assert sorted(published.deleted) == sorted(STALE)


def test_a_dashboard_without_its_page_publishes_nothing(deployed: Deployed, site: Path) -> None:
    (site / "index.html").unlink()
    before = bucket_keys(deployed.bucket)

    assert main(["--stack-name", STACK]) == 1

    assert bucket_keys(deployed.bucket) == before
    assert invalidated_paths(deployed.distribution_id) == []


def test_the_stack_name_comes_from_samconfig_when_not_given(deployed: Deployed, tmp_path: Path) -> None:
    # As `sam deploy --guided` writes it.
    (tmp_path / "samconfig.toml").write_text(
        'version = 0.1\n[default.deploy.parameters]\nstack_name = "request-logs-prod"\nregion = "us-east-1"\n'
    )

    assert main([]) == 0

    assert "index.html" in bucket_keys(deployed.bucket)
    assert len(invalidated_paths(deployed.distribution_id)) == 1


def test_no_stack_name_anywhere_is_a_one_line_error(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 1
    assert "no stack name" in capsys.readouterr().err


def test_a_stack_without_the_dashboard_outputs_is_refused(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        create_stack("someone-elses", "unused", outputs=False)
        assert main(["--stack-name", "someone-elses"]) == 1
    err = capsys.readouterr().err
    assert "has no output DashboardBucketName, DashboardDistributionId, DashboardUrl" in err


def test_an_unknown_stack_is_a_one_line_error(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        assert main(["--stack-name", "nope"]) == 1
    assert "cannot read stack 'nope'" in capsys.readouterr().err


def test_cache_control_revalidates_what_keeps_its_name() -> None:
    assert cache_control("index.html") == REVALIDATE
    assert cache_control("app.js") == REVALIDATE
    assert cache_control("views/logs.js") == REVALIDATE
    # The vendored files keep their names across upgrades: cached, but not for long.
    for key in dashboard.VENDOR_FILES:
        assert cache_control(key) == UNVERSIONED_VENDOR
    # Only a name carrying its content's hash never changes meaning.
    assert cache_control("assets/app.3f9a2c1d.js") == IMMUTABLE
    assert cache_control("vendor/uPlot-5e0b8f6a9c.min.css") == IMMUTABLE
