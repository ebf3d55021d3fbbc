"""The client's keyword arguments and the CLI's options are the API's query parameters (docs/openapi.json),
so a parameter added to the API fails here until the client and ``rlogs`` take it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer.main

from request_logs_client import EnhancedParams, ExportListParams, ExportParams, ListParams, StatsParams
from request_logs_client.cli.app import app

REPO = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
# Not in the document's parameter list: metadata.<key> is a family of names (its `user` description says so).
BEYOND_THE_DOCUMENT = {"metadata"}


def query_parameters(path: str) -> set[str]:
    operation = OPENAPI["paths"][path]["get"]
    return {parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "query"}


def typed_dict_keys(typed: type) -> set[str]:
    return set(typed.__required_keys__ | typed.__optional_keys__)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "typed"),
    [
        ("/api/account/request-logs", ListParams),
        ("/api/account/request-logs/enhanced", EnhancedParams),
        ("/api/account/request-logs/stats", StatsParams),
        ("/api/account/request-logs/exports", ExportListParams),
    ],
)
def test_the_client_takes_every_query_parameter(path: str, typed: type) -> None:
    assert typed_dict_keys(typed) - BEYOND_THE_DOCUMENT == query_parameters(path)


def cli_options(*names: str) -> set[str]:
    command: Any = typer.main.get_command(app)
    for name in names:
        command = command.commands[name]
    return {parameter.name for parameter in command.params if parameter.name}


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (("logs", "list"), "/api/account/request-logs"),
        (("enhanced",), "/api/account/request-logs/enhanced"),
        (("stats",), "/api/account/request-logs/stats"),
    ],
)
def test_the_cli_has_an_option_per_query_parameter(command: tuple[str, ...], path: str) -> None:
    assert query_parameters(path) | BEYOND_THE_DOCUMENT - (
        {"metadata"} if command == ("stats",) else set()
    ) <= cli_options(*command)


def test_export_takes_every_filter_of_the_enhanced_list() -> None:
    paging = {"limit", "offset", "cursor"}
    assert query_parameters("/api/account/request-logs/enhanced") - paging | {"metadata"} <= cli_options("export")


def test_the_client_takes_every_member_of_the_export_body() -> None:
    body = OPENAPI["paths"]["/api/account/request-logs/exports"]["post"]["requestBody"]["content"]["application/json"]
    schema = OPENAPI["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert typed_dict_keys(ExportParams) == set(schema["properties"])
