"""Named hostile inputs through the local gateway: never a 5xx, always the one JSON error shape, and the
parameter named when one is at fault.

The parameters come from the OpenAPI document of the handlers, so every query parameter of every GET
route of the template is covered, a new endpoint's included. Requests go out byte for byte as written
(``raw_http``): no client normalises ``../``, re-encodes a value or refuses a header.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from request_logs.domain.ids import make_log_id
from request_logs.domain.timeutil import parse_instant
from tests.e2e.conftest import LIST, LocalApi
from tests.e2e.raw_http import RawResponse, assert_error, bearer, document, query_parameters, request, send_raw

pytestmark = pytest.mark.e2e

DOCUMENT = document()
PARAMETERS = query_parameters(DOCUMENT)
STRING_PARAMETERS = [(path, name) for path, name, schema in PARAMETERS if schema.get("type") == "string"]
INTEGER_PARAMETERS = [(path, name) for path, name, schema in PARAMETERS if schema.get("type") == "integer"]
NUMBER_PARAMETERS = [(path, name) for path, name, schema in PARAMETERS if schema.get("type") == "number"]
ALL_PARAMETERS = [(path, name) for path, name, _ in PARAMETERS]
ID_ROUTES = [path for path in DOCUMENT["paths"] if "{id}" in path]


@pytest.fixture
def api(local_runtime: LocalApi) -> LocalApi:
    """The package's runtime without the hour's jump of ``local_api``: ``raw_http.request`` refills the
    throttles before every request, and the authorizer's cached policy spares a read per test."""
    return local_runtime


def short(path: str) -> str:
    return path.removeprefix(LIST) or "/"


def parameter_ids(cases: list[tuple[str, str]]) -> list[str]:
    return [f"{short(path)}?{name}" for path, name in cases]


def encoded(value: str) -> str:
    """A value marked ``raw:`` goes out as written (escapes no client would produce); any other is encoded."""
    return value.removeprefix("raw:") if value.startswith("raw:") else quote(value, safe="")


def assert_rejected_or_matches_nothing(response: RawResponse, name: str) -> None:
    """A hostile value is a 400 naming its parameter, or a filter that matches nothing: an injected
    value never widens what a filter returns, never reaches another account, never fails the handler."""
    if response.status == 400:
        assert_error(response, 400, param=name)
        return
    assert response.status == 200, (response.status, response.body[:300])
    body = response.json()
    assert body.get("logs") == [], f"{name}: a hostile filter value returned logs"
    assert body["pagination"]["total"] == 0


INJECTIONS = {
    "sql-tautology": "' OR '1'='1",
    "sql-comment": "openai/gpt-4o'--",
    "sql-union": "x' UNION SELECT * FROM request_logs--",
    "sql-stacked": "1; DROP TABLE request_logs;--",
    "nosql-operator": '{"$ne": null}',
    "nosql-gt": '{"$gt": ""}',
    "nosql-where": "'; return true; var x='",
    "nosql-bracket": "[$ne]=1",
    "dynamodb-condition": "x OR attribute_exists(pk)",
    "dynamodb-placeholder": ":v0",
    "dynamodb-name-placeholder": "#pk",
    "key-separator": "openai#0#acct_other",
    "wildcard": "*",
    "jndi": "${jndi:ldap://127.0.0.1/a}",
    "html": "<script>alert(1)</script>",
    "format-string": "%s%s%n%x",
}
UNUSUAL_TEXT = {
    "latin": "caf\u00e9",
    "emoji": "\U0001f389",
    "cjk": "\u65e5\u672c\u8a9e",
    "rtl-override": "\u202egpt",
    "zero-width-space": "gpt\u200b",
    "arabic-indic-digits": "\u0663\u0664",
    "fullwidth": "\uff4f\uff50\uff45\uff4e\uff41\uff49",
    "nul": "a\x00b",
    "only-nul": "\x00",
    "control": "\x01\x1b[31m",
    "crlf": "a\r\nSet-Cookie: x=1",
    "tab": "\t",
    "del": "\x7f",
    "invalid-utf8": "raw:%ff%fe",
    "overlong-utf8": "raw:%c0%af",
    "utf8-surrogate": "raw:%ed%a0%80",
    "truncated-escape": "raw:%e2%82",
    "bad-escape": "raw:%zz%",
    "lone-percent": "raw:%",
    "plus-as-space": "raw:a+b",
}


