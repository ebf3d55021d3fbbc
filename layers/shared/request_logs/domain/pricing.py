"""Versioned pricing catalog and exact cost arithmetic, by token component and prompt-size tier.

Money is Decimal end to end. Rounding rule: none. Every component costs ``tokens × price_per_million ÷
1,000,000``, exact in Decimal (tokens are integers, prices have a handful of decimals, the division is a
shift), so ``cost.total == cost.input + cost.output`` holds exactly, each part adds up to its whole, and
sums over any set of logs are exact too.

Components: ``input`` is the cost of every prompt token, of which ``cached_input`` (prompt-cache reads)
and ``cache_creation_input`` (cache writes) are parts priced at their own rates; ``output`` is the cost
of every completion token, of which ``reasoning`` is a part. A model without a price for a component
bills those tokens at the plain input or output price.

Tiers: a model may price prompts of more than ``above_input_tokens`` tokens differently (long-context
pricing). The request's prompt size (``input_tokens``, cached tokens included) picks one set of prices for
the whole request: exactly at the threshold is the base price, one token above is the tier's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

CURRENT_CATALOG = "2026-12-01"
_MILLION = Decimal(1_000_000)


class CostSource(StrEnum):
    GATEWAY = "gateway"
    CATALOG = "catalog"
    UNPRICED = "unpriced"


@dataclass(frozen=True)
class TokenUsage:
    """A request's tokens: ``input`` counts every prompt token (cache reads and writes included),
    ``output`` every completion token (reasoning included)."""

    input: int
    output: int
    cached_input: int = 0
    cache_creation_input: int = 0
    reasoning: int = 0

    def __post_init__(self) -> None:
        if self.cached_input + self.cache_creation_input > self.input or self.reasoning > self.output:
            raise ValueError("a token component exceeds the total that counts it")

    @property
    def uncached_input(self) -> int:
        return self.input - self.cached_input - self.cache_creation_input


@dataclass(frozen=True)
class Prices:
    """Per-million-token prices; a component without its own price (None) costs the plain input or
    output price. ``above_input_tokens``: the tier these prices belong to (None: the base prices)."""

    input_per_million: Decimal
    output_per_million: Decimal
    cached_input_per_million: Decimal | None = None
    cache_creation_input_per_million: Decimal | None = None
    reasoning_per_million: Decimal | None = None
    above_input_tokens: int | None = None


@dataclass(frozen=True)
class Cost:
    """Exact costs in USD; ``cached_input`` and ``cache_creation_input`` are parts of ``input``,
    ``reasoning`` of ``output``."""

    input: Decimal
    output: Decimal
    prices: Prices
    cached_input: Decimal = Decimal(0)
    cache_creation_input: Decimal = Decimal(0)
    reasoning: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.input + self.output


@dataclass(frozen=True)
class PricedCost:
    """The cost stored on a log, with where it came from (``cost`` is None when nobody priced it)."""

    cost: Cost | None
    source: CostSource
    catalog_version: str | None


@dataclass(frozen=True)
class ModelPrices:
    """A model's base prices and its prompt-size tiers, ascending by threshold."""

    base: Prices
    tiers: tuple[Prices, ...] = ()

    def for_prompt(self, input_tokens: int) -> Prices:
        """The prices of a request whose prompt has ``input_tokens`` tokens."""
        chosen = self.base
        for tier in self.tiers:
            if tier.above_input_tokens is not None and input_tokens > tier.above_input_tokens:
                chosen = tier
        return chosen


@dataclass(frozen=True)
class Catalog:
    version: str
    models: dict[str, ModelPrices]

    def prices_for(self, model: str, input_tokens: int = 0) -> Prices | None:
        """The prices of ``model`` for a prompt of ``input_tokens`` tokens; None for a model not listed."""
        listed = self.models.get(model)
        return None if listed is None else listed.for_prompt(input_tokens)


def _prices(raw: dict[str, Any], above_input_tokens: int | None = None) -> Prices:
    def optional(name: str) -> Decimal | None:
        return Decimal(raw[name]) if name in raw else None

    return Prices(
        Decimal(raw["input_per_million"]),
        Decimal(raw["output_per_million"]),
        cached_input_per_million=optional("cached_input_per_million"),
        cache_creation_input_per_million=optional("cache_creation_input_per_million"),
        reasoning_per_million=optional("reasoning_per_million"),
        above_input_tokens=above_input_tokens,
    )


@lru_cache(maxsize=4)
def load_catalog(version: str = CURRENT_CATALOG) -> Catalog:
    raw = json.loads(resources.files(__package__).joinpath("catalogs", f"{version}.json").read_text())
    models = {}
    for model, entry in raw["models"].items():
        tiers = sorted(
            (_prices(tier, int(tier["above_input_tokens"])) for tier in entry.get("tiers", ())),
            key=lambda tier: tier.above_input_tokens or 0,
        )
        models[model] = ModelPrices(_prices(entry), tuple(tiers))
    return Catalog(raw["version"], models)


def applied_prices(prices: Prices) -> Prices:
    """``prices`` with every component's price spelled out (the plain input or output price where it has
    none): what a cost records as applied."""
    return replace(
        prices,
        cached_input_per_million=_or(prices.cached_input_per_million, prices.input_per_million),
        cache_creation_input_per_million=_or(prices.cache_creation_input_per_million, prices.input_per_million),
        reasoning_per_million=_or(prices.reasoning_per_million, prices.output_per_million),
    )


def catalog_prices_applied(version: str, model: str, input_tokens: int) -> Prices | None:
    """The prices a catalog-priced request applied (``applied_prices``), looked up again in its catalog
    version; None for a model it does not list or a version no longer shipped. Catalog files are never
    changed or removed once released (decisions §32), so the lookup gives what ingest applied."""
    try:
        catalog = load_catalog(version)
    except FileNotFoundError:
        return None
    prices = catalog.prices_for(model, input_tokens)
    return None if prices is None else applied_prices(prices)


def cost_from_prices(usage: TokenUsage, prices: Prices) -> Cost:
    """Each component's tokens at its price (the plain input or output price where it has none); the cost
    records the prices applied, every component's spelled out."""
    applied = applied_prices(prices)
    cached_price = applied.cached_input_per_million or Decimal(0)
    creation_price = applied.cache_creation_input_per_million or Decimal(0)
    reasoning_price = applied.reasoning_per_million or Decimal(0)
    cached = usage.cached_input * cached_price / _MILLION
    creation = usage.cache_creation_input * creation_price / _MILLION
    reasoning = usage.reasoning * reasoning_price / _MILLION
    return Cost(
        input=usage.uncached_input * prices.input_per_million / _MILLION + cached + creation,
        output=(usage.output - usage.reasoning) * prices.output_per_million / _MILLION + reasoning,
        prices=applied,
        cached_input=cached,
        cache_creation_input=creation,
        reasoning=reasoning,
    )


def _or(price: Decimal | None, fallback: Decimal) -> Decimal:
    return fallback if price is None else price


def price_request(
    model: str, usage: TokenUsage, gateway_cost: Cost | None, catalog: Catalog | None = None
) -> PricedCost:
    """The gateway's own cost wins; else the catalog's prices for the prompt's size; else unpriced."""
    if gateway_cost is not None:
        return PricedCost(gateway_cost, CostSource.GATEWAY, None)
    catalog = catalog or load_catalog()
    prices = catalog.prices_for(model, usage.input)
    if prices is None:
        return PricedCost(None, CostSource.UNPRICED, catalog.version)
    return PricedCost(cost_from_prices(usage, prices), CostSource.CATALOG, catalog.version)
