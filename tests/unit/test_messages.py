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


GOOD = next(m for m in _messages(50) if m["status"] == "success" and "cost" in m)
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
