"""The cursor codec on its own: a round trip, and a cursor of the previous format refused by name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from request_logs.domain.errors import InvalidQuery
from request_logs.domain.ordering import Position
from request_logs.logic.cursors import CURSOR_VERSION, CursorState, decode_cursor, encode_cursor

KEY = b"unit-test-signing-key"
STATE = CursorState(
    account_id="acct_alpha",
    fingerprint="f" * 32,
    position=Position(True, Decimal("0.0125"), 1_795_176_000_123, "log_19aa1b2c3d4e5f60718293a4b5c"),
    returned=100,
    snapshot_ms=1_795_176_000_500,
    issued_ms=1_795_176_000_400,
    totals={"requests": 250, "cost": "1.5"},
)


def _signed(payload: dict[str, object]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    encode = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()  # noqa: E731
    return f"{encode(raw)}.{encode(hmac.new(KEY, raw, hashlib.sha256).digest())}"


def test_a_cursor_round_trips_its_position_exactly() -> None:
    token = encode_cursor(STATE, KEY)
    decoded = decode_cursor(
        token, KEY, account_id="acct_alpha", fingerprint=STATE.fingerprint, now_ms=STATE.issued_ms + 1
    )
    assert decoded == STATE
    assert isinstance(decoded.position, Position) and decoded.position.created_ms == 1_795_176_000_123


def test_a_cursor_carries_the_bounds_selectivity_and_reads_without_it() -> None:
    with_selectivity = CursorState(**{**STATE.__dict__, "bound_selectivity": 0.0371})
    token = encode_cursor(with_selectivity, KEY)
    decoded = decode_cursor(
        token, KEY, account_id="acct_alpha", fingerprint=STATE.fingerprint, now_ms=STATE.issued_ms + 1
    )
    assert decoded.bound_selectivity == 0.0371
    # A cursor without it (no bound, or issued before it existed) continues with none.
    without = {"v": CURSOR_VERSION, "a": "acct_alpha", "f": STATE.fingerprint, "p": [True, "1", 5, "log_x"]}
    without |= {"n": 0, "s": 1, "i": STATE.issued_ms, "t": {}}
    decoded = decode_cursor(_signed(without), KEY, account_id="acct_alpha", fingerprint=STATE.fingerprint, now_ms=1)
    assert decoded.bound_selectivity is None


def test_a_cursor_of_the_previous_format_is_refused_as_older() -> None:
    # Version 1 carried the table's sort key string as the position's third element.
    old = {"v": CURSOR_VERSION - 1, "a": "acct_alpha", "f": STATE.fingerprint, "p": [True, "1", "0#log_x"]}
    old |= {"n": 0, "s": 1, "i": STATE.issued_ms, "t": {}}
    with pytest.raises(InvalidQuery, match="older version of the API") as refused:
        decode_cursor(_signed(old), KEY, account_id="acct_alpha", fingerprint=STATE.fingerprint, now_ms=1)
    assert refused.value.param == "cursor"
