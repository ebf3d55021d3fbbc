"""Additive counters of a set of logs: requests, outcomes, tokens and cost (with their components), latency sums."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from request_logs.domain.log import RequestLog

# The token and cost components (decisions §28): parts of input_tokens/output_tokens and of the cost.
# Stored only when non-zero, since most sets of logs have none of some of them.
_COMPONENT_INTS = ("cached_input_tokens", "cache_creation_input_tokens", "reasoning_tokens")
_COMPONENT_COSTS = ("input_cost", "output_cost", "cached_input_cost", "cache_creation_input_cost", "reasoning_cost")
_BASE_INTS = ("requests", "successful", "failed", "input_tokens", "output_tokens", "unpriced", "latency_sum")
_INTS = (*_BASE_INTS, *_COMPONENT_INTS)
_DECIMALS = ("cost", *_COMPONENT_COSTS)


@dataclass(frozen=True)
class CostParts:
    """A priced log's cost by component: ``input + output`` is its cost; the others are parts of those."""

    input: Decimal
    output: Decimal
    cached_input: Decimal = Decimal(0)
    cache_creation_input: Decimal = Decimal(0)
    reasoning: Decimal = Decimal(0)

    @classmethod
    def of(cls, log: RequestLog) -> CostParts | None:
        if log.cost_input is None or log.cost_output is None:
            return None
        return cls(
            log.cost_input,
            log.cost_output,
            log.cost_cached_input or Decimal(0),
            log.cost_cache_creation_input or Decimal(0),
            log.cost_reasoning or Decimal(0),
        )

    @property
    def total(self) -> Decimal:
        return self.input + self.output


@dataclass
class Counters:
    """Additive counters of a set of logs (no sketches): what by_model/by_provider entries need."""

    requests: int = 0
    successful: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)
    unpriced: int = 0
    latency_sum: int = 0
    cached_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    reasoning_tokens: int = 0
    input_cost: Decimal = Decimal(0)
    output_cost: Decimal = Decimal(0)
    cached_input_cost: Decimal = Decimal(0)
    cache_creation_input_cost: Decimal = Decimal(0)
    reasoning_cost: Decimal = Decimal(0)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def priced(self) -> int:
        return self.requests - self.unpriced

    @property
    def priced_cost(self) -> Decimal | None:
        """The cost of the priced requests; None when none was priced: an unpriced request costs
        unknown, not zero, and a set of only those has no cost to show (``unpriced`` says how many)."""
        return self.cost if self.priced else None

    @property
    def cost_split_known(self) -> bool:
        """Whether the cost components cover the whole cost: not for counters that include rollups written
        before components were counted (their cost has no input/output split), until they are rebuilt."""
        return self.input_cost + self.output_cost == self.cost

    def priced_part(self, part: str) -> Decimal | None:
        """A cost component (``input``, ``output``, ``cached_input``, ...) of the priced requests; None
        when none was priced or the split is not known."""
        if not self.priced or not self.cost_split_known:
            return None
        value: Decimal = getattr(self, f"{part}_cost")
        return value

    def add_log(self, log: RequestLog) -> None:
        self.add(
            succeeded=log.status == "success",
            input_tokens=log.input_tokens,
            output_tokens=log.output_tokens,
            cost=CostParts.of(log),
            latency_ms=log.latency_ms,
            cached_input_tokens=log.cached_input_tokens,
            cache_creation_input_tokens=log.cache_creation_input_tokens,
            reasoning_tokens=log.reasoning_tokens,
        )

    def add(
        self,
        *,
        succeeded: bool,
        input_tokens: int,
        output_tokens: int,
        cost: CostParts | Decimal | None,
        latency_ms: int,
        cached_input_tokens: int = 0,
        cache_creation_input_tokens: int = 0,
        reasoning_tokens: int = 0,
    ) -> None:
        """One request; ``cost`` None when nobody priced it, a bare Decimal when its split into components is
        not known (a log stored before they were), which leaves ``cost_split_known`` false."""
        self.requests += 1
        if succeeded:
            self.successful += 1
        else:
            self.failed += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.cached_input_tokens += cached_input_tokens
        self.cache_creation_input_tokens += cache_creation_input_tokens
        self.reasoning_tokens += reasoning_tokens
        if cost is None:
            self.unpriced += 1
        elif isinstance(cost, Decimal):
            self.cost += cost
        else:
            self.cost += cost.total
            self.input_cost += cost.input
            self.output_cost += cost.output
            self.cached_input_cost += cost.cached_input
            self.cache_creation_input_cost += cost.cache_creation_input
            self.reasoning_cost += cost.reasoning
        self.latency_sum += latency_ms

    def merge(self, other: Counters) -> None:
        for name in _FIELD_NAMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict[str, Any]:
        """The stored form: every base counter, the components only where non-zero (absent reads as 0)."""
        stored: dict[str, Any] = {name: getattr(self, name) for name in _FIELD_NAMES}
        for name in (*_COMPONENT_INTS, *_COMPONENT_COSTS):
            if not stored[name]:
                del stored[name]
        return stored

    def to_json_dict(self) -> dict[str, Any]:
        """``to_dict`` for JSON (a cursor, a gzipped group map): money as exact decimal strings."""
        return {name: str(value) if isinstance(value, Decimal) else value for name, value in self.to_dict().items()}

    def to_row(self) -> list[int | str]:
        """The compact stored form inside a gzipped map: the fields in declaration order (so a new field is
        only ever appended), money as exact decimal strings, trailing zeros left out."""
        row: list[int | str] = [
            str(value) if isinstance(value, Decimal) else value
            for value in (getattr(self, name) for name in _FIELD_NAMES)
        ]
        while row and not Decimal(row[-1]):
            row.pop()
        return row

    @classmethod
    def from_row(cls, row: list[int | str]) -> Counters:
        return cls(**{name: _TYPES[name](value) for name, value in zip(_FIELD_NAMES, row, strict=False)})

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Counters:
        """Counters from ``to_dict`` or ``to_json_dict`` (absent fields are 0)."""
        values: dict[str, Any] = {name: int(raw.get(name, 0)) for name in _INTS}
        values.update({name: Decimal(raw.get(name, 0)) for name in _DECIMALS})
        return cls(**values)


_FIELD_NAMES = tuple(field.name for field in fields(Counters))
_TYPES: dict[str, type] = dict.fromkeys(_INTS, int) | dict.fromkeys(_DECIMALS, Decimal)
