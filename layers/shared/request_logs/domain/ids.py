"""Identifiers: the formats of account and API key ids, and what a request log's id encodes.

A log id carries its creation instant and a digest of (account, request id): a message delivered twice
maps to the same id (ingest stays idempotent), logs of one account spread evenly by the digest, and an
id tells where its log lives without a lookup (``store/keys`` derives the partition from it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

ACCOUNT_ID_PATTERN = r"^acct_[A-Za-z0-9]{1,64}$"
API_KEY_ID_PATTERN = r"^key_[A-Za-z0-9]{1,64}$"
_LOG_ID = re.compile(r"^log_(?P<created>[0-9a-f]{11})(?P<digest>[0-9a-f]{16})$")


@dataclass(frozen=True)
class LogId:
    value: str
    created_ms: int
    digest: int  # 64 bits of sha256(account, request id): uniform, so any modulus spreads evenly


def make_log_id(account_id: str, request_id: str, created_ms: int) -> str:
    digest = hashlib.sha256(f"{account_id}\x00{request_id}".encode()).hexdigest()[:16]
    return f"log_{created_ms:011x}{digest}"


def parse_log_id(log_id: str) -> LogId | None:
    """The parts of a well-formed id, or None (a malformed id is just an unknown one)."""
    match = _LOG_ID.fullmatch(log_id)  # not match: "$" would also accept a trailing newline
    if match is None:
        return None
    return LogId(log_id, int(match["created"], 16), int(match["digest"], 16))
