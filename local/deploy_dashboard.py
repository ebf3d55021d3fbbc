"""Publishes the dashboard to a deployed stack: ``make deploy`` runs it after ``sam deploy``.

``python -m local.deploy_dashboard [--stack-name NAME]`` reads the stack's outputs (``DashboardBucketName``,
``DashboardDistributionId``, ``DashboardUrl``), uploads every file of ``dashboard_assets()`` with its content
type and a Cache-Control, deletes the objects no longer in that list, then invalidates the distribution's
cache. Without ``--stack-name`` the stack is the one ``sam deploy --guided`` saved in ``samconfig.toml``.

Order matters to a visitor loading the page meanwhile: every other file first, ``index.html`` last (a new
page never references a file not yet uploaded), stale objects deleted only after that (an old page still
open finds its files until the new one is in place).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from local.stack.dashboard import INDEX_KEY, VENDOR_FILES, Asset, DashboardNotInstalled, dashboard_assets
from local.stack.template import ROOT

SAMCONFIG = ROOT / "samconfig.toml"
OUTPUTS = ("DashboardBucketName", "DashboardDistributionId", "DashboardUrl")

# The page and the site's own modules change with every deploy under the same names: the browser
# revalidates them on each load (a 304 when unchanged), so a deploy shows at the next reload.
REVALIDATE = "no-cache"
# A name that carries its content's hash never changes meaning: cached for a year, never revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
# The vendored chart library keeps its name across upgrades (uPlot.iife.min.js): an hour, so a browser
# runs an old copy beside new site code for at most that long after an upgrade.
UNVERSIONED_VENDOR = "public, max-age=3600"
# app.3f9a2c1d.js, uPlot-5e0b8f6a9c.min.css: a hex hash of at least 8 digits between dots or after a dash.
_VERSIONED_NAME = re.compile(r"[.-][0-9a-f]{8,}\.")
# DeleteObjects takes at most 1,000 keys per call.
_DELETE_BATCH = 1000


class PublishError(Exception):
    """A failure the user can act on: printed as one line, exit status 1."""


@dataclass(frozen=True)
class DashboardTarget:
    bucket: str
    distribution_id: str
    url: str


@dataclass(frozen=True)
class Published:
    uploaded: list[str]
    deleted: list[str]
    invalidation_id: str


def cache_control(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    if _VERSIONED_NAME.search(name):
        return IMMUTABLE
    if key in VENDOR_FILES:
        return UNVERSIONED_VENDOR
    return REVALIDATE


def samconfig_deploy_parameters(config_env: str = "default", path: Path | None = None) -> dict[str, Any]:
    """What ``sam deploy --guided`` saved (``[<env>.deploy.parameters]``: ``stack_name``, ``region``...)."""
    path = path or SAMCONFIG
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        config = tomllib.load(handle)
    parameters: dict[str, Any] = config.get(config_env, {}).get("deploy", {}).get("parameters", {})
    return parameters


def dashboard_target(stack_name: str, cloudformation: Any) -> DashboardTarget:
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        raise PublishError(f"cannot read stack {stack_name!r}: {exc.response['Error']['Message']}") from exc
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    missing = [name for name in OUTPUTS if name not in outputs]
    if missing:
        raise PublishError(
            f"stack {stack_name!r} has no output {', '.join(missing)}: is it this project's stack, deployed "
            "from a template.yaml with the dashboard?"
        )
    return DashboardTarget(outputs["DashboardBucketName"], outputs["DashboardDistributionId"], outputs["DashboardUrl"])


def _upload_order(assets: Iterable[Asset]) -> list[Asset]:
    return sorted(assets, key=lambda asset: asset.key == INDEX_KEY)


def _existing_keys(s3: Any, bucket: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def publish(target: DashboardTarget, assets: Sequence[Asset], *, s3: Any, cloudfront: Any) -> Published:
    """Upload ``assets`` to the target's bucket, delete what is not among them, invalidate the cache."""
    if not any(asset.key == INDEX_KEY for asset in assets):
        raise PublishError(f"the dashboard has no {INDEX_KEY} (dashboard/site/{INDEX_KEY}): nothing to publish")
    before = _existing_keys(s3, target.bucket)
    uploaded = []
    for asset in _upload_order(assets):
        s3.put_object(
            Bucket=target.bucket,
            Key=asset.key,
            Body=asset.path.read_bytes(),
            ContentType=asset.content_type,
            CacheControl=cache_control(asset.key),
        )
        uploaded.append(asset.key)
    stale = sorted(before - set(uploaded))
    for start in range(0, len(stale), _DELETE_BATCH):
        batch = stale[start : start + _DELETE_BATCH]
        answer = s3.delete_objects(
            Bucket=target.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        if answer.get("Errors"):
            failed = ", ".join(f"{error['Key']} ({error['Code']})" for error in answer["Errors"])
            raise PublishError(f"could not delete stale objects from {target.bucket}: {failed}")
    # One wildcard path: CloudFront counts it as one of the 1,000 free invalidation paths a month.
    invalidation = cloudfront.create_invalidation(
        DistributionId=target.distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"dashboard-{time.time_ns()}"},
    )
    return Published(uploaded, stale, invalidation["Invalidation"]["Id"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.deploy_dashboard",
        description="Publish dashboard/ to a deployed stack's bucket and invalidate its CloudFront cache.",
    )
    parser.add_argument(
        "--stack-name",
        help="the deployed stack (default: stack_name in samconfig.toml, written by sam deploy --guided)",
    )
    parser.add_argument("--config-env", default="default", help="samconfig.toml environment (default: default)")
    parser.add_argument("--region", help="the stack's region (default: samconfig.toml's, else the AWS default)")
    args = parser.parse_args(argv)
    try:
        saved = samconfig_deploy_parameters(args.config_env)
        stack_name = args.stack_name or saved.get("stack_name")
        if not stack_name:
            raise PublishError(
                "no stack name: pass --stack-name NAME (make deploy STACK=NAME), or run sam deploy --guided "
                "once so that samconfig.toml names it"
            )
        region = args.region or saved.get("region")
        session = boto3.Session(region_name=region) if region else boto3.Session()
        target = dashboard_target(stack_name, session.client("cloudformation"))
        published = publish(
            target, dashboard_assets(), s3=session.client("s3"), cloudfront=session.client("cloudfront")
        )
    except (PublishError, DashboardNotInstalled) as exc:
        print(f"deploy_dashboard: {exc}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:
        print(f"deploy_dashboard: AWS refused: {exc}", file=sys.stderr)
        return 1
    print(
        f"deploy_dashboard: {len(published.uploaded)} files to s3://{target.bucket}, {len(published.deleted)} stale "
        f"deleted, invalidation {published.invalidation_id} on {target.distribution_id}"
    )
    print(f"deploy_dashboard: {target.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
