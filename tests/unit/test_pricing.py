"""Pricing: the versioned catalog, exact Decimal cost arithmetic by component and tier, and who priced a log."""

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
    TokenUsage,
    cost_from_prices,
    load_catalog,
    price_request,
)

CATALOG_DIR = Path(__file__).parents[2] / "layers/shared/request_logs/domain/catalogs"
_OPTIONAL_PRICES = ("cached_input_per_million", "cache_creation_input_per_million", "reasoning_per_million")


def _expected_prices(raw: dict[str, str], above: int | None = None) -> Prices:
    optional = {name: Decimal(raw[name]) for name in _OPTIONAL_PRICES if name in raw}
    return Prices(
        Decimal(raw["input_per_million"]), Decimal(raw["output_per_million"]), **optional, above_input_tokens=above
    )


@pytest.mark.parametrize("version", sorted(path.stem for path in CATALOG_DIR.glob("*.json")))
def test_every_catalog_is_its_file_verbatim(version: str) -> None:
    raw = json.loads((CATALOG_DIR / f"{version}.json").read_text())
    catalog = load_catalog(version)
    assert catalog.version == raw["version"] == version
    assert set(catalog.models) == set(raw["models"])
    for model, entry in raw["models"].items():
        for name in ("input_per_million", "output_per_million", *_OPTIONAL_PRICES):
            assert name not in entry or isinstance(entry[name], str), "prices are strings: floats would not be exact"
        assert catalog.prices_for(model) == _expected_prices(entry)
        for tier in entry.get("tiers", ()):
            threshold = tier["above_input_tokens"]
            assert catalog.prices_for(model, threshold) == _expected_prices(entry), "at the threshold: base"
            assert catalog.prices_for(model, threshold + 1) == _expected_prices(tier, threshold)
    assert catalog.prices_for("deepseek/deepseek-r1") is None


def test_the_current_catalog_is_the_newest_and_has_tiers_and_cache_prices() -> None:
    assert max(path.stem for path in CATALOG_DIR.glob("*.json")) == CURRENT_CATALOG
    catalog = load_catalog()
    assert any(prices.tiers for prices in catalog.models.values())
    assert any(prices.base.cache_creation_input_per_million for prices in catalog.models.values())


def test_the_spec_example_cost() -> None:
    cost = cost_from_prices(TokenUsage(150, 75), Prices(Decimal("2.50"), Decimal("10.00")))
    assert cost.input == Decimal("0.000375")
    assert cost.output == Decimal("0.00075")
    assert cost.total == Decimal("0.001125")
    assert cost.cached_input == cost.cache_creation_input == cost.reasoning == 0


def _fraction_cost(usage: TokenUsage, prices: Prices) -> dict[str, Fraction]:
    """Brute force: every token at its component's price, in exact fractions."""

    def price(component: Decimal | None, plain: Decimal) -> Fraction:
        return Fraction(plain if component is None else component) / 10**6

    cached = usage.cached_input * price(prices.cached_input_per_million, prices.input_per_million)
    creation = usage.cache_creation_input * price(prices.cache_creation_input_per_million, prices.input_per_million)
    reasoning = usage.reasoning * price(prices.reasoning_per_million, prices.output_per_million)
    plain_in = (usage.input - usage.cached_input - usage.cache_creation_input) * Fraction(prices.input_per_million)
    plain_out = (usage.output - usage.reasoning) * Fraction(prices.output_per_million)
    return {
        "input": plain_in / 10**6 + cached + creation,
        "output": plain_out / 10**6 + reasoning,
        "cached_input": cached,
        "cache_creation_input": creation,
        "reasoning": reasoning,
    }


def _random_price(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(1, 10**6)) / 10 ** rng.randrange(0, 5)


def test_every_component_is_tokens_times_its_price_over_a_million_exactly() -> None:
    rng = random.Random(8)
    for _ in range(3000):
        tokens_in = rng.choice([0, 1, rng.randrange(1, 10**6), rng.randrange(1, 2**53)])
        cached = rng.choice([0, rng.randrange(0, tokens_in + 1)])
        creation = rng.choice([0, rng.randrange(0, tokens_in - cached + 1)])
        tokens_out = rng.choice([0, 1, rng.randrange(1, 10**6)])
        reasoning = rng.choice([0, rng.randrange(0, tokens_out + 1)])
        usage = TokenUsage(tokens_in, tokens_out, cached, creation, reasoning)
        prices = Prices(
            _random_price(rng),
            _random_price(rng),
            cached_input_per_million=rng.choice([None, _random_price(rng)]),
            cache_creation_input_per_million=rng.choice([None, _random_price(rng)]),
            reasoning_per_million=rng.choice([None, _random_price(rng)]),
        )
        cost = cost_from_prices(usage, prices)
        for component, exact in _fraction_cost(usage, prices).items():
            assert Fraction(getattr(cost, component)) == exact, component
        assert Fraction(cost.total) == Fraction(cost.input) + Fraction(cost.output)


