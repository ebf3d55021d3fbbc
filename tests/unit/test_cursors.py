"""The cursor codec on its own: a round trip, and a cursor of the previous format refused by name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from request_logs.domain.errors import InvalidQuery
from request_logs.domain.ids import make_log_id
from request_logs.domain.ordering import Position
from request_logs.logic.cursors import CURSOR_VERSION, CursorState, decode_cursor, encode_cursor
from request_logs.store.value_index import MAX_CARRIED_IDS

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


def test_a_cursor_packs_the_rest_of_its_bucket_at_25_characters_an_id() -> None:
    ids = tuple(make_log_id("acct_alpha", f"req_{n}", 1_795_176_000_000 + n) for n in range(MAX_CARRIED_IDS))
    state = CursorState(**{**STATE.__dict__, "bucket_rest": ids})
    token = encode_cursor(state, KEY)
    assert len(token) - len(encode_cursor(STATE, KEY)) <= 25 * MAX_CARRIED_IDS + 10  # 45 each as JSON strings
    decoded = decode_cursor(token, KEY, account_id="acct_alpha", fingerprint=STATE.fingerprint, now_ms=STATE.issued_ms)
    assert decoded.bucket_rest == ids


def test_a_rest_of_other_ids_and_one_issued_as_a_list_still_read_back() -> None:
    odd = CursorState(**{**STATE.__dict__, "bucket_rest": ("log_not_hex", "log_19aa1b2c3d4e5f60718293a4b5c")})
    token = encode_cursor(odd, KEY)
    assert decode_cursor(token, KEY, account_id="acct_alpha", fingerprint=STATE.fingerprint, now_ms=1) == odd
    listed = {"v": CURSOR_VERSION, "a": "acct_alpha", "f": STATE.fingerprint, "p": [True, "1", 5, "log_x"]}
    listed |= {"n": 0, "s": 1, "i": STATE.issued_ms, "t": {}, "r": ["log_19aa1b2c3d4e5f60718293a4b5c"]}
    decoded = decode_cursor(_signed(listed), KEY, account_id="acct_alpha", fingerprint=STATE.fingerprint, now_ms=1)
    assert decoded.bucket_rest == ("log_19aa1b2c3d4e5f60718293a4b5c",)


@pytest.mark.parametrize("packed", ["AAEC", 123])
def test_a_packed_rest_of_the_wrong_size_is_a_400_naming_cursor(packed: object) -> None:
    forged = {"v": CURSOR_VERSION, "a": "acct_alpha", "f": STATE.fingerprint, "p": [True, "1", 5, "log_x"]}
    forged |= {"n": 0, "s": 1, "i": STATE.issued_ms, "t": {}, "R": packed}
    with pytest.raises(InvalidQuery) as raised:
        decode_cursor(_signed(forged), KEY, account_id="acct_alpha", fingerprint=STATE.fingerprint, now_ms=1)
    assert raised.value.param == "cursor"
