"""The local gateway over HTTP in front of stand-in functions: the events it builds, the responses it
passes back, and the gateway response for each way the authorizer or a function can fail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.gateway import GatewayServer, LocalApiGateway, UsagePlanThrottle
from local.template import Template, load_template
from tests.e2e.conftest import LIST, ManualClock

pytestmark = pytest.mark.e2e

ACCOUNT = "acct_standin"
OK = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}


def policy(effect: str = "Allow", resource: str = "arn:aws:execute-api:*:*:*/*/*/*", **extra: Any) -> dict[str, Any]:
    return {
        "principalId": ACCOUNT,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": {"account_id": ACCOUNT, "api_key_id": "key_standin", "verified": True, "tier": 3},
        "usageIdentifierKey": "usage_standin",
        **extra,
    }


class StandInFunctions:
    """Answers for the template's functions: the authorizer's policy, every route's response."""

    def __init__(self, template: Template) -> None:
        self.authorizer = template.authorizer().function
        self.policy: dict[str, Any] | Exception = policy()
        self.response: Any = OK
        self.events: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.events.append((logical_id, event))
        answer = self.policy if logical_id == self.authorizer else self.response
        if isinstance(answer, Exception):
            raise answer
        return answer

    def invoked(self, logical_id: str) -> list[dict[str, Any]]:
        return [event for function, event in self.events if function == logical_id]


@pytest.fixture
def template() -> Template:
    return load_template()


@pytest.fixture
def functions(template: Template) -> StandInFunctions:
    return StandInFunctions(template)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def base_url(template: Template, functions: StandInFunctions, clock: ManualClock) -> Iterator[str]:
    server = GatewayServer(LocalApiGateway(template, functions, clock=clock))  # type: ignore[arg-type]
    server.start()
    yield server.url
    server.stop()


def get(base_url: str, path: str, **headers: str) -> requests.Response:
    return requests.get(f"{base_url}{path}", headers={"Authorization": "Bearer sk-standin", **headers}, timeout=10)


def error_of(response: requests.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    return dict(response.json()["error"])


def route_function(template: Template, resource: str) -> str:
    (function,) = [route.function for route in template.routes() if route.path == resource]
    return function


def test_the_proxy_event_is_the_one_api_gateway_builds(
    base_url: str, template: Template, functions: StandInFunctions
) -> None:
    get(base_url, f"{LIST}/log%2Fa%20b?status=error&model=&model=x", **{"User-Agent": "e2e"})

    ((authorizer_event,),) = [functions.invoked(functions.authorizer)]
    (event,) = functions.invoked(route_function(template, f"{LIST}/{{id}}"))
    assert authorizer_event["type"] == "REQUEST"
    assert authorizer_event["methodArn"].endswith(f"/{template.stage_name()}/GET{LIST}/log/a b")
    assert event["resource"] == f"{LIST}/{{id}}"
    assert event["path"] == f"{LIST}/log/a b"
    assert event["pathParameters"] == {"id": "log/a b"}
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"status": "error", "model": "x"}
    assert event["multiValueQueryStringParameters"] == {"status": ["error"], "model": ["", "x"]}
    assert event["headers"]["User-Agent"] == "e2e"
    assert event["requestContext"]["stage"] == template.stage_name()
    authorizer = event["requestContext"]["authorizer"]
    assert isinstance(authorizer.pop("integrationLatency"), int)
    # API Gateway hands the context to the integration as strings.
    assert authorizer == {
        "principalId": ACCOUNT,
        "account_id": ACCOUNT,
        "api_key_id": "key_standin",
        "verified": "true",
        "tier": "3",
    }


def test_the_functions_response_is_passed_back(base_url: str, functions: StandInFunctions) -> None:
    functions.response = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-One": "1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": '{"created": true}',
    }

    response = get(base_url, LIST)

    assert response.status_code == 201
    assert response.json() == {"created": True}
    assert response.headers["X-One"] == "1"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_the_policy_is_cached_per_key_for_the_templates_ttl(
    base_url: str, template: Template, functions: StandInFunctions, clock: ManualClock
) -> None:
    for path in (LIST, f"{LIST}/log_1", f"{LIST}/log_1/details"):
        assert get(base_url, path).status_code == 200
    assert get(base_url, LIST, Authorization="Bearer sk-other").status_code == 200
    assert len(functions.invoked(functions.authorizer)) == 2

    clock.advance(template.authorizer().ttl_seconds)
    assert get(base_url, LIST).status_code == 200
    assert len(functions.invoked(functions.authorizer)) == 3


@pytest.mark.parametrize(
    "answer",
    [policy("Deny"), policy(resource="arn:aws:execute-api:*:*:*/*/POST/*")],
    ids=["explicit-deny", "allow-elsewhere"],
)
def test_a_policy_that_does_not_allow_the_method_is_access_denied(
    base_url: str, template: Template, functions: StandInFunctions, answer: dict[str, Any]
) -> None:
    functions.policy = answer

    error = error_of(get(base_url, LIST), int(template.gateway_responses()["ACCESS_DENIED"]["StatusCode"]))

    assert error["type"] == "authentication_error"
    assert functions.invoked(route_function(template, LIST)) == []


@pytest.mark.parametrize("answer", [RuntimeError("boom"), {"principalId": ACCOUNT}], ids=["raises", "no-policy"])
def test_an_authorizer_that_fails_is_a_500(base_url: str, functions: StandInFunctions, answer: Any) -> None:
    functions.policy = answer

    assert error_of(get(base_url, LIST), 500)["type"] == "api_error"


def test_no_usage_identifier_key_is_refused_when_the_api_requires_a_key(
    base_url: str, template: Template, functions: StandInFunctions
) -> None:
    """With ApiKeyRequired and ApiKeySourceType AUTHORIZER the policy must name the key: INVALID_API_KEY."""
    functions.policy = {**policy(), "usageIdentifierKey": None}
    configured = template.gateway_responses()["INVALID_API_KEY"]

    response = get(base_url, LIST)

    assert response.status_code == int(configured["StatusCode"])
    assert response.json() == json.loads(configured["ResponseTemplates"]["application/json"])
    assert functions.invoked(route_function(template, LIST)) == []


@pytest.mark.parametrize(
    "answer", [RuntimeError("boom"), {"statusCode": "200", "body": "{}"}, {"statusCode": 200, "body": 5}]
)
def test_a_function_that_fails_or_answers_malformed_is_a_502(
    base_url: str, functions: StandInFunctions, answer: Any
) -> None:
    functions.response = answer

    assert error_of(get(base_url, LIST), 502)["type"] == "api_error"


def test_a_method_without_its_own_throttle_gets_the_plans() -> None:
    clock = ManualClock()
    throttle = UsagePlanThrottle(
        {"/a/GET": {"RateLimit": 1, "BurstLimit": 1}}, {"RateLimit": 2, "BurstLimit": 3}, clock
    )

    assert [throttle.take("key", "/b/GET") for _ in range(3)] == [0, 0, 0]
    assert throttle.take("key", "/b/GET") == pytest.approx(0.5)
    assert throttle.take("key", "/a/GET") == 0
    assert throttle.take("key", "/a/GET") == pytest.approx(1)
    clock.advance(0.5)
    assert throttle.take("key", "/b/GET") == 0