def test_cached_cache_write_and_reasoning_tokens_at_their_prices() -> None:
    catalog = load_catalog()
    # Claude Sonnet 4: 3.00 input, 0.30 cache reads, 3.75 cache writes, 15.00 output.
    sonnet = price_request("anthropic/claude-sonnet-4", TokenUsage(10_000, 500, 6_000, 2_000), None, catalog).cost
    assert sonnet is not None
    assert sonnet.cached_input == Decimal("0.0018")  # 6,000 × 0.30 / 10⁶
    assert sonnet.cache_creation_input == Decimal("0.0075")  # 2,000 × 3.75 / 10⁶
    assert sonnet.input == Decimal("0.006") + Decimal("0.0018") + Decimal("0.0075")  # 2,000 uncached × 3.00
    assert sonnet.output == Decimal("0.0075")
    # o4-mini: reasoning tokens are output tokens at the output price (no reasoning price of its own).
    o4 = price_request("openai/o4-mini", TokenUsage(1_000, 3_000, 400, 0, 2_500), None, catalog).cost
    assert o4 is not None
    assert o4.reasoning == Decimal("0.011")  # 2,500 × 4.40 / 10⁶
    assert o4.output == Decimal("0.0132")
    assert o4.cached_input == Decimal("0.00011")  # 400 × 0.275 / 10⁶
    assert o4.input == Decimal("0.00066") + Decimal("0.00011")
    # A model without a cache-write price bills those tokens at the input price.
    gpt = price_request("openai/gpt-4o", TokenUsage(1_000, 0, 0, 1_000), None, catalog).cost
    assert gpt is not None and gpt.cache_creation_input == gpt.input == Decimal("0.0025")


@pytest.mark.parametrize(
    ("input_tokens", "tier"),
    [(199_999, None), (200_000, None), (200_001, 200_000), (1_000_000, 200_000)],
)
def test_a_prompt_size_tier_starts_one_token_above_its_threshold(input_tokens: int, tier: int | None) -> None:
    priced = price_request("google/gemini-2.5-pro", TokenUsage(input_tokens, 1_000, 100_000), None)
    assert priced.cost is not None
    prices = priced.cost.prices
    assert prices.above_input_tokens == tier
    expected_in, expected_out, expected_cached = (
        ("1.25", "10.00", "0.3125") if tier is None else ("2.50", "15.00", "0.625")
    )
    assert (prices.input_per_million, prices.output_per_million) == (Decimal(expected_in), Decimal(expected_out))
    assert priced.cost.cached_input == 100_000 * Decimal(expected_cached) / 1_000_000
    assert priced.cost.output == 1_000 * Decimal(expected_out) / 1_000_000


def test_sums_of_costs_are_exact() -> None:
    prices = load_catalog().prices_for("openai/gpt-4o-mini")
    assert prices is not None
    rng = random.Random(9)
    usages = [
        TokenUsage(i, rng.randrange(0, 2000), rng.randrange(0, i))
        for i in (rng.randrange(1, 5000) for _ in range(5000))
    ]
    total = sum((cost_from_prices(usage, prices).total for usage in usages), Decimal(0))
    exact = sum((sum(_fraction_cost(u, prices)[part] for part in ("input", "output")) for u in usages), Fraction(0))
    assert Fraction(total) == exact


def test_token_components_cannot_exceed_their_totals() -> None:
    with pytest.raises(ValueError):
        TokenUsage(10, 0, cached_input=6, cache_creation_input=5)
    with pytest.raises(ValueError):
        TokenUsage(10, 3, reasoning=4)


def test_the_gateways_own_cost_wins() -> None:
    gateway = Cost(Decimal("0.001"), Decimal("0.002"), Prices(Decimal("1.00"), Decimal("3.00")))
    priced = price_request("openai/gpt-4o", TokenUsage(1000, 666), gateway)
    assert priced.source is CostSource.GATEWAY
    assert priced.cost == gateway
    assert priced.catalog_version is None


def test_catalog_prices_otherwise() -> None:
    priced = price_request("anthropic/claude-sonnet-4", TokenUsage(1000, 2000), None)
    assert priced.source is CostSource.CATALOG
    assert priced.catalog_version == CURRENT_CATALOG
    assert priced.cost is not None
    assert priced.cost.prices == Prices(
        Decimal("3.00"),
        Decimal("15.00"),
        cached_input_per_million=Decimal("0.30"),
        cache_creation_input_per_million=Decimal("3.75"),
        reasoning_per_million=Decimal("15.00"),  # the log records every price applied, spelled out
    )
    assert priced.cost.total == Decimal("0.033")


@pytest.mark.parametrize("model", ["deepseek/deepseek-r1", "openai/GPT-4O", "", "openai/gpt-4o "])
def test_models_not_in_the_catalog_are_unpriced(model: str) -> None:
    priced = price_request(model, TokenUsage(1000, 1000), None)
    assert priced.source is CostSource.UNPRICED
    assert priced.cost is None
    assert priced.catalog_version == CURRENT_CATALOG


def test_unknown_catalog_version_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        load_catalog("1999-01-01")
