"""Brute force: what the read endpoints must answer, computed in plain Python from the messages sent.

Nothing here goes through the package's time parsing, pricing or query code: prices come straight from
the catalog file, instants from ``datetime``, filters from list comprehensions. The one import is the
log id, a documented contract (``log_<created ms hex><digest>``) with its own unit test.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from request_logs.domain.ids import make_log_id

CATALOG_VERSION = "2026-12-01"
CATALOG_FILE = Path(__file__).parents[2] / f"layers/shared/request_logs/domain/catalogs/{CATALOG_VERSION}.json"
CATALOG: dict[str, dict[str, Any]] = json.loads(CATALOG_FILE.read_text())["models"]
COST_PARTS = ("input", "output", "cached_input", "cache_creation_input", "reasoning")

DAY_MS = 86_400_000
LOG_RETENTION_MS = 90 * DAY_MS
CONTENT_RETENTION_MS = 30 * DAY_MS
# Without start_date every endpoint covers the 30 days before its end, and the end defaults to now.
DEFAULT_RANGE_MS = 30 * DAY_MS
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SUMMARY_FIELDS = {
    "id",
    "request_id",
    "model",
    "provider",
    "status",
    "status_code",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "created_at",
    "api_key_id",
    "api_key_prefix",
}
# The spec's single-log example, field for field.
DETAIL_FIELDS = SUMMARY_FIELDS | {
    "endpoint",
    "method",
    "time_to_first_token_ms",
    "streaming",
    "completed_at",
    "user_agent",
    "ip_address",
    "resolution",
    # Beyond the spec: the token and cost breakdown.
    "tokens",
    "cost_breakdown",
    "pricing",
    "cost_source",
    "catalog_version",
    "user",
    "metadata",
}


def ms_of(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def instant_ms(text: str) -> int:
    """Epoch ms of an ISO instant as the gateway sent it or the API returned it (must carry an offset)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, text
    return ms_of(moment)


