"""Brute force for the stats table: every rollup item, computed in plain Python from the logs themselves.

Nothing here goes through the package's folding (``domain/rollups.py``, ``logic/aggregate.py``):
buckets come from integer division, counters are summed from raw item attributes, sketch bins straight
from the ``ddsketch`` mapping, histogram bins by a linear search of the edges. Shared with the package
are only the documented contract values (the embedded-group bounds, the histogram edges, the progress
item's key) and the stored-item decoder, needed to read what the aggregator wrote (its sketch codec has
its own round-trip test).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from ddsketch.mapping import LogarithmicMapping

from local.stack.provision import Stack
from request_logs.domain.histograms import EDGES
from request_logs.domain.rollups import MAX_EMBEDDED_GROUP_BYTES, MAX_EMBEDDED_GROUPS, RollupKey
from request_logs.store import keys
from request_logs.store.dynamo import dynamodb
from request_logs.store.stats import StoredRollup, from_item

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
MAPPING = LogarithmicMapping(relative_accuracy=0.01)

# (account, granularity, bucket start ms, dimension, value)
Key = tuple[str, str, int, str, str]


@dataclass
class Expected:
    counters: Counter[str] = field(default_factory=Counter)
    cost: Decimal = Decimal(0)
    latency_bins: Counter[int] = field(default_factory=Counter)
    latency_zeros: int = 0
    ttft_bins: Counter[int] = field(default_factory=Counter)
    ttft_zeros: int = 0
    # group → value → (counters, cost), for the "all" dimension
    groups: dict[str, dict[str, tuple[Counter[str], Decimal]]] = field(default_factory=dict)
    # kind → bin's lower edge → (counters, cost)
    histograms: dict[str, dict[str, tuple[Counter[str], Decimal]]] = field(default_factory=dict)


def _bin(kind: str, value: Decimal) -> str:
    return str(max(edge for edge in EDGES[kind] if edge <= value))  # type: ignore[index]


def _counts(log: dict[str, Any]) -> tuple[Counter[str], Decimal]:
    """A log item's counters, token and cost components included (``breakdown`` holds the components, and
    the input cost of a priced log), and its cost (0 when unpriced)."""
    # Logs stored before the breakdown map have its fields at the top level.
    parts = {**{name: log[name] for name in ("cost_input",) if name in log}, **log.get("breakdown", {})}
    priced = "cost_output" in log
    counts: Counter[str] = Counter(
        requests=1,
        successful=int(log["status"] == "success"),
        failed=int(log["status"] != "success"),
        input_tokens=int(log["input_tokens"]),
        output_tokens=int(log["output_tokens"]),
        unpriced=int(not priced),
        latency_sum=int(log["latency_ms"]),
        cached_input_tokens=int(parts.get("cached_input_tokens", 0)),
        cache_creation_input_tokens=int(parts.get("cache_creation_input_tokens", 0)),
        reasoning_tokens=int(parts.get("reasoning_tokens", 0)),
    )
    if not priced:
        return counts, Decimal(0)
    counts.update(
        input_cost=parts["cost_input"],
        output_cost=log["cost_output"],
        cached_input_cost=parts.get("cost_cached_input", Decimal(0)),
        cache_creation_input_cost=parts.get("cost_cache_creation_input", Decimal(0)),
        reasoning_cost=parts.get("cost_reasoning", Decimal(0)),
    )
    return counts, parts["cost_input"] + log["cost_output"]


def scan(table: str) -> list[dict[str, Any]]:
    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": table}
    while True:
        response = dynamodb().scan(**params)
        items += [{name: deserializer.deserialize(value) for name, value in raw.items()} for raw in response["Items"]]
        if "LastEvaluatedKey" not in response:
            return items
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def logs_in_table(stack: Stack) -> list[dict[str, Any]]:
    """Every log item (a poison item a test wrote, which is no log, is left out)."""
    return [item for item in scan(stack.name("RequestLogsTable")) if str(item.get("id", "")).startswith("log_")]


def _marked(value: str | None) -> str:
    return "" if value is None else "=" + value


def expected_rollups(logs: list[dict[str, Any]]) -> dict[Key, Expected]:
    expected: dict[Key, Expected] = {}
    for log in logs:
        counts, cost = _counts(log)
        created = int(log["created_ms"])
        for granularity, size in (("quarter", HOUR_MS // 4), ("hour", HOUR_MS), ("day", DAY_MS)):
            for dimension, value in (
                ("all", ""),
                ("model", log["model"]),
                ("provider", log["provider"]),
                ("api_key", log["api_key_id"]),
                # Marked with "=" when present; "" holds the logs without one (domain/rollups).
                ("user", _marked(log.get("user"))),
                # The metadata keys the account indexed when the log was written, carried or not.
                *(
                    (f"metadata.{key}", _marked((log.get("metadata") or {}).get(key)))
                    for key in log.get("metadata_indexed") or ()
                ),
            ):
                if granularity == "quarter" and dimension != "all":
                    continue  # quarter hours are kept for the "all" items alone
                entry = expected.setdefault(
                    (log["account_id"], granularity, created - created % size, dimension, value), Expected()
                )
                entry.counters.update(counts)
                entry.cost += cost
                latency = int(log["latency_ms"])
                if latency > 0:
                    entry.latency_bins[MAPPING.key(latency)] += 1
                else:
                    entry.latency_zeros += 1
                ttft = log.get("ttft_ms")
                if ttft is not None and int(ttft) > 0:
                    entry.ttft_bins[MAPPING.key(int(ttft))] += 1
                elif ttft is not None:
                    entry.ttft_zeros += 1
                priced = "cost_output" in log
                for kind, measured in (("latency", Decimal(latency)), ("cost", cost if priced else None)):
                    if measured is not None:
                        bins = entry.histograms.setdefault(kind, {})
                        bin_counts, bin_cost = bins.get(_bin(kind, measured), (Counter(), Decimal(0)))
                        bins[_bin(kind, measured)] = (bin_counts + counts, bin_cost + cost)
                # Every item embeds per-status counters; the "all" items per-model and per-provider ones too.
                for group in ("model", "provider", "status") if dimension == "all" else ("status",):
                    group_counts, group_cost = entry.groups.setdefault(group, {}).get(
                        log[group], (Counter(), Decimal(0))
                    )
                    entry.groups[group][log[group]] = (group_counts + counts, group_cost + cost)
    return expected


def rollup_items(stack: Stack) -> list[dict[str, Any]]:
    """Every rollup item of the stats table, without the accounts' progress items that share it."""
    return [item for item in scan(stack.name("StatsTable")) if item["sk"] != keys.PROGRESS_SK]


