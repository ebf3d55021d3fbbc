"""Pricing: the versioned catalog, exact Decimal cost arithmetic, and who priced a log."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from request_logs.domain.pricing import (
    CURRENT_CATALOG,
    Cost,
    CostSource,
    Prices,
    cost_from_prices,
    load_catalog,
    price_request,
)

CATALOG_DIR = Path(__file__).parents[2] / "layers/shared/request_logs/domain/catalogs"


def test_the_current_catalog_is_the_file_verbatim() -> None:
    raw = json.loads((CATALOG_DIR / f"{CURRENT_CATALOG}.json").read_text())
    catalog = load_catalog()
    assert catalog.version == raw["version"] == CURRENT_CATALOG
    assert set(catalog.models) == set(raw["models"])
    for model, prices in raw["models"].items():
        assert isinstance(prices["input_per_million"], str), "prices are strings: floats would not be exact"
        assert catalog.prices_for(model) == Prices(
            Decimal(prices["input_per_million"]), Decimal(prices["output_per_million"])
        )
    assert catalog.prices_for("deepseek/deepseek-r1") is None


def test_the_spec_example_cost() -> None:
    cost = cost_from_prices(150, 75, Prices(Decimal("2.50"), Decimal("10.00")))
    assert cost.input == Decimal("0.000375")
    assert cost.output == Decimal("0.00075")
    assert cost.total == Decimal("0.001125")


def test_cost_is_tokens_times_price_over_a_million_exactly() -> None:
    rng = random.Random(8)
    for _ in range(3000):
        price_in = Decimal(rng.randrange(1, 10**6)) / 10 ** rng.randrange(0, 5)
        price_out = Decimal(rng.randrange(1, 10**6)) / 10 ** rng.randrange(0, 5)
        tokens_in = rng.choice([0, 1, rng.randrange(1, 10**6), rng.randrange(1, 2**53)])
        tokens_out = rng.choice([0, 1, rng.randrange(1, 10**6)])
        cost = cost_from_prices(tokens_in, tokens_out, Prices(price_in, price_out))
        assert Fraction(cost.input) == tokens_in * Fraction(price_in) / 10**6
        assert Fraction(cost.output) == tokens_out * Fraction(price_out) / 10**6
        assert Fraction(cost.total) == Fraction(cost.input) + Fraction(cost.output)


def test_sums_of_costs_are_exact() -> None:
    prices = load_catalog().prices_for("openai/gpt-4o-mini")
    assert prices is not None
    rng = random.Random(9)
    tokens = [(rng.randrange(1, 5000), rng.randrange(0, 2000)) for _ in range(5000)]
    total = sum((cost_from_prices(i, o, prices).total for i, o in tokens), Decimal(0))
    exact = (
        sum(
            Fraction(i) * Fraction(prices.input_per_million) + Fraction(o) * Fraction(prices.output_per_million)
            for i, o in tokens
        )
        / 10**6
    )
    assert Fraction(total) == exact


def test_the_gateways_own_cost_wins() -> None:
    gateway = Cost(Decimal("0.001"), Decimal("0.002"), Prices(Decimal("1.00"), Decimal("3.00")))
    priced = price_request("openai/gpt-4o", 1000, 666, gateway)
    assert priced.source is CostSource.GATEWAY
    assert priced.cost == gateway
    assert priced.catalog_version is None


def test_catalog_prices_otherwise() -> None:
    priced = price_request("anthropic/claude-sonnet-4", 1000, 2000, None)
    assert priced.source is CostSource.CATALOG
    assert priced.catalog_version == CURRENT_CATALOG
    assert priced.cost is not None
    assert priced.cost.prices == Prices(Decimal("3.00"), Decimal("15.00"))
    assert priced.cost.total == Decimal("0.033")


@pytest.mark.parametrize("model", ["deepseek/deepseek-r1", "openai/GPT-4O", "", "openai/gpt-4o "])
def test_models_not_in_the_catalog_are_unpriced(model: str) -> None:
    priced = price_request(model, 1000, 1000, None)
    assert priced.source is CostSource.UNPRICED
    assert priced.cost is None
    assert priced.catalog_version == CURRENT_CATALOG


def test_unknown_catalog_version_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        load_catalog("1999-01-01")
