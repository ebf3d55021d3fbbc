"""The ingest contract: what a gateway may put on the queue, and what is refused (and dead-lettered)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from local.demo.messages import DemoKey, generate_messages
from request_logs.models.messages import RequestCompleted

NOW_MS = 1_795_176_000_000
KEYS = [DemoKey("key_alpha1", "sk-AAAA..."), DemoKey("key_alpha2", "sk-BBBB...")]


def _messages(count: int = 200, **kwargs: Any) -> list[dict[str, Any]]:
    return generate_messages("acct_alpha", KEYS, count, NOW_MS - 30 * 86_400_000, NOW_MS, seed=81, **kwargs)


GOOD = next(m for m in _messages(400) if m["status"] == "success" and "cost" in m and "version" not in m)
# A version-2 message with every component and attribution (cached prompt, reasoning, user, metadata).
V2 = {
    **GOOD,
    "version": 2,
    "input_tokens": 1_000,
    "output_tokens": 400,
    "cached_input_tokens": 600,
    "cache_creation_input_tokens": 100,
    "reasoning_tokens": 300,
    "user": "user_0042",
    "metadata": {"feature": "search", "environment": "production"},
    "cost": {
        "input": "0.0019",
        "output": "0.004",
        "input_per_million": "2.50",
        "output_per_million": "10.00",
        "cached_input": "0.00075",
        "cache_creation_input": "0.0003",
        "reasoning": "0.003",
        "cached_input_per_million": "1.25",
        "cache_creation_input_per_million": "3.00",
    },
}
ERROR = next(m for m in _messages(50, error_rate=0.5) if m["status"] == "error")


def parse(message: dict[str, Any]) -> RequestCompleted:
    return RequestCompleted.model_validate_json(json.dumps(message))


def test_every_demo_message_follows_the_contract() -> None:
    messages = _messages(300, error_rate=0.1)
    parsed = [parse(m) for m in messages]
    assert {p.status for p in parsed} == {"success", "error"}


def test_a_full_message_keeps_its_values() -> None:
    parsed = parse(GOOD)
    assert parsed.request_id == GOOD["request_id"]
    assert parsed.created_at == datetime.fromisoformat(GOOD["created_at"].replace("Z", "+00:00"))
    assert parsed.cost is not None
    assert parsed.cost.input == Decimal(GOOD["cost"]["input"])  # exact: strings, not floats
    assert parsed.request == GOOD["request"]
    assert parsed.response == GOOD["response"]
    assert parsed.version == 1


def test_version_2_carries_the_token_and_cost_components_and_attribution() -> None:
    parsed = parse(V2)
    assert (parsed.cached_input_tokens, parsed.cache_creation_input_tokens, parsed.reasoning_tokens) == (600, 100, 300)
    assert parsed.user == "user_0042"
    assert parsed.metadata == {"feature": "search", "environment": "production"}
    assert parsed.cost is not None and parsed.cost.reasoning == Decimal("0.003")
    assert parsed.cost.reasoning_per_million is None  # a component price the gateway did not report
    assert parse({**V2, "metadata": {f"k{n}": "v" * 256 for n in range(16)}}).metadata is not None  # at the bounds
    assert parse({**V2, "metadata": {"k" * 64: ""}}).metadata == {"k" * 64: ""}


def test_every_demo_message_of_version_2_follows_the_contract_and_has_components() -> None:
    version_2 = [parse(m) for m in _messages(1500) if m.get("version") == 2]
    assert any(m.cached_input_tokens for m in version_2) and any(m.reasoning_tokens for m in version_2)
    assert any(m.cache_creation_input_tokens for m in version_2)
    assert any(m.user for m in version_2) and all(m.metadata for m in version_2)
    assert any(m.input_tokens > 200_000 for m in version_2), "a prompt past a price tier"


def test_optional_fields_may_be_absent() -> None:
    minimal = {
        name: value
        for name, value in GOOD.items()
        if name not in {"error", "time_to_first_token_ms", "user_agent", "ip_address", "resolution", "cost", "response"}
    }
    parsed = parse(minimal)
    assert parsed.error is None and parsed.cost is None and parsed.response is None and parsed.resolution is None


def test_offsets_are_kept_as_the_same_instant() -> None:
    shifted = datetime.fromisoformat(GOOD["created_at"].replace("Z", "+00:00")).astimezone(timezone(timedelta(hours=5)))
    parsed = parse({**GOOD, "created_at": shifted.isoformat()})
    assert parsed.created_at == shifted
    assert parsed.created_at.astimezone(UTC) == datetime.fromisoformat(GOOD["created_at"].replace("Z", "+00:00"))


def test_error_messages_need_their_error() -> None:
    assert parse(ERROR).error is not None
    with pytest.raises(ValidationError, match="error is required"):
        parse({**ERROR, "error": None})
    with pytest.raises(ValidationError, match="error is required"):
        parse({**GOOD, "error": ERROR["error"]})


def _without(name: str) -> dict[str, Any]:
    return {key: value for key, value in GOOD.items() if key != name}


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown field", {**GOOD, "surprise": True}),
        ("unknown nested field", {**GOOD, "resolution": {**GOOD["resolution"], "region": "eu"}}),
        ("unknown cost field", {**GOOD, "cost": {**GOOD["cost"], "total": "1"}}),
        ("missing request_id", _without("request_id")),
        ("missing created_at", _without("created_at")),
        ("missing request", _without("request")),
        ("missing latency", _without("latency_ms")),
        ("naive created_at", {**GOOD, "created_at": "2026-11-19T10:00:00"}),
        ("naive completed_at", {**GOOD, "completed_at": "2026-11-19T10:00:00"}),
        ("completed before created", {**GOOD, "completed_at": "2000-01-01T00:00:00Z"}),
        ("not a date", {**GOOD, "created_at": "yesterday"}),
        ("negative input tokens", {**GOOD, "input_tokens": -1}),
        ("negative output tokens", {**GOOD, "output_tokens": -1}),
        ("negative latency", {**GOOD, "latency_ms": -1}),
        ("negative ttft", {**GOOD, "time_to_first_token_ms": -1}),
        ("absurd tokens", {**GOOD, "input_tokens": 2**60}),
        ("fractional tokens", {**GOOD, "input_tokens": 1.5}),
        ("status code too low", {**GOOD, "status_code": 99}),
        ("status code too high", {**GOOD, "status_code": 600}),
        ("unknown status", {**GOOD, "status": "partial"}),
        ("lower-case method", {**GOOD, "method": "post"}),
        ("empty request id", {**GOOD, "request_id": ""}),
        ("request id with a space", {**GOOD, "request_id": "req 1"}),
        ("request id too long", {**GOOD, "request_id": "r" * 129}),
        ("malformed account", {**GOOD, "account_id": "alpha"}),
        ("account with #", {**GOOD, "account_id": "acct_a#1"}),
        ("malformed api key id", {**GOOD, "api_key_id": "alpha1"}),
        ("empty model", {**GOOD, "model": ""}),
        ("model too long", {**GOOD, "model": "m" * 257}),
        ("request not an object", {**GOOD, "request": ["hello"]}),
        ("response not an object", {**GOOD, "response": "hello"}),
        ("negative cost", {**GOOD, "cost": {**GOOD["cost"], "input": "-0.1"}}),
        ("NaN cost", {**GOOD, "cost": {**GOOD["cost"], "input": "NaN"}}),
        ("infinite cost", {**GOOD, "cost": {**GOOD["cost"], "output": "Infinity"}}),
        # Past what sums keep exactly in 28 digits (decisions §7): an average of such costs was a 500.
        ("absurd cost", {**GOOD, "cost": {**GOOD["cost"], "input": "100000000000000000000"}}),
        ("cost over a million dollars", {**GOOD, "cost": {**GOOD["cost"], "output": "1000000.01"}}),
        ("cost with 13 decimals", {**GOOD, "cost": {**GOOD["cost"], "input": "0.0000000000001"}}),
        ("absurd price", {**GOOD, "cost": {**GOOD["cost"], "input_per_million": "1e7"}}),
        ("future version", {**GOOD, "version": 3}),
        # Version 2's fields on a version-1 message: a mislabelled message, not silently read.
        ("version 1 with cached tokens", {**GOOD, "cached_input_tokens": 1}),
        ("version 1 with a user", {**GOOD, "user": "u"}),
        ("version 1 with metadata", {**GOOD, "metadata": {"a": "b"}}),
        ("version 1 with a cost component", {**GOOD, "cost": {**GOOD["cost"], "reasoning": "0"}}),
        ("cached tokens above input", {**V2, "cached_input_tokens": 901}),
        ("reasoning above output", {**V2, "reasoning_tokens": 401}),
        ("cost parts above input cost", {**V2, "cost": {**V2["cost"], "cached_input": "0.0017"}}),
        ("reasoning cost above output cost", {**V2, "cost": {**V2["cost"], "reasoning": "0.0041"}}),
        (
            "cached tokens without their cost",
            {**V2, "cost": {k: v for k, v in V2["cost"].items() if k != "cached_input"}},
        ),
        ("reasoning without its cost", {**V2, "cost": {k: v for k, v in V2["cost"].items() if k != "reasoning"}}),
        ("17 metadata keys", {**V2, "metadata": {f"k{n}": "v" for n in range(17)}}),
        ("metadata key too long", {**V2, "metadata": {"k" * 65: "v"}}),
        ("metadata key with a dot", {**V2, "metadata": {"a.b": "v"}}),
        ("empty metadata key", {**V2, "metadata": {"": "v"}}),
        ("metadata value too long", {**V2, "metadata": {"k": "v" * 257}}),
        ("metadata value a number", {**V2, "metadata": {"k": 5}}),
        ("metadata value a boolean", {**V2, "metadata": {"k": True}}),
        ("metadata value null", {**V2, "metadata": {"k": None}}),
        ("metadata nested", {**V2, "metadata": {"k": {"a": "b"}}}),
        ("metadata a list", {**V2, "metadata": ["k"]}),
        ("empty user", {**V2, "user": ""}),
        ("user too long", {**V2, "user": "u" * 257}),
        ("user a number", {**V2, "user": 42}),
        ("streaming not a bool", {**GOOD, "streaming": "maybe"}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_malformed_messages_are_refused(case: str, message: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse(message)


@pytest.mark.parametrize("body", ["", "{", "null", "[]", '"text"', "{'single': 'quotes'}"])
def test_bodies_that_are_not_a_json_object_are_refused(body: str) -> None:
    with pytest.raises(ValidationError):
        RequestCompleted.model_validate_json(body)
