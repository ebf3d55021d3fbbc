"""Typed Python client for the Request Logs API, and the ``rlogs`` command-line tool.

```python
from request_logs_client import Client

with Client() as client:  # RL_BASE_URL and RL_API_KEY from the environment
    for log in client.logs.iter(status="error"):
        print(log.created_at, log.model, log.error.message if log.error else "")
```
"""

from request_logs_client._async_client import AsyncClient
from request_logs_client._client import Client
from request_logs_client._params import (
    EnhancedParams,
    ExportFilters,
    ExportListParams,
    ExportParams,
    ListParams,
    StatsParams,
)
from request_logs_client._retry import RetryPolicy
from request_logs_client._version import __version__
from request_logs_client.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    ContentExpiredError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConflictError",
    "ContentExpiredError",
    "EnhancedParams",
    "ExportFilters",
    "ExportListParams",
    "ExportParams",
    "GoneError",
    "InvalidRequestError",
    "ListParams",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "StatsParams",
    "__version__",
]