@pytest.mark.parametrize("value", INJECTIONS.values(), ids=INJECTIONS.keys())
@pytest.mark.parametrize(("path", "name"), STRING_PARAMETERS, ids=parameter_ids(STRING_PARAMETERS))
def test_injection_strings_in_every_string_parameter(api: LocalApi, path: str, name: str, value: str) -> None:
    response = request(api, f"{path}?{name}={encoded(value)}", bearer(api))

    assert_rejected_or_matches_nothing(response, name)


@pytest.mark.parametrize("value", UNUSUAL_TEXT.values(), ids=UNUSUAL_TEXT.keys())
@pytest.mark.parametrize(("path", "name"), STRING_PARAMETERS, ids=parameter_ids(STRING_PARAMETERS))
def test_non_ascii_and_control_characters_in_every_string_parameter(
    api: LocalApi, path: str, name: str, value: str
) -> None:
    response = request(api, f"{path}?{name}={encoded(value)}", bearer(api))

    assert_rejected_or_matches_nothing(response, name)


@pytest.mark.parametrize(("path", "name"), STRING_PARAMETERS, ids=parameter_ids(STRING_PARAMETERS))
def test_a_5_kb_value_is_a_400_naming_the_parameter(api: LocalApi, path: str, name: str) -> None:
    # Under API Gateway's 10,240-byte request line limit, so the handler's own limits answer.
    response = request(api, f"{path}?{name}={'a' * 5000}", bearer(api))

    assert_error(response, 400, param=name)


@pytest.mark.parametrize("size", [20_000, 100_000], ids=["20KB", "100KB"])
def test_a_huge_query_is_refused_by_the_gateway_in_the_json_shape(api: LocalApi, size: int) -> None:
    # Over API Gateway REST's 10,240 bytes for the request line and headers (and at 100 KB over the
    # HTTP server's own 64 KiB line limit): REQUEST_TOO_LARGE, before the authorizer.
    response = request(api, f"{LIST}?model={'m' * size}", bearer(api))

    error = assert_error(response, 413)
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(("path", "name"), ALL_PARAMETERS, ids=parameter_ids(ALL_PARAMETERS))
@pytest.mark.parametrize("same_value", [True, False], ids=["same-value", "different-values"])
def test_a_repeated_parameter_is_a_400_naming_it(api: LocalApi, path: str, name: str, same_value: bool) -> None:
    second = "1" if same_value else "2"
    response = request(api, f"{path}?{name}=1&{name}={second}", bearer(api))

    assert_error(response, 400, param=name)


# Spellings no integer parameter accepts.
NOT_INTEGERS = {
    "exponent": "1e2",
    "hex": "0x10",
    "octal": "0o17",
    "binary": "0b101",
    "decimal": "5.5",
    "decimal-comma": "5,0",
    "fraction": "1/2",
    "nan": "NaN",
    "infinity": "Infinity",
    "minus-infinity": "-Infinity",
    "huge": "9" * 40,
    "huge-negative": "-" + "9" * 40,
    "arabic-indic-digit": "\u0663",
    "fullwidth-digit": "\uff15",
    "empty": "",
    "space": " ",
    "two-numbers": "5 5",
    "boolean": "true",
    "null": "null",
    "array": "[5]",
}
# Spellings of a number that a parameter may accept, but only as that number.
NUMBER_SPELLINGS = {"plus-sign": ("+5", 5), "leading-space": ("%205", 5), "trailing-zero": ("5.0", 5)}
NUMBER_SPELLINGS |= {"minus-zero": ("-0", 0), "leading-zero": ("05", 5), "underscore": ("1_0", 10)}


@pytest.mark.parametrize("value", NOT_INTEGERS.values(), ids=NOT_INTEGERS.keys())
@pytest.mark.parametrize(("path", "name"), INTEGER_PARAMETERS, ids=parameter_ids(INTEGER_PARAMETERS))
def test_odd_number_notations_are_a_400_naming_the_parameter(api: LocalApi, path: str, name: str, value: str) -> None:
    response = request(api, f"{path}?{name}={quote(value, safe='')}", bearer(api))

    assert_error(response, 400, param=name)


@pytest.mark.parametrize(("value", "number"), NUMBER_SPELLINGS.values(), ids=NUMBER_SPELLINGS.keys())
@pytest.mark.parametrize(
    ("path", "name"), INTEGER_PARAMETERS + NUMBER_PARAMETERS, ids=parameter_ids(INTEGER_PARAMETERS + NUMBER_PARAMETERS)
)
def test_other_spellings_of_a_number_mean_that_number_or_are_a_400(
    api: LocalApi, path: str, name: str, value: str, number: int
) -> None:
    # With a model that matches nothing, a 200 costs no page of logs: only the echo matters here (stats
    # take no model: their limit is the top N of a user or metadata grouping).
    filtered = name != "model" and (path, "model") in ALL_PARAMETERS
    query = f"{name}={value}" + ("&model=no-such-model" if filtered else "")
    response = request(api, f"{path}?{query}", bearer(api))

    if response.status != 200:
        assert_error(response, 400, param=name)
    elif name in ("limit", "offset") and "pagination" in response.json():
        assert response.json()["pagination"][name] == number  # "+5" is 5, never 0 or 50


