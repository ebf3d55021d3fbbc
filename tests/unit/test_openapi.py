"""The OpenAPI document generated from the handlers (local.openapi): checked in, complete, and truthful
about the error shape that the handlers and the template's gateway responses really produce."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from local.emulator.gateway import GatewayResponses
from local.openapi import DOCUMENT_PATH, ERROR_RESPONSES, build_document, render
from local.stack.template import Template, load_template
from request_logs.api.errors import error_body, http_status
from request_logs.domain.errors import ContentExpired, ExportConflict, InvalidQuery, NotFound, UseCaseError


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document(load_template())


def component(document: dict[str, Any], ref: str) -> dict[str, Any]:
    """The object a local ``$ref`` (``#/components/...``) points at."""
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return dict(target)


def response_schema_validator(document: dict[str, Any], status: str) -> jsonschema.Draft202012Validator:
    response = component(document, f"#/components/responses/{ERROR_RESPONSES[status].component}")
    schema = {**response["content"]["application/json"]["schema"], "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_checked_in_document_is_up_to_date(document: dict[str, Any]) -> None:
    # A change of a handler's parameters or models changes the API: regenerate, and it shows in review.
    assert DOCUMENT_PATH.read_text() == render(document), "docs/openapi.json is stale: run `make openapi`"


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Request Logs API"
    assert document["info"]["version"]


def test_every_route_of_the_template_is_documented_with_its_errors(document: dict[str, Any]) -> None:
    # ANY routes answer every other method with a 405: not operations of the document.
    routes = [route for route in load_template().routes() if route.method != "ANY"]
    documented = {(path, method) for path, item in document["paths"].items() for method in item}

    assert documented == {(route.path, route.method.lower()) for route in routes}
    for route in routes:
        responses = document["paths"][route.path][route.method.lower()]["responses"]
        # A POST starts something and answers 202 (an export, with its Location); every GET answers 200.
        assert ("202" if route.method == "POST" else "200") in responses
        assert "422" not in responses  # validation errors are 400s in the one shape, never Powertools' 422
        expected = {"400", "401", "429"} | ({"404"} if "{" in route.path else set())
        expected |= {"410"} if route.path.endswith("/details") else set()
        expected |= {"409", "415"} if route.method == "POST" else set()
        assert expected <= responses.keys(), route
        for status in expected:
            assert responses[status] == {"$ref": f"#/components/responses/{ERROR_RESPONSES[status].component}"}
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_operation_requires_a_bearer_key(document: dict[str, Any]) -> None:
    (scheme_name,) = document["components"]["securitySchemes"]
    assert document["components"]["securitySchemes"][scheme_name] | {"description": ""} == {
        "type": "http",
        "scheme": "bearer",
        "description": "",
    }
    assert document["security"] == [{scheme_name: []}]
    for item in document["paths"].values():
        for operation in item.values():
            assert operation.get("security", document["security"]) == [{scheme_name: []}]


def test_rate_limited_response_requires_retry_after(document: dict[str, Any]) -> None:
    headers = component(document, "#/components/responses/RateLimited")["headers"]

    assert headers["Retry-After"]["required"] is True
    assert headers["Retry-After"]["schema"]["type"] == "integer"


def test_optional_query_parameters_are_never_documented_as_null(document: dict[str, Any]) -> None:
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                assert "anyOf" not in parameter["schema"], parameter["name"]
                assert parameter["schema"].get("type") != "null", parameter["name"]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("400", InvalidQuery("Invalid value for 'limit': too big.", param="limit")),
        ("400", InvalidQuery("start_date must be before end_date.")),
        ("404", NotFound("No request log with id 'log_x'.", param="id")),
        ("410", ContentExpired("Past its 30-day retention.", param="id")),
        ("409", ExportConflict("exp_19a8f0c2d4e0123456789abcdef")),
        ("404", NotFound("No export with id 'exp_x'.", param="id", code="export_not_found")),
    ],
)
def test_handler_errors_match_the_documented_shape(document: dict[str, Any], status: str, error: UseCaseError) -> None:
    error_status, error_type = http_status(error)
    body = error_body(error_type, error.code, error.message, error.param, error.details)

    assert str(error_status) == status
    response_schema_validator(document, status).validate(body)


def test_documented_shape_rejects_other_shapes(document: dict[str, Any]) -> None:
    validator = response_schema_validator(document, "400")

    for wrong in (
        {"message": "Bad request"},  # API Gateway's own body
        {"detail": [{"loc": ["query", "limit"], "msg": "x", "type": "y"}]},  # Powertools' 422 body
        {"error": {"type": "authentication_error", "code": "x", "message": "y"}},  # another status's type
        {"error": {"type": "invalid_request_error", "code": "x", "message": "y", "extra": 1}},
    ):
        assert not validator.is_valid(wrong), wrong


def test_gateway_responses_of_the_template_match_the_documented_shape(document: dict[str, Any]) -> None:
    template = load_template()
    responses = GatewayResponses(template.gateway_responses())
    by_status = {"401": ["UNAUTHORIZED", "ACCESS_DENIED", "INVALID_API_KEY"], "429": ["THROTTLED"]}

    for status, response_types in by_status.items():
        validator = response_schema_validator(document, status)
        for response_type in response_types:
            rendered = responses.render(response_type)
            assert str(rendered.status) == status, response_type
            validator.validate(json.loads(rendered.body))
            if status == "429":
                assert dict(rendered.headers)["Retry-After"].isdigit()


def test_a_route_its_handler_does_not_serve_fails_the_generation() -> None:
    template = load_template()
    moved = Template(copy.deepcopy(template.document), dict(template.physical_names))
    route = next(route for route in moved.routes() if route.path.endswith("/details") and route.method == "GET")
    events = moved.resources[route.function]["Properties"]["Events"]
    for event in events.values():
        if event["Type"] == "Api":
            event["Properties"]["Path"] = route.path.replace("/details", "/content")

    with pytest.raises(ValueError, match=route.function):
        build_document(moved)


def test_each_operation_states_the_usage_plans_rate_limit(document: dict[str, Any]) -> None:
    template = load_template()
    throttles, plan = template.usage_plan_throttles()

    for route in (route for route in template.routes() if route.method != "ANY"):
        limits = throttles.get(f"{route.path}/{route.method}", plan)
        assert limits is not None
        per_minute = round(float(limits["RateLimit"]) * 60)
        description = document["paths"][route.path][route.method.lower()]["description"]
        assert f"{per_minute} requests per minute" in description, route
