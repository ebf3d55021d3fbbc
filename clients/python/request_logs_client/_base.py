"""What the sync and async clients share: configuration, the request's shape, the answer's reading and
the retry decision. Only the waiting and the sending differ between them."""

from __future__ import annotations

import os
import platform
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from request_logs_client import _json
from request_logs_client._retry import RetryPolicy
from request_logs_client._version import __version__
from request_logs_client.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    RateLimitError,
    ServerError,
    error_from_response,
    parse_retry_after,
)

BASE_URL_ENV = "RL_BASE_URL"
API_KEY_ENV = "RL_API_KEY"
DEFAULT_TIMEOUT = 30.0

LOGS_PATH = "/api/account/request-logs"
ENHANCED_PATH = f"{LOGS_PATH}/enhanced"
STATS_PATH = f"{LOGS_PATH}/stats"
EXPORTS_PATH = f"{LOGS_PATH}/exports"
DOWNLOAD_CHUNK_BYTES = 1024 * 1024

# Called before each retry with the error that caused it, the wait in seconds and the attempt that failed.
RetryHook = Callable[[APIError, float, int], None]
Query = list[tuple[str, str]]
Model = TypeVar("Model", bound=pydantic.BaseModel)


def parse(model: type[Model], answer: Any) -> Model:
    """``answer`` as ``model``; an answer the model refuses is an ``APIResponseValidationError``."""
    try:
        return model.model_validate(answer)
    except pydantic.ValidationError as exc:
        raise APIResponseValidationError(
            f"the API's answer does not fit {model.__name__} ({exc.error_count()} errors; first: "
            f"{'.'.join(str(part) for part in exc.errors()[0]['loc'])}: {exc.errors()[0]['msg']})",
            status_code=200,
            type="invalid_response",
            code="response_validation_failed",
            body=answer,
        ) from exc


def log_path(log_id: str, suffix: str = "") -> str:
    if not log_id:
        raise ValueError("log_id must not be empty")
    # A slash or '?' in an id must stay inside its path segment (it is then a 404, as any unknown id).
    return f"{LOGS_PATH}/{quote(log_id, safe='')}{suffix}"


def export_path(export_id: str) -> str:
    if not export_id:
        raise ValueError("export_id must not be empty")
    return f"{EXPORTS_PATH}/{quote(export_id, safe='')}"


def api_request(
    http: httpx.Client | httpx.AsyncClient, method: str, path: str, query: Query | None, body: Any
) -> httpx.Request:
    """A request to the API: the query pairs, and ``body`` (if any) as exact JSON."""
    if body is None:
        return http.build_request(method, path, params=tuple(query or ()))
    return http.build_request(
        method,
        path,
        params=tuple(query or ()),
        content=_json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )


def download_request(http: httpx.Client | httpx.AsyncClient, url: str) -> httpx.Request:
    """A GET of a presigned URL: it carries its own signature, so the API key is not sent (it must never
    reach another host, and S3 refuses a request with two authentications)."""
    request = http.build_request("GET", url, headers={"Accept": "*/*"})
    del request.headers["Authorization"]
    return request


@dataclass(frozen=True)
class ClientSettings:
    base_url: str
    api_key: str
    timeout: httpx.Timeout
    retry: RetryPolicy
    headers: Mapping[str, str]


def resolve_settings(
    *,
    api_key: str | None,
    base_url: str | None,
    timeout: float | httpx.Timeout | None,
    max_attempts: int | None,
    retry: RetryPolicy | None,
    headers: Mapping[str, str] | None,
) -> ClientSettings:
    """Arguments first, then ``RL_BASE_URL`` / ``RL_API_KEY``; a missing one is a ValueError saying both ways."""
    key = api_key or os.environ.get(API_KEY_ENV)
    if not key:
        raise ValueError(f"no API key: pass api_key=... or set {API_KEY_ENV}")
    url = base_url or os.environ.get(BASE_URL_ENV)
    if not url:
        raise ValueError(f"no base URL: pass base_url=... or set {BASE_URL_ENV} (e.g. http://127.0.0.1:3000)")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"the base URL must start with http:// or https://, not {url!r}")
    policy = retry or RetryPolicy()
    if max_attempts is not None:
        policy = RetryPolicy(**{**policy.__dict__, "max_attempts": max_attempts})
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    return ClientSettings(
        base_url=url.rstrip("/"),
        api_key=key,
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        retry=policy,
        headers={
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            "User-Agent": f"request-logs-client/{__version__} python/{platform.python_version()}",
            **(headers or {}),
        },
    )


def read_answer(response: httpx.Response) -> Any:
    """The parsed body of a 2xx answer; otherwise the typed error for it, raised."""
    if not response.is_success:
        raise answer_error(response)
    try:
        return _json.loads(response.content) if response.content else None
    except ValueError:
        raise APIError(
            f"the API answered {response.status_code} with a body that is not JSON",
            status_code=response.status_code,
            type="api_error",
            code="invalid_json",
            headers=response.headers,
        ) from None


def answer_error(response: httpx.Response) -> APIError:
    """The typed error of a non-2xx answer (read already): the API's shape, or anything else by status."""
    try:
        body = _json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    return error_from_response(response, body)


# Failures that happen before the request leaves: nothing reached the server, so even a POST may be sent again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def transport_error(exc: httpx.TransportError, request_url: str) -> APIConnectionError:
    # A presigned URL's query is its signature: cut it. The API's URLs carry parameters, never the key.
    shown = request_url.split("?", 1)[0] + "?…" if "X-Amz-Signature=" in request_url else request_url
    error: APIConnectionError
    if isinstance(exc, httpx.TimeoutException):
        error = APITimeoutError(f"no answer from {shown} in time ({type(exc).__name__})", type="timeout")
    else:
        error = APIConnectionError(f"could not reach {shown}: {exc or type(exc).__name__}", type="connection_error")
    error.request_sent = not isinstance(exc, _NOT_SENT)
    error.__cause__ = exc
    return error


def is_retryable(error: APIError, *, replayable: bool = True) -> bool:
    """Whether to send the request again after ``error``. A 429 was refused before anything ran; a 5xx or a
    broken connection may come after the work was done, so only a request that may be replayed (a GET)
    tries again then, unless it never left."""
    if isinstance(error, RateLimitError):
        return True
    if isinstance(error, APIConnectionError):
        return replayable or not error.request_sent
    return replayable and isinstance(error, ServerError)


def retry_delay(
    policy: RetryPolicy, error: APIError, failed_attempts: int, rand: Callable[[], float], *, replayable: bool = True
) -> float | None:
    """Seconds to wait before trying again after ``error``, or None to raise it."""
    if not is_retryable(error, replayable=replayable):
        return None
    retry_after = parse_retry_after(error.headers.get("retry-after")) if error.status_code is not None else None
    return policy.delay(failed_attempts, retry_after, rand())


def default_random() -> Callable[[], float]:
    return random.Random().random  # noqa: S311 - jitter, not a secret
