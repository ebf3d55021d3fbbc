"""Tenant isolation over HTTP, on every GET route of the template and every parameter that names data.

Two demo accounts share every table. Whatever the second account's key asks for — another account's
log id, its API key id, a model or provider both use, a cursor of its list, the statistics — it gets
only its own data; and another account's log id is a 404 that differs from an id that exists nowhere
only by the id echoed in its message. Routes and their parameters come from the template and the
OpenAPI document of the handlers, so a new endpoint is held to the same rules without a new test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from local.stack.template import load_template
from request_logs.domain.ids import make_log_id
from request_logs.domain.timeutil import parse_instant
from tests.e2e.conftest import LocalApi
from tests.e2e.raw_http import RawResponse, assert_error, bearer, document, query_parameters, request

pytestmark = pytest.mark.e2e

GET_ROUTES = sorted(route.path for route in load_template().routes() if route.method == "GET")
# The routes of logs. The exports' own isolation (an export id, the list) is in tests/e2e/test_exports_http.py.
LOG_ROUTES = [path for path in GET_ROUTES if "/exports" not in path]
ID_ROUTES = [path for path in LOG_ROUTES if "{id}" in path]
COLLECTION_ROUTES = [path for path in LOG_ROUTES if "{" not in path]
DECLARED = {(path, name) for path, name, _ in query_parameters(document())}
CONTENT_RETENTION = timedelta(days=30)
# Response headers that differ on every request whoever asks.
PER_REQUEST_HEADERS = {"date", "x-amzn-requestid", "content-length"}


@pytest.fixture
def api(local_runtime: LocalApi) -> LocalApi:
    return local_runtime  # raw_http.request refills the throttles before every request


def get(api: LocalApi, path: str, params: dict[str, Any] | None = None, *, key: str) -> RawResponse:
    query = f"?{urlencode(params)}" if params else ""
    return request(api, f"{path}{query}", bearer(api, key))


def log_id(account_id: str, message: dict[str, Any]) -> str:
    return make_log_id(account_id, message["request_id"], parse_instant(message["created_at"]))


def owned_logs(api: LocalApi, owner: str) -> tuple[str, str, dict[str, Any]]:
    """(owner's key, owner's account id, one message per kind: a success, an error, content past 30 days)."""
    account = api.first if owner == "first" else api.second
    messages = api.first_messages if owner == "first" else api.second_messages
    expired_before = datetime.now(UTC) - CONTENT_RETENTION - timedelta(hours=1)
    kinds = {
        "success": next(m for m in messages if m["status"] == "success"),
        "error": next(m for m in messages if m["status"] == "error"),
        "content-expired": next(m for m in messages if datetime.fromisoformat(m["created_at"]) < expired_before),
    }
    return account.api_key, account.account_id, kinds


def without_id(response: RawResponse, log_id_: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers with the echoed id and the per-request headers taken out."""
    body = response.json()
    body["error"]["message"] = body["error"]["message"].replace(log_id_, "<id>")
    headers = {name: value for name, value in response.headers.items() if name not in PER_REQUEST_HEADERS}
    return response.status, body, headers


@pytest.mark.parametrize("kind", ["success", "error", "content-expired"])
@pytest.mark.parametrize(("owner", "caller"), [("first", "second"), ("second", "first")])
@pytest.mark.parametrize("route", ID_ROUTES)
def test_another_accounts_log_id_is_a_404_like_an_id_that_exists_nowhere(
    api: LocalApi, route: str, owner: str, caller: str, kind: str
) -> None:
    owner_key, owner_account, messages = owned_logs(api, owner)
    caller_key = (api.first if caller == "first" else api.second).api_key
    theirs = log_id(owner_account, messages[kind])
    nowhere = make_log_id(owner_account, "req_that_never_happened", parse_instant(messages[kind]["created_at"]))

    as_owner = request(api, route.replace("{id}", theirs), bearer(api, owner_key))
    as_other = request(api, route.replace("{id}", theirs), bearer(api, caller_key))
    missing = request(api, route.replace("{id}", nowhere), bearer(api, caller_key))

    # The id is real: its owner gets it (or, past the content's retention, /details says so with a 410).
    assert as_owner.status in (200, 410), as_owner.body[:300]
    assert_error(as_other, 404, param="id")
    assert without_id(as_other, theirs) == without_id(missing, nowhere)


