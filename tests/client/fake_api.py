"""A stand-in for the API in httpx.MockTransport handlers: the client's own transport tests only (the
client against the real stack is tests/e2e/test_client.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

BASE_URL = "https://api.test/v1"
API_KEY = "sk-test-0123456789"


def error_body(type_: str, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    error = {"type": type_, "code": code, "message": message}
    if param is not None:
        error["param"] = param
    return {"error": error}


def log(number: int) -> dict[str, Any]:
    return {
        "id": f"log_{number:04d}",
        "request_id": f"req_{number:04d}",
        "model": "openai/gpt-4o",
        "provider": "openai",
        "status": "success",
        "status_code": 200,
        "latency_ms": 100 + number,
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "cost": 0.000125,
        "created_at": f"2026-01-01T00:{number // 60:02d}:{number % 60:02d}Z",
        "api_key_id": "key_abc",
        "api_key_prefix": "sk-test...",
        "error": None,
    }


def list_page(numbers: list[int], *, total: int, offset: int, next_cursor: str | None) -> dict[str, Any]:
    return {
        "logs": [log(number) for number in numbers],
        "pagination": {
            "total": total,
            "limit": len(numbers),
            "offset": offset,
            "hasMore": next_cursor is not None,
            "nextCursor": next_cursor,
        },
    }


class Recorder:
    """A MockTransport handler answering from a script of responses, recording the requests."""

    def __init__(self, *answers: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )


EXPORT_ID = "exp_19a8f0c2d4e0123456789abcdef"
# The exports collection's path as the fake transport sees it (under BASE_URL's /v1).
EXPORTS = "/v1/api/account/request-logs/exports"


def export_created(export_id: str = EXPORT_ID, **filters: Any) -> dict[str, Any]:
    return {
        "id": export_id,
        "status": "queued",
        "format": filters.pop("format", "ndjson"),
        "include_content": filters.pop("include_content", False),
        "filters": filters,
        "created_at": "2026-01-01T00:00:00.000Z",
        "expires_at": "2026-01-08T00:00:00.000Z",
    }


def export_detail(
    export_id: str = EXPORT_ID,
    *,
    status: str = "succeeded",
    parts: list[dict[str, Any]] | None = None,
    urls: list[str] | None = None,
    rows: int = 0,
    total: int | None = None,
    **filters: Any,
) -> dict[str, Any]:
    done = status == "succeeded"
    return {
        **export_created(export_id, **filters),
        "status": status,
        "rows": rows,
        "finished_at": "2026-01-01T00:01:00.000Z" if status in ("succeeded", "failed") else None,
        "error": {"message": "It broke."} if status == "failed" else None,
        "progress": {"rows": rows, "total": total, "fraction": 1.0 if done else None},
        "started_at": "2026-01-01T00:00:01.000Z" if status != "queued" else None,
        "parts": parts or [],
        "urls": urls if done else None,
        "manifest_url": "https://s3.test/manifest.json?X-Amz-Signature=abc" if done else None,
        "urls_expire_at": "2026-01-01T01:01:00.000Z" if done else None,
    }


def conflict(export_id: str = EXPORT_ID) -> httpx.Response:
    body = error_body("conflict_error", "export_in_progress", f"Export '{export_id}' is still running.")
    body["error"]["export_id"] = export_id
    return json_response(409, body)
