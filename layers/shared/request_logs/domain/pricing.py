"""Versioned pricing catalog and exact cost arithmetic.

Money is Decimal end to end. Rounding rule: none. ``cost = tokens × price_per_million ÷ 1,000,000`` is
exact in Decimal (tokens are integers, prices have a handful of decimals, the division is a shift), so
``cost.total == cost.input + cost.output`` holds exactly and sums over any set of logs are exact too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from importlib import resources

CURRENT_CATALOG = "2026-11-01"
_MILLION = Decimal(1_000_000)


class CostSource(StrEnum):
    GATEWAY = "gateway"
    CATALOG = "catalog"
    UNPRICED = "unpriced"


@dataclass(frozen=True)
class Prices:
    input_per_million: Decimal
    output_per_million: Decimal


@dataclass(frozen=True)
class Cost:
    input: Decimal
    output: Decimal
    prices: Prices

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
class Catalog:
    version: str
    models: dict[str, Prices]

    def prices_for(self, model: str) -> Prices | None:
        return self.models.get(model)


@lru_cache(maxsize=4)
def load_catalog(version: str = CURRENT_CATALOG) -> Catalog:
    raw = json.loads(resources.files(__package__).joinpath("catalogs", f"{version}.json").read_text())
    models = {
        model: Prices(Decimal(p["input_per_million"]), Decimal(p["output_per_million"]))
        for model, p in raw["models"].items()
    }
    return Catalog(raw["version"], models)


def cost_from_prices(input_tokens: int, output_tokens: int, prices: Prices) -> Cost:
    return Cost(
        input=input_tokens * prices.input_per_million / _MILLION,
        output=output_tokens * prices.output_per_million / _MILLION,
        prices=prices,
    )


def price_request(
    model: str, input_tokens: int, output_tokens: int, gateway_cost: Cost | None, catalog: Catalog | None = None
) -> PricedCost:
    """The gateway's own cost wins; else the catalog's prices; else the log is stored unpriced."""
    if gateway_cost is not None:
        return PricedCost(gateway_cost, CostSource.GATEWAY, None)
    catalog = catalog or load_catalog()
    prices = catalog.prices_for(model)
    if prices is None:
        return PricedCost(None, CostSource.UNPRICED, catalog.version)
    return PricedCost(cost_from_prices(input_tokens, output_tokens, prices), CostSource.CATALOG, catalog.version)
