"""Secrets stay out of the logs, and each function's IAM role is exactly what its code calls.

One tour (``function_tour.py``, in a child process so that every byte written to stdout and stderr is
seen) runs every function of the template on the paths that handle keys and bodies: the authorizer
with valid, revoked, unknown and malformed keys; ingest with bodies inline and spilled to S3, a
redelivery and malformed messages; the aggregator on the resulting stream and a poison record; every
route with a real id, an unknown id, another account's id and bad parameters.

moto accepts any call from anyone, so an AWS call the template does not grant passes every other
test and fails only when deployed; here each call is checked against the role SAM would create.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from local.stack.template import LAYER_PATH, ROOT, load_template
from tests.sam_translated import allows, granted, role_of, translate


@dataclass(frozen=True)
class TourResult:
    lines: list[str]  # every line the functions wrote, stdout and stderr
    secrets: list[str]
    invoked: set[str]
    calls: list[dict[str, str]]


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> TourResult:
    out_dir = tmp_path_factory.mktemp("tour")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(LAYER_PATH)])}
    completed = subprocess.run(
        [sys.executable, "-m", "tests.integration.function_tour", str(out_dir)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    calls = json.loads((out_dir / "calls.json").read_text())
    return TourResult(
        lines=(completed.stdout + completed.stderr).splitlines(),
        secrets=json.loads((out_dir / "secrets.json").read_text()),
        invoked=set(calls["invoked"]),
        calls=calls["calls"],
    )


def test_the_tour_runs_every_function_of_the_template(tour: TourResult) -> None:
    assert tour.invoked == set(load_template().functions())


def test_the_capture_sees_the_functions_log_lines(tour: TourResult) -> None:
    """Without this, a capture that saw nothing would pass the secrets test."""
    messages = [json.loads(line).get("message") for line in tour.lines if line.startswith("{")]
    assert "request not authorized" in messages
    assert messages.count("malformed ingest message") >= 4
    assert any(line.startswith("Traceback") for line in tour.lines)  # the runtime's report of a raise


def test_no_key_hash_or_body_reaches_any_log_line(tour: TourResult) -> None:
    assert len(tour.secrets) > 10
    leaks = [f"{secret[:12]}… in: {line[:300]}" for line in tour.lines for secret in tour.secrets if secret in line]
    assert not leaks, "\n".join(leaks)


# ------------------------------------------------------------------ IAM, against the real calls
@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return translate()


def test_every_aws_call_a_function_makes_is_granted_by_its_role(tour: TourResult, resources: dict[str, Any]) -> None:
    denied = sorted(
        {
            f"{call['function']}: {call['action']} on {call['resource'].split('/content/')[0]}"
            for call in tour.calls
            if not allows(granted(role_of(resources, call["function"])), call["action"], call["resource"])
        }
    )
    assert not denied, "on AWS these calls fail with AccessDenied, grant them in template.yaml:\n" + "\n".join(denied)


def test_every_grant_of_a_function_is_used_by_its_code(tour: TourResult, resources: dict[str, Any]) -> None:
    """Least privilege from the other side: a permission no call of the tour needs is one to remove
    (or a path the tour does not take yet: then extend the tour)."""
    unused = []
    for function in sorted(tour.invoked):
        made = [call for call in tour.calls if call["function"] == function]
        for action, patterns in sorted(granted(role_of(resources, function), own_only=True).items()):
            for pattern in sorted(patterns):
                if not any(allows({action: {pattern}}, call["action"], call["resource"]) for call in made):
                    unused.append(f"{function}: {action} on {pattern}")
    assert not unused, "granted but never called:\n" + "\n".join(unused)


def test_calls_are_attributed_to_the_functions_that_make_them(tour: TourResult) -> None:
    """The two IAM tests above are only as good as the recording: every function that touches AWS shows up."""
    callers = {call["function"] for call in tour.calls}
    # Every function invoked touches AWS, but the 405 one, which answers from the request alone.
    assert callers == tour.invoked - {"MethodNotAllowedFunction"}
    actions = {(call["function"], call["action"]) for call in tour.calls}
    assert ("AuthorizerFunction", "dynamodb:GetItem") in actions
    assert ("GetRequestLogDetailsFunction", "s3:GetObject") in actions  # the spilled body
    assert ("IngestFunction", "s3:PutObject") in actions