def iso(epoch_ms: int) -> str:
    """The gateway's own spelling: UTC, milliseconds, ``Z``."""
    moment = _EPOCH + timedelta(milliseconds=epoch_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def created_ms(message: dict[str, Any]) -> int:
    return instant_ms(message["created_at"])


def log_id(message: dict[str, Any]) -> str:
    return make_log_id(message["account_id"], message["request_id"], created_ms(message))


def catalog_prices(model: str, input_tokens: int) -> dict[str, Any] | None:
    """The catalog's prices for a prompt of ``input_tokens``, every component's spelled out (a component
    without its own price costs the plain one), and the tier's threshold (None: base prices)."""
    entry = CATALOG.get(model)
    if entry is None:
        return None
    chosen, above = entry, None
    for tier in entry.get("tiers", []):
        if input_tokens > tier["above_input_tokens"] and (above is None or tier["above_input_tokens"] > above):
            chosen, above = tier, tier["above_input_tokens"]
    plain_in, plain_out = Decimal(chosen["input_per_million"]), Decimal(chosen["output_per_million"])
    return {
        "input_per_million": plain_in,
        "output_per_million": plain_out,
        "cached_input_per_million": Decimal(chosen.get("cached_input_per_million", plain_in)),
        "cache_creation_input_per_million": Decimal(chosen.get("cache_creation_input_per_million", plain_in)),
        "reasoning_per_million": Decimal(chosen.get("reasoning_per_million", plain_out)),
        "above_input_tokens": above,
    }


def expected_cost_parts(message: dict[str, Any]) -> dict[str, Decimal] | None:
    """Every cost component (``COST_PARTS``): the gateway's own when it sent a cost, else each component's
    tokens × its catalog price ÷ 1e6; None when unpriced."""
    cost = message.get("cost")
    if cost is not None:
        return {part: Decimal(cost.get(part) or 0) for part in COST_PARTS}
    prices = catalog_prices(message["model"], message["input_tokens"])
    if prices is None:
        return None
    cached, creation = message.get("cached_input_tokens", 0), message.get("cache_creation_input_tokens", 0)
    reasoning = message.get("reasoning_tokens", 0)
    million = Decimal(1_000_000)
    parts = {
        "cached_input": cached * prices["cached_input_per_million"] / million,
        "cache_creation_input": creation * prices["cache_creation_input_per_million"] / million,
        "reasoning": reasoning * prices["reasoning_per_million"] / million,
    }
    uncached = message["input_tokens"] - cached - creation
    parts["input"] = (
        uncached * prices["input_per_million"] / million + parts["cached_input"] + parts["cache_creation_input"]
    )
    parts["output"] = (message["output_tokens"] - reasoning) * prices["output_per_million"] / million + parts[
        "reasoning"
    ]
    return parts


def expected_cost(message: dict[str, Any]) -> Decimal | None:
    """The gateway's own cost when it sent one, else the catalog's price of every token, else unpriced."""
    parts = expected_cost_parts(message)
    return None if parts is None else parts["input"] + parts["output"]


def assert_components(entry: dict[str, Any], group: list[dict[str, Any]], what: str = "") -> None:
    """An entry's or summary's token and cost components equal the brute-force ones of ``group``."""
    for name, value in expected_set_components(group).items():
        got = stated_cost(entry[name]) if name.endswith("_cost") else entry[name]
        assert got == value, f"{what} {name}: {got} != {value}"


def expected_tokens(message: dict[str, Any]) -> dict[str, int]:
    """The enhanced ``tokens`` object (components are 0 on a version-1 message)."""
    return {
        "input": message["input_tokens"],
        "output": message["output_tokens"],
        "total": message["input_tokens"] + message["output_tokens"],
        "cached_input": message.get("cached_input_tokens", 0),
        "cache_creation_input": message.get("cache_creation_input_tokens", 0),
        "reasoning": message.get("reasoning_tokens", 0),
    }


def expected_set_components(group: list[dict[str, Any]]) -> dict[str, Any]:
    """The component fields of a summary or a stats entry over ``group``."""
    tokens = {
        name: sum(m.get(name, 0) for m in group)
        for name in ("cached_input_tokens", "cache_creation_input_tokens", "reasoning_tokens")
    }
    priced = [parts for m in group if (parts := expected_cost_parts(m)) is not None]
    costs = {f"{part}_cost": sum((p[part] for p in priced), Decimal(0)) if priced else None for part in COST_PARTS}
    return {**tokens, **costs}


def summary(message: dict[str, Any]) -> dict[str, Any]:
    """One list entry, normalised like ``normalise`` leaves a response entry."""
    entry = {
        "id": log_id(message),
        "request_id": message["request_id"],
        "model": message["model"],
        "provider": message["provider"],
        "status": message["status"],
        "status_code": message["status_code"],
        "latency_ms": message["latency_ms"],
        "input_tokens": message["input_tokens"],
        "output_tokens": message["output_tokens"],
        "total_tokens": message["input_tokens"] + message["output_tokens"],
        "cost": expected_cost(message),
        "created_at": created_ms(message),
        "api_key_id": message["api_key_id"],
        "api_key_prefix": message["api_key_prefix"],
    }
    if message["status"] == "error":
        entry["error"] = dict(message["error"])
    return entry


def detail(message: dict[str, Any]) -> dict[str, Any]:
    return {
        **summary(message),
        "endpoint": message["endpoint"],
        "method": message["method"],
        "time_to_first_token_ms": message.get("time_to_first_token_ms"),
        "streaming": message["streaming"],
        "completed_at": instant_ms(message["completed_at"]),
        "user_agent": message.get("user_agent"),
        "ip_address": message.get("ip_address"),
        "resolution": message.get("resolution"),
        "tokens": expected_tokens(message),
        "cost_breakdown": None
        if (parts := expected_cost_parts(message)) is None
        else {
            **parts,
            "total": parts["input"] + parts["output"],
        },
        "pricing": expected_pricing(message),
        "cost_source": "gateway" if message.get("cost") else "catalog" if parts is not None else "unpriced",
        "catalog_version": None if message.get("cost") else CATALOG_VERSION,
        "user": message.get("user"),
        "metadata": message.get("metadata") or {},
    }


def expected_pricing(message: dict[str, Any]) -> dict[str, Any] | None:
    """The ``pricing`` of a log: the gateway's prices as sent (null where it named none), else the catalog's."""
    cost = message.get("cost")
    if cost is None:
        return catalog_prices(message["model"], message["input_tokens"])
    names = ("input", "output", "cached_input", "cache_creation_input", "reasoning")
    prices: dict[str, Any] = {
        f"{name}_per_million": None if f"{name}_per_million" not in cost else Decimal(cost[f"{name}_per_million"])
        for name in names
    }
    return {**prices, "above_input_tokens": None}


def _exact(value: Any) -> Decimal | None:
    # The JSON number as written (json.loads made it a float; repr is the shortest round trip).
    return None if value is None else Decimal(repr(value))


def normalise(entry: dict[str, Any]) -> dict[str, Any]:
    """A response entry with instants as epoch ms (checking they are UTC with ``Z``) and cost exact."""
    result = dict(entry)
    for name in ("created_at", "completed_at"):
        if name in result:
            assert result[name].endswith("Z"), result[name]
            result[name] = instant_ms(result[name])
    result["cost"] = _exact(result["cost"])
    # The single log's and enhanced objects of money, when present: exact too.
    for name in ("cost_breakdown", "pricing"):
        if isinstance(result.get(name), dict):
            result[name] = {
                key: value if key == "above_input_tokens" else _exact(value) for key, value in result[name].items()
            }
    return result


@dataclass(frozen=True)
class Filters:
    """A list query in plain terms: ``start_ms <= created < end_ms`` plus equality and latency bounds."""

    start_ms: int | None = None
    end_ms: int | None = None  # exclusive
    model: str | None = None
    provider: str | None = None
    status: str | None = None
    api_key_id: str | None = None
    min_latency: int | None = None
    max_latency: int | None = None

    def matches(self, message: dict[str, Any]) -> bool:
        created = created_ms(message)
        return (
            (self.start_ms is None or created >= self.start_ms)
            and (self.end_ms is None or created < self.end_ms)
            and all(
                getattr(self, name) is None or message[name] == getattr(self, name)
                for name in ("model", "provider", "status", "api_key_id")
            )
            and (self.min_latency is None or message["latency_ms"] >= self.min_latency)
            and (self.max_latency is None or message["latency_ms"] <= self.max_latency)
        )


def retained(message: dict[str, Any], now_ms: int) -> bool:
    return created_ms(message) + LOG_RETENTION_MS > now_ms


def newest_first(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API's order: sort key ``created_ms#id`` descending."""
    return sorted(messages, key=lambda message: (created_ms(message), log_id(message)), reverse=True)


def default_start(end_ms: int) -> int:
    """Brute force of the API's default start: 30 days before the end, floored to the hour."""
    start = datetime.fromtimestamp((end_ms - DEFAULT_RANGE_MS) / 1000, UTC).replace(minute=0, second=0, microsecond=0)
    return int(start.timestamp() * 1000)


def expected_logs(
    messages: list[dict[str, Any]], account_id: str, now_ms: int, filters: Filters | None = None
) -> list[dict[str, Any]]:
    """Every log the account may see for the query, newest first, as messages (a query without a start
    covers the default window before its end, or before ``now_ms``)."""
    filters = filters or Filters()
    if filters.start_ms is None:
        end = filters.end_ms if filters.end_ms is not None else now_ms
        filters = replace(filters, start_ms=default_start(end))
    return newest_first(
        [m for m in messages if m["account_id"] == account_id and retained(m, now_ms) and filters.matches(m)]
    )


def expected_for_params(
    messages: list[dict[str, Any]], account_id: str, now_ms: int, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """``expected_logs`` for a list or enhanced request's own parameters, cost bounds included (a bound
    leaves unpriced logs out), newest first."""
    filters = Filters(
        start_ms=instant_ms(params["start_date"]) if "start_date" in params else None,
        end_ms=instant_ms(params["end_date"]) + 1 if "end_date" in params else None,
        model=params.get("model"),
        provider=params.get("provider"),
        status=params.get("status"),
        api_key_id=params.get("api_key_id"),
        min_latency=params.get("min_latency"),
        max_latency=params.get("max_latency"),
    )
    matching = expected_logs(messages, account_id, now_ms, filters)
    low, high = params.get("min_cost"), params.get("max_cost")
    if low is None and high is None:
        return matching
    return [
        m
        for m in matching
        if (cost := expected_cost(m)) is not None
        and (low is None or cost >= Decimal(low))
        and (high is None or cost <= Decimal(high))
    ]


def variant(message: dict[str, Any], request_id: str, created: int, **changes: Any) -> dict[str, Any]:
    """A copy of a generated message with another request id and creation instant (and other changes)."""
    clone = copy.deepcopy(message)
    clone.update(
        request_id=request_id, created_at=iso(created), completed_at=iso(created + clone["latency_ms"]), **changes
    )
    return clone


def expected_set_cost(costs: list[Decimal | None]) -> Decimal | None:
    """A set's cost as the API states it: the sum over its priced logs; None when none was priced
    (unknown, not zero)."""
    priced = [cost for cost in costs if cost is not None]
    return sum(priced, Decimal(0)) if priced else None


def stated_cost(value: float | int | None) -> Decimal | None:
    """A cost as the JSON carried it, exactly (its shortest repr is the Decimal's digits)."""
    return None if value is None else Decimal(repr(value))