def key_of(item: dict[str, Any]) -> RollupKey:
    """The key of a rollup item as scanned (its ``pk`` and ``sk`` say it)."""
    return from_item(item).key


def stored_rollups(stack: Stack) -> dict[Key, StoredRollup]:
    stored = {}
    for item in rollup_items(stack):
        rollup = from_item(item)
        key = rollup.key
        stored[(key.account_id, key.granularity, key.bucket_ms, key.dimension, key.value)] = rollup
    return stored


def _overflows(values: dict[str, Any]) -> bool:
    return len(values) > MAX_EMBEDDED_GROUPS or sum(len(value.encode()) for value in values) > MAX_EMBEDDED_GROUP_BYTES


def mismatches(expected: dict[Key, Expected], stored: dict[Key, StoredRollup]) -> list[str]:
    """Human-readable differences; empty when every item equals the truth, counters and bins exactly."""
    problems = [f"missing item {key}" for key in sorted(expected.keys() - stored.keys())]
    problems += [f"unexpected item {key}" for key in sorted(stored.keys() - expected.keys())]
    for key in sorted(expected.keys() & stored.keys()):
        want, have = expected[key], stored[key].rollup
        counters = have.counters
        got = Counter({name: value for name, value in counters.to_dict().items() if name != "cost" and value})
        if got != +want.counters or counters.cost != want.cost:
            problems.append(f"{key}: counters {counters} != {dict(want.counters)}, cost {want.cost}")
        if have.latency.bins != want.latency_bins or have.latency.zero_count != want.latency_zeros:
            problems.append(f"{key}: latency sketch differs")
        if have.ttft.bins != want.ttft_bins or have.ttft.zero_count != want.ttft_zeros:
            problems.append(f"{key}: ttft sketch differs")
        overflow = any(_overflows(values) for values in want.groups.values())
        if have.groups_overflow != overflow:
            problems.append(f"{key}: groups_overflow {have.groups_overflow}, expected {overflow}")
        elif not overflow:
            got_groups = {
                group: {
                    value: (Counter({n: v for n, v in c.to_dict().items() if n != "cost" and v}), c.cost)
                    for value, c in entries.items()
                }
                for group, entries in have.groups.items()
            }
            want_groups = {
                group: {value: (+counts, cost) for value, (counts, cost) in entries.items()}
                for group, entries in want.groups.items()
            }
            if got_groups != want_groups:
                problems.append(f"{key}: embedded groups differ")
        got_histograms = {
            kind: {
                lower: (Counter({n: v for n, v in c.to_dict().items() if n != "cost" and v}), c.cost)
                for lower, c in bins.items()
            }
            for kind, bins in have.histograms.items()
        }
        want_histograms = {
            kind: {lower: (+counts, cost) for lower, (counts, cost) in bins.items()}
            for kind, bins in want.histograms.items()
        }
        if got_histograms != want_histograms:
            problems.append(f"{key}: value histograms differ")
    return problems


def assert_stats_are_the_truth(stack: Stack, logs: list[dict[str, Any]] | None = None) -> None:
    """Every rollup item equals the brute-force fold of ``logs`` (default: every log in the logs table)."""
    problems = mismatches(expected_rollups(logs_in_table(stack) if logs is None else logs), stored_rollups(stack))
    assert not problems, "\n".join(problems[:20])


def clear_stats(stack: Stack) -> None:
    table = stack.name("StatsTable")
    for item in scan(table):
        dynamodb().delete_item(TableName=table, Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}})
