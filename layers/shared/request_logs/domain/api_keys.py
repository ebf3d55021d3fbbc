"""API key material: generation, hashing, display prefix, and parsing the Authorization header."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

KEY_PREFIX = "sk-"
_KEY_BODY_LENGTH = 40
_ALPHABET = string.ascii_letters + string.digits
_KEY_FORMAT = re.compile(rf"^{KEY_PREFIX}[A-Za-z0-9]{{{_KEY_BODY_LENGTH}}}$")
_BEARER = re.compile(r"^Bearer +(?P<key>\S+) *$", re.IGNORECASE)
_DISPLAY_CHARS = 7


def generate_api_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(_KEY_BODY_LENGTH))


def generate_id(kind: str, length: int = 20) -> str:
    return f"{kind}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def display_prefix(api_key: str) -> str:
    """First 7 characters followed by ``...`` (docs/architecture.md, "API keys")."""
    return api_key[:_DISPLAY_CHARS] + "..."


def bearer_key(authorization: str | None) -> str | None:
    """The API key of a well-formed ``Authorization: Bearer <key>`` header, else None."""
    if not authorization or len(authorization) > 256:
        return None
    match = _BEARER.match(authorization)
    if match is None or not _KEY_FORMAT.match(match["key"]):
        return None
    return match["key"]


def hashes_match(stored_hash: str, presented_hash: str) -> bool:
    return hmac.compare_digest(stored_hash, presented_hash)
