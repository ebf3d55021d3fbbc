"""Environment → one typed settings object, checked when a function starts.

Each function names the settings it needs (``require_settings`` in its ``app.py``, at import): a
variable that is missing or empty there fails the cold start with a message naming it, instead of the
first request failing on a table called "". Reading stays cheap: plain ``os.environ``, no validation
library on the import path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from request_logs.domain.exports import PartLimits

Setting = Literal[
    "logs_table",
    "content_table",
    "api_keys_table",
    "content_bucket",
    "stats_table",
    "cursor_signing_key",
    "settle_queue_url",
    "exports_table",
    "exports_bucket",
    "export_queue_url",
]

# Setting → the environment variable template.yaml sets it in.
ENVIRONMENT_VARIABLES: dict[Setting, str] = {
    "logs_table": "LOGS_TABLE",
    "content_table": "CONTENT_TABLE",
    "api_keys_table": "API_KEYS_TABLE",
    "content_bucket": "CONTENT_BUCKET",
    "stats_table": "STATS_TABLE",
    "cursor_signing_key": "CURSOR_SIGNING_KEY",
    "settle_queue_url": "SETTLE_QUEUE_URL",
    "exports_table": "EXPORTS_TABLE",
    "exports_bucket": "EXPORTS_BUCKET",
    "export_queue_url": "EXPORT_QUEUE_URL",
}


class MissingSetting(RuntimeError):
    """A function started without a setting it needs: a deployment error, not a request error."""


@dataclass(frozen=True)
class Settings:
    logs_table: str
    content_table: str
    api_keys_table: str
    content_bucket: str
    stats_table: str
    cursor_signing_key: str  # resolved from Secrets Manager by CloudFormation at deploy time
    settle_queue_url: str  # where the aggregator asks for settle markers (logic/settle)
    exports_table: str  # export records and the per-account export lock (store/exports)
    exports_bucket: str  # export parts and manifests, expired after 7 days by a lifecycle rule
    export_queue_url: str  # starts and continues the export function (logic/export_run)

    def require(self, *names: Setting) -> Settings:
        """These settings, or MissingSetting naming every variable that is missing, empty or unresolved."""
        problems = [problem for name in names if (problem := self._problem(name)) is not None]
        if problems:
            raise MissingSetting("This function cannot start: " + "; ".join(problems) + ".")
        return self

    def _problem(self, name: Setting) -> str | None:
        variable = ENVIRONMENT_VARIABLES[name]
        value: str = getattr(self, name)
        if not value.strip():
            return f"{variable} is not set"
        # An unresolved dynamic reference would be a signing key anyone can read in the template.
        if name == "cursor_signing_key" and value.startswith("{{resolve:"):
            return f"{variable} is an unresolved dynamic reference"
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    values = {name: os.environ.get(variable, "") for name, variable in ENVIRONMENT_VARIABLES.items()}
    return Settings(**values)


def require_settings(*names: Setting) -> Settings:
    """The settings, after checking that those ``names`` are present: call once at a function's start."""
    return get_settings().require(*names)


# Optional overrides of the export function's part limits (``domain/exports.PartLimits``): unset on AWS, where
# the defaults hold; tests and benchmarks set small ones to exercise many parts and runs on little data.
EXPORT_LIMIT_VARIABLES = {
    "max_rows": "EXPORT_PART_MAX_ROWS",
    "max_bytes": "EXPORT_PART_MAX_BYTES",
    "page_rows": "EXPORT_PAGE_ROWS",
    "reserve_ms": "EXPORT_RESERVE_MS",
}


def export_limits() -> PartLimits:
    """The export function's part limits: the defaults, or the overrides set in the environment."""
    overrides = {
        name: int(os.environ[variable]) for name, variable in EXPORT_LIMIT_VARIABLES.items() if os.environ.get(variable)
    }
    return PartLimits(**overrides)
