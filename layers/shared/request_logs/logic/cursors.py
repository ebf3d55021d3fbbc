"""The cursor codec: opaque, signed page tokens for the list and enhanced endpoints (decisions §15).

A cursor is ``base64url(payload) "." base64url(HMAC-SHA256(key, payload))``. The payload names the
account, a fingerprint of the query it continues (filters, sort, order, endpoint), the position after the
last log returned, how many logs came before, and the snapshot the walk pins: the instant the first page
was served (later logs are not part of the walk) with that instant's total and summary. So a deeper
page reads only its own logs, whatever the depth.

Anything that does not verify, or continues another query or another account, is a 400 naming
``cursor``; the position is only ever applied under the caller's own partitions anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from request_logs.config import get_settings
from request_logs.domain.errors import InvalidQuery
from request_logs.domain.ids import parse_log_id
from request_logs.domain.ordering import Position, decode_position, encode_position

# 2: positions carry (created_ms, id) instead of the table's sort key string.
CURSOR_VERSION = 2
# A walk is a snapshot: a cursor older than a day would page through a picture that old. Ask anew.
CURSOR_TTL_MS = 24 * 3_600_000
MAX_CURSOR_LENGTH = 4096


@dataclass(frozen=True)
class CursorState:
    """Where a walk stands. ``totals`` is the snapshot's total and summary, as the first page gave them."""

    account_id: str
    fingerprint: str
    position: Position
    returned: int  # logs returned before this page: its offset
    snapshot_ms: int  # exclusive end the walk is pinned to
    issued_ms: int
    totals: dict[str, Any] = field(default_factory=dict)
    bound_selectivity: float | None = None  # the first page's ``Totals.bound_selectivity``, kept for the walk
    # A bounded walk: the ids the last page left of its value-index bucket (``LogPage.bucket_rest``).
    bucket_rest: tuple[str, ...] | None = None


def signing_key() -> bytes:
    """The HMAC key: the ``CursorSigningSecret`` value CloudFormation resolved into the environment
    (``config`` refuses a function start without it)."""
    return get_settings().require("cursor_signing_key").cursor_signing_key.encode()


def query_fingerprint(endpoint: str, parameters: dict[str, Any]) -> str:
    """What a cursor continues: the endpoint and every parameter but the page size and position."""
    canonical = json.dumps({"endpoint": endpoint, **parameters}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def state_to_dict(state: CursorState) -> dict[str, Any]:
    """The walk position as plain JSON data: what a cursor signs, and what an export checkpoints."""
    return {
        "v": CURSOR_VERSION,
        "a": state.account_id,
        "f": state.fingerprint,
        "p": encode_position(state.position),
        "n": state.returned,
        "s": state.snapshot_ms,
        "i": state.issued_ms,
        "t": state.totals,
        **({"b": state.bound_selectivity} if state.bound_selectivity is not None else {}),
        **(_rest_field(state.bucket_rest) if state.bucket_rest is not None else {}),
    }


def state_from_dict(raw: Any) -> CursorState:
    """The inverse of ``state_to_dict``; raises KeyError, TypeError, ValueError or ArithmeticError on
    anything else (a version other than the current one included)."""
    if raw["v"] != CURSOR_VERSION:
        raise ValueError("another version")
    return CursorState(
        account_id=str(raw["a"]),
        fingerprint=str(raw["f"]),
        position=decode_position(raw["p"]),
        returned=int(raw["n"]),
        snapshot_ms=int(raw["s"]),
        issued_ms=int(raw["i"]),
        totals=dict(raw["t"]),
        bound_selectivity=float(raw["b"]) if raw.get("b") is not None else None,
        bucket_rest=_packed_ids(raw["R"]) if "R" in raw else _ids(raw["r"]) if "r" in raw else None,
    )


def encode_cursor(state: CursorState, key: bytes) -> str:
    payload = json.dumps(state_to_dict(state), separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_signature(key, payload))}"


# A log id is "log_" and 27 hex digits (``domain/ids``): packed in 14 bytes it takes 25 characters of the
# cursor (base64 inside the base64 payload) instead of 45 as a JSON string: twice the ids of a bucket's
# rest in a cursor of the same length.
_PACKED_ID_BYTES = 14


def _rest_field(ids: tuple[str, ...]) -> dict[str, Any]:
    if all(parse_log_id(log_id) is not None for log_id in ids):
        return {"R": _b64(b"".join(int(log_id[4:], 16).to_bytes(_PACKED_ID_BYTES, "big") for log_id in ids))}
    return {"r": list(ids)}


def _packed_ids(raw: Any) -> tuple[str, ...]:
    data = _unb64(str(raw))
    if len(data) % _PACKED_ID_BYTES:
        raise ValueError("packed ids are 14 bytes each")
    return tuple(
        f"log_{int.from_bytes(data[start : start + _PACKED_ID_BYTES], 'big'):027x}"
        for start in range(0, len(data), _PACKED_ID_BYTES)
    )


def _ids(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise TypeError("bucket_rest is a list of ids")
    return tuple(raw)


def _invalid(reason: str) -> InvalidQuery:
    return InvalidQuery(
        f"Invalid value for 'cursor': {reason}. Use the nextCursor of the previous page unchanged, with the same "
        "filters, sort and order; start again without a cursor if it is lost.",
        param="cursor",
        code="invalid_cursor",
    )


def decode_cursor(token: str, key: bytes, *, account_id: str, fingerprint: str, now_ms: int) -> CursorState:
    """Verify and read a cursor for this caller and query; any mismatch is a 400 naming ``cursor``."""
    if len(token) > MAX_CURSOR_LENGTH or token.count(".") != 1:
        raise _invalid("not a cursor this API issued")
    encoded_payload, encoded_signature = token.split(".")
    try:
        payload, signature = _unb64(encoded_payload), _unb64(encoded_signature)
    except (binascii.Error, ValueError) as exc:
        raise _invalid("not a cursor this API issued") from exc
    # Constant-time: a forger learns nothing from how long the comparison took.
    if not hmac.compare_digest(signature, _signature(key, payload)):
        raise _invalid("its signature does not verify (modified, or issued elsewhere)")
    try:
        raw = json.loads(payload)
        version = raw["v"]
    except (KeyError, TypeError, ValueError) as exc:
        raise _invalid("not a cursor this API issued") from exc
    if version != CURSOR_VERSION:
        raise _invalid("issued by an older version of the API")
    try:
        state = state_from_dict(raw)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise _invalid("not a cursor this API issued") from exc
    # Not a lookup of someone else's data, but a cursor is only ever valid for the key's own account.
    if not hmac.compare_digest(state.account_id.encode(), account_id.encode()):
        raise _invalid("it was not issued to this API key's account")
    if state.fingerprint != fingerprint:
        raise _invalid("it continues a query with other filters, sort or order")
    if now_ms - state.issued_ms > CURSOR_TTL_MS:
        raise _invalid("it has expired (cursors are valid for 24 hours)")
    return state
