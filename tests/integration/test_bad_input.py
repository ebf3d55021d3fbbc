"""Every bad input is a 400 in the one JSON error shape naming the parameter: never a 422, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import sample_messages
from tests.integration import oracle
from tests.integration.shared_stack import SharedStack, shared_stack

PATH = "/api/account/request-logs"


@pytest.fixture(scope="module")
def shared() -> Iterator[SharedStack]:
    with shared_stack() as stack:
        assert stack.ingest.messages(sample_messages(count=12, days=5, seed=71)) == []
        yield stack


def _assert_bad_request(response: Any, param: str) -> None:
    assert response.status == 400, response.body
    assert response.headers.get("Content-Type") == "application/json"
    assert set(response.body) == {"error"}
    error = response.body["error"]
    assert set(error) == {"type", "code", "message", "param"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert isinstance(error["code"], str) and error["code"]
    assert param in error["message"], error["message"]


BAD_LIST_QUERIES: list[tuple[list[tuple[str, str]], str]] = [
    ([("limit", "0")], "limit"),
    ([("limit", "101")], "limit"),
    ([("limit", "abc")], "limit"),
    ([("limit", "-1")], "limit"),
    ([("limit", "1.5")], "limit"),
    ([("limit", "")], "limit"),
    ([("offset", "-1")], "offset"),
    ([("offset", "abc")], "offset"),
    ([("offset", "99999999999999999999")], "offset"),
    ([("status", "foo")], "status"),
    ([("status", "ERROR")], "status"),
    ([("status", "")], "status"),
    ([("start_date", "2025-13-01")], "start_date"),
    ([("start_date", "yesterday")], "start_date"),
    ([("start_date", "2025-01-10T25:00")], "start_date"),
    ([("start_date", "2025-02-30")], "start_date"),
    ([("start_date", "2025-01-10T12:00:00+25:00")], "start_date"),
    ([("start_date", "1999-12-31")], "start_date"),
    ([("start_date", "")], "start_date"),
    ([("start_date", "2025-01-10T12:00:00Z" + "0" * 60)], "start_date"),
    ([("end_date", "2025-13-01")], "end_date"),
    ([("end_date", "yesterday")], "end_date"),
    ([("end_date", "2025-01-10T25:00")], "end_date"),
    ([("end_date", "10000-01-01")], "end_date"),
    ([("start_date", "2026-11-10"), ("end_date", "2026-11-09")], "start_date"),
    ([("start_date", "2026-11-10T12:00:00Z"), ("end_date", "2026-11-10T11:59:59.999Z")], "start_date"),
    ([("start_date", "2026-11-10T12:00:00+01:00"), ("end_date", "2026-11-10T10:00:00Z")], "start_date"),
    ([("min_latency", "-5")], "min_latency"),
    ([("min_latency", "abc")], "min_latency"),
    ([("max_latency", "-1")], "max_latency"),
    ([("min_latency", "500"), ("max_latency", "100")], "min_latency"),
    ([("api_key_id", "abc")], "api_key_id"),
    ([("api_key_id", "key_")], "api_key_id"),
    ([("api_key_id", "key_!!")], "api_key_id"),
    ([("api_key_id", "KEY_abc")], "api_key_id"),
    ([("api_key_id", "key_" + "a" * 65)], "api_key_id"),
    ([("api_key_id", "key_abc\n")], "api_key_id"),
    ([("limit", "\u0663")], "limit"),  # an Arabic-Indic digit three: int() would take it, the API must not
    ([("model", "")], "model"),
    ([("model", "m" * 257)], "model"),
    ([("provider", "")], "provider"),
    ([("foo", "1")], "foo"),
    ([("Limit", "10")], "Limit"),
    ([("sort", "cost")], "sort"),  # an enhanced-endpoint parameter, unknown here
    ([("limit", "10"), ("cursor_typo", "x")], "cursor_typo"),
    ([("limit", "1"), ("limit", "2")], "limit"),
    ([("status", "error"), ("status", "error")], "status"),
    ([("model", "openai/gpt-4o"), ("model", "openai/gpt-4o-mini")], "model"),
]


@pytest.mark.parametrize(("query", "param"), BAD_LIST_QUERIES, ids=lambda value: str(value)[:50])
def test_bad_list_parameters_are_400_naming_the_parameter(shared: SharedStack, query, param: str) -> None:
    _assert_bad_request(shared.api.get(PATH, query), param)


@pytest.mark.parametrize(
    "query",
    [
        [("limit", "5"), ("limit", "6")],  # each value alone is valid: no value may win
        [("limit", "5"), ("limit", "abc")],
        [("limit", "5"), ("status", "error"), ("status", "success")],
    ],
    ids=lambda value: str(value)[:50],
)
def test_a_repeated_parameter_is_refused_by_name_not_by_type(shared: SharedStack, query) -> None:
    repeated = next(name for name, _ in query if sum(n == name for n, _ in query) > 1)
    for path in (PATH, PATH + "/enhanced", PATH + "/stats"):
        response = shared.api.get(path, query)
        _assert_bad_request(response, repeated)
        assert "given 2 times; give it once" in response.body["error"]["message"], response.body


@pytest.mark.parametrize(
    "query",
    [
        [("limit", "1")],
        [("limit", "100")],
        [("offset", "0")],
        [("start_date", "2026-11-10"), ("end_date", "2026-11-10")],
        [("start_date", "2026-11-10T12:00:00Z"), ("end_date", "2026-11-10T12:00:00Z")],
        [("start_date", "2026-11-10T13:00:00+01:00"), ("end_date", "2026-11-10T12:00:00Z")],
        [("min_latency", "0"), ("max_latency", "0")],
        [("min_latency", "100"), ("max_latency", "100")],
        [("api_key_id", "key_unknown")],
        [("model", "a#b/c?d")],
    ],
    ids=lambda value: str(value)[:50],
)
def test_boundary_values_that_are_valid_are_accepted(shared: SharedStack, query) -> None:
    response = shared.api.get(PATH, query)
    assert response.status == 200, response.body


FUZZ_VALUES = [
    "",
    " ",
    "0",
    "-0",
    "1e3",
    "0x10",
    "null",
    "[]",
    "{}",
    "%",
    "%00",
    "\u00e9",
    "🎉",
    "'",
    '"',
    "\\",
    "9" * 40,
]


@pytest.mark.parametrize(
    "name",
    ["limit", "offset", "status", "start_date", "end_date", "min_latency", "max_latency", "api_key_id", "model"],
)
def test_no_value_of_any_parameter_gives_a_5xx_or_422(shared: SharedStack, name: str) -> None:
    for value in FUZZ_VALUES:
        response = shared.api.get(PATH, {name: value})
        assert response.status in (200, 400), (name, value, response.status, response.body)
        if response.status == 400:
            assert response.body["error"]["param"] == name


@pytest.mark.parametrize("suffix", ["", "/details"])
def test_single_log_endpoints_reject_query_parameters(shared: SharedStack, suffix: str) -> None:
    log_id = oracle.log_id(sample_messages(count=12, days=5, seed=71)[0])
    assert shared.api.get(f"{PATH}/{log_id}{suffix}").status == 200
    _assert_bad_request(shared.api.get(f"{PATH}/{log_id}{suffix}", {"verbose": "1"}), "verbose")
