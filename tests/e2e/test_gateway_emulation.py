"""The local gateway over HTTP in front of stand-in functions: the events it builds, the responses it
passes back, and the gateway response for each way the authorizer or a function can fail."""

from __future__ import annotations

import json
import math
import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from local.emulator.gateway import GatewayServer, LocalApiGateway, UsagePlanThrottle
from local.stack.template import Template, load_template
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
    (function,) = [route.function for route in template.routes() if route.path == resource and route.method == "GET"]
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


# ------------------------------------------------------------------ usage-plan throttles
def throttled_routes(template: Template) -> list[tuple[str, str, dict[str, float]]]:
    """(method key, a concrete path, its limits) for every GET route of the template (the ANY routes'
    405s take the plan's default)."""
    methods, default = template.usage_plan_throttles()
    found = []
    for route in (route for route in template.routes() if route.method == "GET"):
        key = f"{route.path}/{route.method}"
        limits = methods.get(key, default)
        assert limits is not None, f"{key} has no throttle"
        found.append((key, route.path.replace("{id}", "log_x"), limits))
    return found


def method_keys() -> list[str]:
    return [key for key, _, _ in throttled_routes(load_template())]


@pytest.mark.parametrize("method_key", method_keys())
def test_a_burst_above_a_routes_limit_is_a_429_for_the_seconds_until_a_token(
    base_url: str, template: Template, clock: ManualClock, method_key: str
) -> None:
    ((_, path, limits),) = [found for found in throttled_routes(template) if found[0] == method_key]
    burst, rate = int(limits["BurstLimit"]), float(limits["RateLimit"])

    answers = [get(base_url, path).status_code for _ in range(burst)]
    throttled = get(base_url, path)

    assert answers == [200] * burst
    assert error_of(throttled, 429)["type"] == "rate_limit_error"
    # An empty bucket holds a token again after 1/rate seconds; Retry-After is that, in whole seconds up.
    assert throttled.headers["Retry-After"] == str(math.ceil(1 / rate))
    clock.advance(int(throttled.headers["Retry-After"]))
    assert get(base_url, path).status_code == 200


def test_retry_after_is_never_zero(base_url: str, template: Template, clock: ManualClock) -> None:
    """A client told ``Retry-After: 0`` retries at once, and again, and again."""
    ((_, path, limits),) = [found for found in throttled_routes(template) if found[0] == f"{LIST}/GET"]
    for _ in range(int(limits["BurstLimit"])):
        assert get(base_url, path).status_code == 200
    clock.advance(0.999 / float(limits["RateLimit"]))  # a thousandth of a token short

    throttled = get(base_url, path)

    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"


def test_a_client_at_every_routes_limit_at_once_is_never_throttled(
    base_url: str, template: Template, clock: ManualClock
) -> None:
    """One key spending each route's whole burst, then keeping to each route's rate, for two minutes:
    the throttles are per route, so using one route never costs another its limit."""
    routes = throttled_routes(template)
    statuses: Counter[int] = Counter()
    for _, path, limits in routes:
        statuses.update(get(base_url, path).status_code for _ in range(int(limits["BurstLimit"])))
    step = 0.25
    credit = dict.fromkeys((key for key, _, _ in routes), 0.0)
    for _ in range(int(120 / step)):
        clock.advance(step)
        for key, path, limits in routes:
            credit[key] += float(limits["RateLimit"]) * step
            while credit[key] >= 1:
                credit[key] -= 1
                statuses[get(base_url, path).status_code] += 1

    assert set(statuses) == {200}
    expected = sum(limits["BurstLimit"] + 120 * limits["RateLimit"] for _, _, limits in routes)
    assert sum(statuses.values()) == pytest.approx(expected, abs=len(routes))


def test_concurrent_requests_on_one_key_get_exactly_the_burst(base_url: str, template: Template) -> None:
    """Requests arriving together on several connections (one server thread each) share one bucket:
    exactly the burst passes, whatever the interleaving, and every other request is told when to retry."""
    # The smallest burst keeps the connections within the listen backlog (a dropped SYN costs seconds).
    _, path, limits = min(throttled_routes(template), key=lambda found: found[2]["BurstLimit"])
    burst, rate = int(limits["BurstLimit"]), float(limits["RateLimit"])
    start = threading.Barrier(3 * burst)

    def call(_: int) -> requests.Response:
        start.wait()
        return get(base_url, path)

    with ThreadPoolExecutor(max_workers=3 * burst) as pool:
        responses = list(pool.map(call, range(3 * burst)))

    assert Counter(response.status_code for response in responses) == {200: burst, 429: 2 * burst}
    retry_after = {response.headers.get("Retry-After") for response in responses if response.status_code == 429}
    assert retry_after == {str(math.ceil(1 / rate))}


def test_the_token_bucket_under_threads_hands_out_each_token_once() -> None:
    clock = ManualClock()
    throttle = UsagePlanThrottle({"/a/GET": {"RateLimit": 10, "BurstLimit": 100}}, None, clock)
    start = threading.Barrier(8)
    passed: Counter[str] = Counter()
    lock = threading.Lock()

    def hammer() -> None:
        start.wait()
        for _ in range(50):
            if throttle.take("key", "/a/GET") == 0:
                with lock:
                    passed["key"] += 1

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert passed["key"] == 100  # 400 attempts on a bucket of 100 with the clock standing still


def test_no_sixty_second_window_admits_more_than_the_burst_plus_a_minute_of_rate() -> None:
    """The figure docs/decisions.md gives for the spec's "60 requests/minute": a client that alternates
    idling (the bucket fills, but only up to BurstLimit) with sending as fast as it can gets at most
    BurstLimit + 60 × RateLimit through in any minute."""
    clock = ManualClock()
    throttle = UsagePlanThrottle({"/a/GET": {"RateLimit": 1, "BurstLimit": 10}}, None, clock)
    admitted: list[float] = []
    for tick in range(7200):  # twelve minutes in steps of 0.1 s: 90 s idle, 90 s a request every step
        clock.now = 1_000_000.0 + tick / 10
        if (tick // 900) % 2 and throttle.take("key", "/a/GET") == 0:
            admitted.append(tick / 10)

    windows = [bisect_left(admitted, start + 60) - bisect_left(admitted, start) for start in admitted]
    assert 10 + 60 - 1 <= max(windows) <= 10 + 60
