"""Money crosses to JSON as the Decimal's own digits, and nothing else turns into a number."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from request_logs.models import exact_json
from request_logs.models.logs import CostBreakdown, CostSummary


def _exact(text: str) -> object:
    return json.loads(text, parse_float=Decimal)


@pytest.mark.parametrize(
    "value",
    [
        Decimal("0.000077"),  # a float would write 7.7e-05
        Decimal("123456789012.123456789012345678"),  # 30 digits: past what a float keeps
        Decimal("0.1") + Decimal("0.2"),  # exactly 0.3, unlike the floats
        Decimal("0E-12"),
        Decimal("5"),
    ],
)
def test_money_is_written_with_its_exact_digits(value: Decimal) -> None:
    parts = {"cached_input": value, "cache_creation_input": Decimal(0), "reasoning": value}
    breakdown = CostBreakdown(input=value, output=value, total=value + value, **parts)
    text = exact_json.dumps(breakdown.model_dump(mode="json"))
    parsed = _exact(text)
    assert parsed == {"input": value, "output": value, "total": value + value, **parts}
    assert not re.search(r"\d[eE]", text), "no exponent"
    assert parsed["total"] == parsed["input"] + parsed["output"]  # type: ignore[index]


def test_a_sum_of_many_costs_keeps_every_digit() -> None:
    total = sum((Decimal("0.000000123456789") * n for n in range(1, 100_001)), Decimal(0))
    summary = CostSummary(
        total_cost=total,
        total_tokens=1,
        avg_cost_per_request=None,
        requests=1,
        priced_requests=1,
        unpriced_requests=0,
        input_tokens=1,
        output_tokens=0,
        cached_input_tokens=0,
        cache_creation_input_tokens=0,
        reasoning_tokens=0,
        input_cost=total,
        output_cost=Decimal(0),
        cached_input_cost=total,
        cache_creation_input_cost=None,
        reasoning_cost=None,
    )
    assert _exact(exact_json.dumps(summary.model_dump(mode="json")))["total_cost"] == total  # type: ignore[index]


def test_strings_that_look_like_money_stay_strings() -> None:
    forged = "\x1emoney-0000000000000000:12.5"
    body = {"model": forged, "note": "12.5", "marker_prefix": exact_json.mark_number(Decimal(1))[:-1]}
    assert json.loads(exact_json.dumps(body)) == body


def test_non_finite_amounts_are_refused() -> None:
    with pytest.raises(ValueError):
        exact_json.mark_number(Decimal("NaN"))