NOT_DECIMALS = {"nan": "NaN", "infinity": "Infinity", "minus-infinity": "-Infinity", "hex": "0x10", "empty": ""}
NOT_DECIMALS |= {"huge-exponent": "1e400", "tiny-exponent": "1e-400", "arabic-indic-digit": "\u0663", "comma": "0,5"}


@pytest.mark.parametrize("value", NOT_DECIMALS.values(), ids=NOT_DECIMALS.keys())
@pytest.mark.parametrize(("path", "name"), NUMBER_PARAMETERS, ids=parameter_ids(NUMBER_PARAMETERS))
def test_non_finite_or_unparseable_decimals_are_a_400(api: LocalApi, path: str, name: str, value: str) -> None:
    response = request(api, f"{path}?{name}={quote(value, safe='')}", bearer(api))

    assert_error(response, 400, param=name)


def first_log_id(api: LocalApi) -> str:
    message = api.first_messages[0]
    return make_log_id(api.first.account_id, message["request_id"], parse_instant(message["created_at"]))


TRAVERSALS = {
    "dot-dot": "..",
    "dot-dot-encoded": "%2e%2e",
    "dot-dot-slash": "..%2fstats",
    "dot-dot-slash-encoded": "%2e%2e%2f%2e%2e%2fstats",
    "double-encoded": "..%252f..%252fstats",
    "backslash": "..%5c..%5cstats",
    "absolute": "%2fetc%2fpasswd",
    "overlong-dot": "%c0%ae%c0%ae%c0%af",
    "semicolon": "..;",
    "nul": "LOG%00",
    "wildcard": "*",
    "template-literal": "%7Bid%7D",
    "id-then-traversal": "LOG%2f..%2f..%2fstats",
    "huge-id": "L" * 5000,
}


@pytest.mark.parametrize("segment", TRAVERSALS.values(), ids=TRAVERSALS.keys())
@pytest.mark.parametrize("route", ID_ROUTES, ids=[short(path) for path in ID_ROUTES])
def test_path_traversal_in_an_id_is_a_404(api: LocalApi, route: str, segment: str) -> None:
    target = route.replace("{id}", segment.replace("LOG", first_log_id(api)))

    response = request(api, target, bearer(api))

    error = assert_error(response, 404)
    assert error["type"] == "not_found_error"
    if error["code"] != "route_not_found":
        assert error["param"] == "id"


@pytest.mark.parametrize(
    "target",
    [
        f"{LIST}/../../account/request-logs/stats",
        f"{LIST}/./stats",
        f"{LIST}/LOG/../stats",
        f"{LIST}/LOG/./details",
        f"{LIST}//stats",
        "/api/account/../account/request-logs",
    ],
)
def test_raw_dot_segments_never_reach_another_route(api: LocalApi, target: str) -> None:
    response = request(api, target.replace("LOG", first_log_id(api)), bearer(api))

    # A dot segment is a path segment like any other to API Gateway: no route, or an id that is no log.
    if response.status != 200:
        assert_error(response, 404)
    else:  # the router ignores empty segments: '//stats' is the stats route itself, not a traversal
        assert target.endswith("//stats")


def key_header(api: LocalApi, template: str) -> bytes:
    return template.replace("KEY", api.first.api_key).encode("utf-8")


MALFORMED_AUTHORIZATION = {
    "empty": "",
    "scheme-only": "Bearer",
    "scheme-and-space": "Bearer ",
    "no-scheme": "KEY",
    "basic": "Basic dXNlcjpwYXNzd29yZA==",
    "token-scheme": "Token KEY",
    "tab-separator": "Bearer\tKEY",
    "no-separator": "BearerKEY",
    "trailing-garbage": "Bearer KEY extra",
    "two-keys": "Bearer KEY, Bearer KEY",
    "quoted": 'Bearer "KEY"',
    "non-ascii-key": "Bearer sk-\u00e9\u00e9\u00e9\u00e9",
    "emoji-key": "Bearer \U0001f511",
    "nul-in-key": "Bearer KEY\x00",
    "nul-only": "\x00",
    "control": "Bearer \x01\x02",
    "key-too-long": "Bearer KEY" + "a" * 300,
    "huge-9kb": "Bearer " + "a" * 9000,
    "sql": "Bearer ' OR '1'='1",
}


