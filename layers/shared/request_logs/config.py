"""Environment → one typed settings object. Read lazily so importing a handler stays cheap."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    logs_table: str
    content_table: str
    api_keys_table: str
    content_bucket: str
    stats_table: str
    cursor_signing_key: str  # resolved from Secrets Manager by CloudFormation at deploy time


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        logs_table=os.environ.get("LOGS_TABLE", ""),
        content_table=os.environ.get("CONTENT_TABLE", ""),
        api_keys_table=os.environ.get("API_KEYS_TABLE", ""),
        content_bucket=os.environ.get("CONTENT_BUCKET", ""),
        stats_table=os.environ.get("STATS_TABLE", ""),
        cursor_signing_key=os.environ.get("CURSOR_SIGNING_KEY", ""),
    )
