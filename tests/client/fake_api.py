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
