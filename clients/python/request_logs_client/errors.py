"""Typed exceptions carrying the API's error shape.

Every error of the API has one JSON shape, ``{"error": {"type", "code", "message", "param"?}}``
(docs/architecture.md). Each exception below carries those four fields and the HTTP status; the class is
chosen by the status, so ``except NotFoundError`` reads like the API's documentation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APITimeoutError",
    "AuthenticationError",
    "ConflictError",
    "ContentExpiredError",
    "GoneError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "error_from_response",
]


class APIError(Exception):
    """Any failure of a call: an error answer of the API, or no answer at all (``status_code`` None)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        type: str | None = None,  # noqa: A002 - the API's own field name
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.type = type
        self.code = code
        self.param = param
        self.headers: Mapping[str, str] = headers or {}
        self.body = body

    def __str__(self) -> str:
        where = f" (param: {self.param})" if self.param else ""
        status = f"{self.status_code} " if self.status_code is not None else ""
        kind = f"{self.type}/{self.code}: " if self.type and self.code else ""
        return f"{status}{kind}{self.message}{where}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, type={self.type!r}, code={self.code!r}, "
            f"param={self.param!r}, message={self.message!r})"
        )


class InvalidRequestError(APIError):
    """400 ``invalid_request_error``: a bad, unknown or repeated parameter; ``param`` names it."""


class AuthenticationError(APIError):
    """401 ``authentication_error``: the API key is missing, malformed, unknown or revoked."""


class PermissionDeniedError(APIError):
    """403: the gateway refused the key for this method."""


class NotFoundError(APIError):
    """404 ``not_found_error``: no such log in this key's account (another account's id answers the same)."""


class ConflictError(APIError):
    """409 ``conflict_error``: the request clashes with the account's state. ``export_in_progress``: the
    account already has an export queued or running (one at a time); ``export_id`` names it."""

    @property
    def export_id(self) -> str | None:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        value = error.get("export_id") if isinstance(error, dict) else None
        return value if isinstance(value, str) else None


class GoneError(APIError):
    """410 ``content_expired``: the log's prompt and completion are past their 30-day retention."""


ContentExpiredError = GoneError


class RateLimitError(APIError):
    """429 ``rate_limit_error`` once the client's retries are spent; ``retry_after`` in seconds when sent."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


class ServerError(APIError):
    """5xx: a fault of the service, never of the request (retried before it is raised)."""


class APIConnectionError(APIError):
    """No answer: the connection failed or broke (retried before it is raised)."""

    request_sent: bool = True
    """False when the request certainly never reached the server (the connection was never made): even a
    POST is then safe to send again."""


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout (retried before it is raised)."""


class APIResponseValidationError(APIError):
    """A successful answer the response models do not accept (an API older or newer than this client in an
    incompatible way); ``body`` holds the answer as parsed JSON."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    429: RateLimitError,
}


def error_class(status_code: int) -> type[APIError]:
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, APIError)


def error_from_response(response: httpx.Response, body: Any) -> APIError:
    """The exception for an error answer; ``body`` is its parsed JSON (None when it was not JSON)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error_class(response.status_code)(
            error["message"],
            status_code=response.status_code,
            type=_text(error.get("type")),
            code=_text(error.get("code")),
            param=_text(error.get("param")),
            headers=response.headers,
            body=body,
        )
    # Not the API's shape (a proxy in between, say): keep the status and a readable message.
    text = response.text.strip()[:200] or response.reason_phrase or "no body"
    return error_class(response.status_code)(
        f"HTTP {response.status_code}: {text}",
        status_code=response.status_code,
        type="api_error",
        code=f"http_{response.status_code}",
        headers=response.headers,
        body=body,
    )


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds: the API sends delta-seconds; an HTTP date is read too."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from datetime import UTC, datetime
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return None if math.isnan(seconds) else max(0.0, seconds)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
