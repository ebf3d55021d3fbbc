"""The local runtime serves its API reference without auth: the OpenAPI document and Swagger UI, offline."""

from __future__ import annotations

import pytest
import requests

from local.openapi import build_document
from local.run import api_reference
from tests.e2e.conftest import LocalApi

pytestmark = pytest.mark.e2e


def test_openapi_document_is_served_without_auth(local_api: LocalApi) -> None:
    response = requests.get(f"{local_api.base_url}/openapi.json", timeout=30)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == build_document(local_api.template)


def test_swagger_ui_is_served_from_this_host_without_auth(local_api: LocalApi) -> None:
    page = requests.get(f"{local_api.base_url}/docs", timeout=30)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'url: "/openapi.json"' in page.text
    # Its script and style come from this host, not a CDN: the page works offline.
    for asset, content_type in [
        ("/docs/swagger-ui-bundle.min.js", "application/javascript"),
        ("/docs/swagger-ui.min.css", "text/css"),
    ]:
        assert f'"{asset}"' in page.text
        served = requests.get(f"{local_api.base_url}{asset}", timeout=30)
        assert served.status_code == 200, asset
        assert served.headers["Content-Type"].startswith(content_type)
        assert len(served.content) > 10_000
    assert "https://" not in page.text


@pytest.mark.parametrize(("method", "path"), [("POST", "/docs"), ("DELETE", "/openapi.json"), ("GET", "/docs/x.js")])
def test_other_documentation_requests_are_unknown_routes(local_api: LocalApi, method: str, path: str) -> None:
    response = requests.request(method, f"{local_api.base_url}{path}", timeout=30)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "route_not_found"


def test_make_run_prints_where_the_reference_is() -> None:
    printed = api_reference("http://127.0.0.1:3000")

    assert "http://127.0.0.1:3000/docs" in printed
    assert "http://127.0.0.1:3000/openapi.json" in printed
    assert "http://127.0.0.1:3000/logs" in printed
    assert "http://127.0.0.1:3000/analytics" in printed


@pytest.mark.parametrize("path", ["/logs", "/logs/", "/logs/log_0123456789abcdef", "/analytics"])
def test_the_dashboards_pages_are_its_index_without_auth(local_api: LocalApi, path: str) -> None:
    response = requests.get(f"{local_api.base_url}{path}", timeout=30)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<main id="main"' in response.text
    assert "https://" not in response.text  # every file from this host: the page works offline


def test_the_dashboards_files_are_served_with_their_types(local_api: LocalApi) -> None:
    for path, content_type in [
        ("/js/main.js", "text/javascript"),
        ("/app.css", "text/css"),
        ("/vendor/uPlot.iife.min.js", "text/javascript"),
        ("/vendor/uPlot.min.css", "text/css"),
    ]:
        served = requests.get(f"{local_api.base_url}{path}", timeout=30)
        assert served.status_code == 200, path
        assert served.headers["Content-Type"].startswith(content_type), path


@pytest.mark.parametrize("path", ["/logs/a/b", "/js/nothing.js", "/analytics/x", "/vendor/", "/package.json"])
def test_paths_the_dashboard_does_not_have_are_404s(local_api: LocalApi, path: str) -> None:
    response = requests.get(f"{local_api.base_url}{path}", timeout=30)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "route_not_found"