@pytest.mark.parametrize("value", MALFORMED_AUTHORIZATION.values(), ids=MALFORMED_AUTHORIZATION.keys())
def test_a_malformed_authorization_header_is_a_401(api: LocalApi, value: str) -> None:
    response = request(api, f"{LIST}?limit=1", [("Authorization", key_header(api, value))])

    error = assert_error(response, 401)
    assert error["type"] == "authentication_error"


def test_two_authorization_headers_that_are_both_invalid_are_a_401(api: LocalApi) -> None:
    headers: list[Any] = [("Authorization", "Basic eA=="), ("Authorization", "Bearer sk-nope")]

    assert_error(request(api, f"{LIST}?limit=1", headers), 401)


@pytest.mark.parametrize("value", ["Bearer  KEY", "bearer KEY", "BEARER KEY", "Bearer KEY "])
def test_rfc_7235_spellings_of_a_valid_key_are_accepted(api: LocalApi, value: str) -> None:
    # The scheme is case-insensitive and followed by one or more spaces (RFC 7235 §2.1).
    response = request(api, f"{LIST}?limit=1", [("Authorization", key_header(api, value))])

    assert response.status == 200, response.body[:300]


def test_a_100_kb_authorization_header_is_refused_in_the_json_shape(api: LocalApi) -> None:
    response = request(api, f"{LIST}?limit=1", [("Authorization", "Bearer " + "a" * 100_000)])

    assert_error(response, 413)


UNKNOWN_PATHS = [  # "/" is the local runtime's index (test_gateway_http)
    "/api",
    "/api/account",
    "/api/account/request-logs/stats/extra",
    f"{LIST}/a/b/c",
    "/API/ACCOUNT/REQUEST-LOGS",
    "/api/account/request-logs.json",
    "/.env",
    "/api/account/request-logs%2Fstats",
]


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("with_key", [True, False], ids=["with-key", "without-key"])
def test_unknown_paths_are_a_404_in_the_json_shape(api: LocalApi, path: str, with_key: bool) -> None:
    response = request(api, path, bearer(api) if with_key else [])

    error = assert_error(response, 404)
    assert error["code"] == "route_not_found"


OTHER_METHODS = [
    (path, method)
    for path in DOCUMENT["paths"]
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "FOO")
    if method.lower() not in DOCUMENT["paths"][path]  # POST on the exports collection is a route of its own
]


@pytest.mark.parametrize(("path", "method"), OTHER_METHODS, ids=[f"{short(p)}-{m}" for p, m in OTHER_METHODS])
def test_other_methods_are_a_405_with_allow(api: LocalApi, path: str, method: str) -> None:
    # The template routes ANY on every path to MethodNotAllowedFunction; API Gateway prefers the path's own
    # methods (GET, and POST on the exports collection).
    served = sorted(name.upper() for name in DOCUMENT["paths"][path])
    response = request(api, path.replace("{id}", first_log_id(api)), bearer(api), method=method)

    error = assert_error(response, 405)
    assert error["code"] == "method_not_allowed"
    assert response.headers.get("allow") == ", ".join(served)


@pytest.mark.parametrize(("content_length", "status"), [("abc", 400), ("-1", 400), ("1.5", 400), ("99999999999", 413)])
def test_a_bad_content_length_is_refused_at_once(api: LocalApi, content_length: str, status: int) -> None:
    # "-1" must not make the server read until the client hangs up (the request would time out).
    response = request(api, f"{LIST}?limit=1", [*bearer(api), ("Content-Length", content_length)])

    assert_error(response, status)


@pytest.mark.parametrize(
    "raw",
    [b"GARBAGE\r\n\r\n", b"GET /api/account/request-logs HTTP/9.9\r\n\r\n", b"GET  HTTP/1.1\r\n\r\n"],
    ids=["no-method-or-path", "http-9.9", "empty-target"],
)
def test_a_request_line_the_server_cannot_parse_is_answered_in_the_json_shape(api: LocalApi, raw: bytes) -> None:
    assert_error(send_raw(api, raw), 400)


def test_a_nul_byte_in_the_raw_request_line_is_a_400_or_matches_nothing(api: LocalApi) -> None:
    line = f"GET {LIST}?model=a\x00b HTTP/1.1\r\nAuthorization: Bearer {api.first.api_key}\r\n\r\n"
    api.clock.advance(60)

    assert_rejected_or_matches_nothing(send_raw(api, line.encode()), "model")