def ids_in(body: Any) -> Iterator[tuple[str, str]]:
    """Every (key, value) of the body whose key names a log, a request or an API key, at any depth."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key in ("id", "request_id", "api_key_id") and isinstance(value, str):
                yield key, value
            yield from ids_in(value)
    elif isinstance(body, list):
        for item in body:
            yield from ids_in(item)


def first_accounts_ids(api: LocalApi) -> set[str]:
    messages = api.first_messages
    return (
        {log_id(api.first.account_id, m) for m in messages}
        | {m["request_id"] for m in messages}
        | {key.api_key_id for key in api.first.keys}
    )


def shared_value(api: LocalApi, field: str) -> str:
    """The value of ``field`` (model, provider) the first account used most that the second used too."""
    theirs = [m[field] for m in api.first_messages]
    ours = {m[field] for m in api.second_messages}
    return max((value for value in set(theirs) if value in ours), key=theirs.count)


def filters(api: LocalApi, route: str) -> dict[str, dict[str, str]]:
    """Named filter values that name the first account's data, for the parameters ``route`` declares."""
    candidates = {
        "none": {},
        "first-accounts-api-key": {"api_key_id": api.first.keys[0].api_key_id},
        "shared-model": {"model": shared_value(api, "model")},
        "shared-provider": {"provider": shared_value(api, "provider")},
        "all-time": {"start_date": (datetime.now(UTC) - timedelta(days=89)).date().isoformat()},
    }
    return {name: params for name, params in candidates.items() if all((route, p) in DECLARED for p in params)}


def expected_total(api: LocalApi, params: dict[str, str]) -> int:
    """Brute force: the second account's messages that match the equality filters (in the 30-day default
    window without ``start_date``; the "all-time" start reaches every demo log)."""
    fields = ("api_key_id", "model", "provider")
    messages = api.second_messages if "start_date" in params else api.in_default_window(api.second_messages)
    return sum(all(m[f] == params[f] for f in fields if f in params) for m in messages)


@pytest.mark.parametrize("route", COLLECTION_ROUTES)
def test_the_second_key_sees_only_its_own_data_whatever_it_filters_on(api: LocalApi, route: str) -> None:
    theirs = first_accounts_ids(api)
    ours = {m["request_id"] for m in api.second_messages} | {k.api_key_id for k in api.second.keys}

    for name, params in filters(api, route).items():
        response = get(
            api, route, {**params, "limit": 100} if (route, "limit") in DECLARED else params, key=api.second.api_key
        )
        assert response.status == 200, (name, response.body[:300])
        body = response.json()
        leaked = {value for _, value in ids_in(body)} & theirs
        assert not leaked, (route, name, sorted(leaked)[:5])
        assert {value for key, value in ids_in(body) if key != "id"} <= ours, (route, name)
        if "pagination" in body:  # a list: exactly the second account's matching logs
            assert body["pagination"]["total"] == expected_total(api, params), (route, name)


@pytest.mark.parametrize("route", [path for path in COLLECTION_ROUTES if (path, "cursor") in DECLARED])
def test_another_accounts_cursor_never_pages_its_logs(api: LocalApi, route: str) -> None:
    first_page = get(api, route, {"limit": 1}, key=api.first.api_key).json()
    cursor = first_page["pagination"]["nextCursor"]
    assert cursor, "the first account has more than one log: its first page has a next cursor"

    response = get(api, route, {"limit": 100, "cursor": cursor}, key=api.second.api_key)

    # A cursor is the account's own: another's is refused, or at most pages the caller's own logs.
    if response.status != 200:
        assert_error(response, 400, param="cursor")
    else:
        assert not {value for _, value in ids_in(response.json())} & first_accounts_ids(api)


def test_statistics_count_only_the_callers_own_requests(api: LocalApi) -> None:
    stats_route = next(path for path in COLLECTION_ROUTES if path.endswith("/stats"))
    start = (datetime.now(UTC) - timedelta(days=89)).date().isoformat()
    for poller in api.backend.stream_pollers:  # the aggregator has folded every ingested log
        poller.drain()

    for account, messages in [(api.second, api.second_messages), (api.first, api.first_messages)]:
        response = get(api, stats_route, {"start_date": start, "group_by": "model,provider"}, key=account.api_key)
        assert response.status == 200, response.body[:300]
        body = response.json()
        assert body["stats"]["total_requests"] == len(messages)
        by_model = {entry["model"]: entry["requests"] for entry in body["by_model"]}
        assert by_model == {
            model: sum(m["model"] == model for m in messages) for model in {m["model"] for m in messages}
        }
        by_provider = {entry["provider"]: entry["requests"] for entry in body["by_provider"]}
        assert sum(by_provider.values()) == len(messages)
