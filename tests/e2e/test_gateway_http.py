"""What API Gateway does before and around the functions: routes, the authorizer and its cache,
tenant isolation, usage-plan throttles, and the JSON error shape of every gateway response."""

from __future__ import annotations

import secrets
import string

import pytest
import requests

from request_logs.logic import accounts
from tests.e2e.conftest import LIST, LocalApi

pytestmark = pytest.mark.e2e


def assert_error(response: requests.Response, status: int, error_type: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["type"] == error_type
    assert error["code"]
    assert error["message"]
    return dict(error)


def random_key() -> str:
    return "sk-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


def test_missing_key_is_a_401_in_the_json_shape(local_api: LocalApi) -> None:
    response = requests.get(f"{local_api.base_url}{LIST}", timeout=30)

    assert_error(response, 401, "authentication_error")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("authorization", ["Bearer " + "sk-unknown", "Basic dXNlcjpwYXNz", "Bearer"])
def test_malformed_or_unknown_key_is_a_401(local_api: LocalApi, authorization: str) -> None:
    response = requests.get(f"{local_api.base_url}{LIST}", headers={"Authorization": authorization}, timeout=30)

    assert_error(response, 401, "authentication_error")


def test_well_formed_unknown_key_is_a_401(local_api: LocalApi) -> None:
    assert_error(local_api.get(LIST, key=random_key()), 401, "authentication_error")


def test_revoked_key_is_refused_once_the_cached_policy_expires(local_api: LocalApi) -> None:
    created = accounts.create_api_key(local_api.first.account_id, name="to-revoke")
    assert local_api.get(LIST, {"limit": 1}, key=created.api_key).status_code == 200

    accounts.revoke_api_key(local_api.first.account_id, created.record.api_key_id)
    # API Gateway keeps serving the cached Allow until ReauthorizeEvery has passed, and so does this one.
    assert local_api.get(LIST, {"limit": 1}, key=created.api_key).status_code == 200
    local_api.clock.advance(local_api.template.authorizer().ttl_seconds)

    assert_error(local_api.get(LIST, {"limit": 1}, key=created.api_key), 401, "authentication_error")


def test_second_account_sees_only_its_own_logs(local_api: LocalApi) -> None:
    first_ids = [log["id"] for log in local_api.get(LIST, {"limit": 5}).json()["logs"]]

    response = local_api.get(LIST, {"limit": 100}, key=local_api.second.api_key)

    assert response.status_code == 200
    body = response.json()
    theirs = local_api.in_default_window(local_api.second_messages)  # no dates: the last 30 days
    assert body["pagination"]["total"] == len(theirs)
    assert {log["request_id"] for log in body["logs"]} == {m["request_id"] for m in theirs}
    for log_id in first_ids:
        assert_error(local_api.get(f"{LIST}/{log_id}", key=local_api.second.api_key), 404, "not_found_error")
        assert_error(local_api.get(f"{LIST}/{log_id}/details", key=local_api.second.api_key), 404, "not_found_error")


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/account/nothing-here"), ("PUT", "/api/account")])
def test_unknown_route_is_a_404_in_the_json_shape_even_without_a_key(
    local_api: LocalApi, method: str, path: str
) -> None:
    response = requests.request(method, f"{local_api.base_url}{path}", timeout=30)

    error = assert_error(response, 404, "not_found_error")
    assert error["code"] == "route_not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", LIST),
        ("DELETE", f"{LIST}/log_x"),
        ("PUT", f"{LIST}/stats"),
        ("PATCH", f"{LIST}/log_x/details"),
        ("POST", f"{LIST}/enhanced"),
    ],
)
def test_a_method_a_route_does_not_serve_is_a_405_with_allow(local_api: LocalApi, method: str, path: str) -> None:
    url = f"{local_api.base_url}{path}"
    response = requests.request(method, url, headers={"Authorization": f"Bearer {local_api.first.api_key}"}, timeout=30)

    error = assert_error(response, 405, "invalid_request_error")
    assert error["code"] == "method_not_allowed"
    assert method in error["message"] and "GET" in error["message"]
    assert response.headers["Allow"] == "GET"
    # The route keeps the API's authorizer: without a key it is the usual 401, as API Gateway answers.
    assert_error(requests.request(method, url, timeout=30), 401, "authentication_error")


def test_the_root_points_to_the_docs_and_lists_the_endpoints(local_api: LocalApi) -> None:
    response = requests.get(f"{local_api.base_url}/", timeout=30)

    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    index = response.json()
    assert requests.get(f"{local_api.base_url}{index['docs']}", timeout=30).status_code == 200
    assert requests.get(f"{local_api.base_url}{index['openapi']}", timeout=30).json()["paths"]
    served = {f"{route.method} {route.path}" for route in local_api.template.routes() if route.method != "ANY"}
    assert set(index["endpoints"]) == served


def test_burst_above_the_list_throttle_is_a_429_with_retry_after(local_api: LocalApi) -> None:
    methods, _ = local_api.template.usage_plan_throttles()
    limits = methods[f"{LIST}/GET"]
    burst = int(limits["BurstLimit"])

    answers = [local_api.get(LIST, {"limit": 1}).status_code for _ in range(burst)]
    throttled = local_api.get(LIST, {"limit": 1})
    other_account = local_api.get(LIST, {"limit": 1}, key=local_api.second.api_key)

    assert answers == [200] * burst
    assert_error(throttled, 429, "rate_limit_error")
    retry_after = int(throttled.headers["Retry-After"])
    assert retry_after >= 1
    assert other_account.status_code == 200  # the throttle is per API key
    local_api.clock.advance(retry_after)
    assert local_api.get(LIST, {"limit": 1}).status_code == 200


def test_traffic_under_the_limits_is_never_throttled(local_api: LocalApi) -> None:
    methods, _ = local_api.template.usage_plan_throttles()
    log_id = local_api.get(LIST, {"limit": 1}).json()["logs"][0]["id"]
    paths = {f"{LIST}/GET": LIST, "/api/account/request-logs/{id}/GET": f"{LIST}/{log_id}"}

    for method_key, path in paths.items():
        rate = float(methods[method_key]["RateLimit"])
        statuses = set()
        for _ in range(2 * int(methods[method_key]["BurstLimit"])):  # twice the burst: refills are needed
            statuses.add(local_api.get(path, {"limit": 1} if path == LIST else None).status_code)
            local_api.clock.advance(1 / rate)
        assert statuses == {200}, method_key
