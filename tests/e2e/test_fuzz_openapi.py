"""schemathesis against the local gateway, from the OpenAPI document the gateway serves.

Every operation of the document (so every GET route of the template, a new endpoint included) gets
schemathesis' examples, its coverage cases (boundaries, wrong types, missing and unexpected values)
and a bounded number of generated ones, valid and invalid, with the first demo account's key. Nothing
may answer a 5xx, every non-2xx must be in the one JSON error shape, and every response must conform
to the document (status, content type, headers, body schema).

The gateway's clock moves on by one token of the slowest throttle before each call, so the run never
meets a 429 it did not cause; examples are derandomized so CI sends the same requests every run.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from tests.e2e.conftest import LocalApi
from tests.e2e.raw_http import document, seconds_per_token

pytestmark = pytest.mark.e2e

# Generated examples per operation, beyond the coverage phase's deterministic cases.
MAX_EXAMPLES = 50

# The document the gateway serves (test_api_reference checks that), built at collection so that each
# operation is a test of its own: one per GET route of the template.
schema = schemathesis.openapi.from_dict(document())


def assert_error_shape(response: schemathesis.Response) -> None:
    """The one JSON error shape (docs/architecture.md, "Errors"); a 400 names the parameter at fault."""
    (content_type,) = response.headers["content-type"]
    assert content_type.startswith("application/json"), content_type
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    # A 409 also names the export in the way (``export_id``): the one member beyond the four.
    members = {"type", "code", "message", "param"} | ({"export_id"} if response.status_code == 409 else set())
    assert {"type", "code", "message"} <= set(error) <= members, error
    assert all(isinstance(error[name], str) and error[name] for name in ("type", "code", "message")), error
    if response.status_code == 400:
        # Names the parameter at fault: '' for a parameter without a name ('?=value').
        assert isinstance(error.get("param"), str), error


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gets_a_5xx_or_an_error_outside_the_shape(case: Any, local_runtime: LocalApi) -> None:
    local_runtime.clock.advance(seconds_per_token(local_runtime.template))
    response = case.call(
        base_url=local_runtime.base_url, headers={"Authorization": f"Bearer {local_runtime.first.api_key}"}
    )
    # API Gateway refuses a request line and headers over 10,240 bytes before any route sees it (the
    # template's REQUEST_TOO_LARGE response, 413): a generated value near its maximum length can get
    # there, by a few bytes that depend on the Host header's port. That answer is the gateway's, not the
    # document's; it must still be in the one shape.
    if response.status_code != 413:
        case.validate_response(
            response,
            # A value the schema allows can still be a 400 (start_date after end_date, a date that is not
            # ISO 8601): the document cannot say everything the handler checks.
            # API Gateway REST answers a method no route serves like an unknown path (the template's
            # MISSING_AUTHENTICATION_TOKEN response: a 404 in the one shape), never 405; test_hostile_input
            # checks that answer.
            excluded_checks=[positive_data_acceptance, unsupported_method],
        )
    assert response.status_code < 500, response.text
    if not 200 <= response.status_code < 300:
        assert_error_shape(response)
