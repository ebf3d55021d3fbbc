"""API key material: the Authorization header, hashing, and the displayed prefix."""

from __future__ import annotations

import hashlib
import re

import pytest

from request_logs.domain.api_keys import (
    bearer_key,
    display_prefix,
    generate_api_key,
    generate_id,
    hash_api_key,
    hashes_match,
)
from request_logs.domain.ids import ACCOUNT_ID_PATTERN, API_KEY_ID_PATTERN

KEY = "sk-" + "Ab3" * 13 + "x"  # sk- and 40 alphanumerics


@pytest.mark.parametrize(
    "header",
    [f"Bearer {KEY}", f"bearer {KEY}", f"BEARER {KEY}", f"Bearer   {KEY}", f"Bearer {KEY}  "],
)
def test_bearer_key_accepts_well_formed_headers(header: str) -> None:
    assert bearer_key(header) == KEY


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        KEY,  # no scheme
        "Bearer",
        "Bearer ",
        f"Basic {KEY}",
        f"Bearer{KEY}",
        f" Bearer {KEY}",
        f"Bearer {KEY} extra",
        f"Bearer {KEY}x",  # 41 characters
        f"Bearer {KEY[:-1]}",  # 39
        f"Bearer {KEY[:-1]}!",
        f"Bearer {KEY[:-1]}é",
        f"Bearer pk-{KEY[3:]}",
        f"Bearer\t{KEY}",
        "Bearer " + "sk-" + "a" * 300,
        f"Bearer {KEY}, Bearer {KEY}",
    ],
)
def test_bearer_key_rejects_everything_else(header: str | None) -> None:
    assert bearer_key(header) is None


def test_display_prefix_is_the_first_seven_characters_and_an_ellipsis() -> None:
    assert display_prefix("sk-abc123def456") == "sk-abc1..."  # the spec's example
    assert display_prefix(KEY) == KEY[:7] + "..."
    assert len(display_prefix(KEY)) == 10


def test_generated_keys_are_well_formed_and_unique() -> None:
    keys = {generate_api_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert re.fullmatch(r"sk-[A-Za-z0-9]{40}", key)
        assert bearer_key(f"Bearer {key}") == key


def test_keys_are_stored_as_sha256_hex() -> None:
    assert hash_api_key(KEY) == hashlib.sha256(KEY.encode()).hexdigest()
    assert hashes_match(hash_api_key(KEY), hash_api_key(KEY))
    assert not hashes_match(hash_api_key(KEY), hash_api_key(KEY[:-1] + "y"))


def test_generated_ids_match_the_id_patterns() -> None:
    for _ in range(50):
        assert re.fullmatch(ACCOUNT_ID_PATTERN, generate_id("acct"))
        assert re.fullmatch(API_KEY_ID_PATTERN, generate_id("key"))
    assert len({generate_id("key") for _ in range(100)}) == 100
