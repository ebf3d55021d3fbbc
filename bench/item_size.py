"""Rollup item sizes as DynamoDB counts them, for its 400 KB item limit: the items a run stored, and the
largest item the code can write, constructed.

Size rules (DynamoDB developer guide, "Item sizes and formats"): every attribute counts its name's UTF-8
bytes plus its value; a string its UTF-8 bytes, a binary its raw bytes, a number 1 byte plus 1 per two
significant digits (leading and trailing zeros trimmed, 1 more for a negative number), a boolean or null
1 byte, a map or list 3 bytes plus, per element, 1 byte, its value and (in a map) its name.

The worst case is an hour "all" item (the only kind with embedded maps, and "hour" is the longer
granularity) of the longest account id, built with the package's own mapping (``store.stats.to_item``):

- both sketches (latency and time to first token) hold every bin from 1 ms to 2^53 ms, the largest
  latency ingest accepts, and a zero count;
- every number, top-level counters, bin counts and embedded counters alike, has 38 significant digits,
  the most a DynamoDB number holds, with random digits so that gzip cannot shrink the embedded maps;
- the embedded model and provider maps are at both of their bounds: ``MAX_EMBEDDED_GROUPS`` names of
  random four-byte characters whose UTF-8 bytes add up to exactly ``MAX_EMBEDDED_GROUP_BYTES``, through
  ``Rollup.merge``, which enforces the bounds (one name more and the item would say ``groups_overflow``
  and drop its embedded sketches, a smaller item);
- both value histograms (latency and cost, ``domain/histograms``) hold every bin their edges define,
  with such counters;
- the embedded per-model latency sketches hold ``MAX_EMBEDDED_SKETCH_BINS`` bins between them (the most
  the bound keeps), spread over the models of the map, with such counts;
- ``applied`` holds a 40-digit sequence number (the longest DynamoDB Streams issues) for every one of
  the account's ``LOG_SHARDS`` partitions.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import fields
from decimal import Decimal
from typing import Any

from ddsketch.mapping import LogarithmicMapping

from local.stack.dynamodb_limits import ITEM_LIMIT_BYTES, item_size
from request_logs.domain.counters import Counters
from request_logs.domain.histograms import EDGES, VALUE_KINDS
from request_logs.domain.rollups import (
    EMBEDDED_GROUPS,
    MAX_EMBEDDED_GROUP_BYTES,
    MAX_EMBEDDED_GROUPS,
    MAX_EMBEDDED_SKETCH_BINS,
    SKETCHED_GROUPS,
    Rollup,
    RollupKey,
    bucket_start,
)
from request_logs.domain.sketches import RELATIVE_ACCURACY, Sketch
from request_logs.domain.timeutil import END_OF_TIME_MS
from request_logs.store import keys
from request_logs.store.dynamo import to_attributes
from request_logs.store.stats import StoredRollup, to_item

MAX_LATENCY_MS = 2**53  # models/messages.py: ingest accepts latencies and times to first token up to 2^53 ms
_NUMBER_DIGITS = 38
_SEQUENCE_NUMBER_DIGITS = 40
_LONGEST_ACCOUNT_ID = "acct_" + "W" * 64  # domain/ids.ACCOUNT_ID_PATTERN: acct_ and up to 64 characters
_NAME_CHARACTERS = MAX_EMBEDDED_GROUP_BYTES // MAX_EMBEDDED_GROUPS // 4  # four-byte characters per name


def _big(rng: random.Random) -> int:
    return rng.randrange(10 ** (_NUMBER_DIGITS - 1), 10**_NUMBER_DIGITS)


def _big_counters(rng: random.Random) -> Counters:
    """Every counter, the token and cost components included, at 38 random digits (a cost with 18 integer
    digits and 20 decimals)."""
    values: dict[str, Any] = {}
    for field in fields(Counters):
        values[field.name] = Decimal(_big(rng)).scaleb(-20) if field.type == "Decimal" else _big(rng)
    return Counters(**values)


def _full_sketch(rng: random.Random) -> Sketch:
    mapping = LogarithmicMapping(relative_accuracy=RELATIVE_ACCURACY)
    bins = {key: _big(rng) for key in range(mapping.key(1), mapping.key(MAX_LATENCY_MS) + 1)}
    return Sketch(bins, zero_count=_big(rng))


def _worst_case_rollup() -> StoredRollup:
    rng = random.Random(400)
    rollup = Rollup(counters=_big_counters(rng), latency=_full_sketch(rng), ttft=_full_sketch(rng))
    for group in EMBEDDED_GROUPS:
        for _ in range(MAX_EMBEDDED_GROUPS):
            name = "".join(chr(rng.randrange(0x10000, 0x110000)) for _ in range(_NAME_CHARACTERS))
            rollup.merge(Rollup(groups={group: {name: _big_counters(rng)}}))
        entries = rollup.groups[group]
        if len(entries) != MAX_EMBEDDED_GROUPS or sum(len(n.encode()) for n in entries) != MAX_EMBEDDED_GROUP_BYTES:
            raise RuntimeError(f"the {group} map is not at its bounds")
    for kind in VALUE_KINDS:
        for lower in EDGES[kind]:
            rollup.merge(Rollup(histograms={kind: {str(lower): _big_counters(rng)}}))
    if rollup.groups_overflow:
        raise RuntimeError("the embedded maps overflowed: their bounds are not what the names were sized for")
    mapping = LogarithmicMapping(relative_accuracy=RELATIVE_ACCURACY)
    keys_per_sketch = range(mapping.key(1), mapping.key(MAX_LATENCY_MS) + 1)
    for group in SKETCHED_GROUPS:
        names, left = sorted(rollup.groups[group]), MAX_EMBEDDED_SKETCH_BINS
        for position, name in enumerate(names):
            share = min(left // (len(names) - position), len(keys_per_sketch))
            bins = {key: _big(rng) for key in rng.sample(keys_per_sketch, share)}
            rollup.merge(Rollup(group_latency={group: {name: Sketch(bins, zero_count=_big(rng))}}))
            left -= share
    if rollup.sketches_overflow or sum(len(s.bins) for g in rollup.group_latency.values() for s in g.values()) != (
        MAX_EMBEDDED_SKETCH_BINS
    ):
        raise RuntimeError("the embedded sketches are not at their bound")
    lowest_sequence = 10 ** (_SEQUENCE_NUMBER_DIGITS - 1)
    applied = {
        keys.log_pk(_LONGEST_ACCOUNT_ID, shard): rng.randrange(lowest_sequence, 10 * lowest_sequence)
        for shard in range(keys.LOG_SHARDS)
    }
    # The last hour the keys can spell: 8 significant digits, as many as any hour's start has.
    key = RollupKey(_LONGEST_ACCOUNT_ID, "hour", bucket_start(END_OF_TIME_MS, "hour"), "all", "")
    return StoredRollup(key, rollup, version=_big(rng), applied=applied)


def _stored_item(stored: StoredRollup) -> dict[str, Any]:
    """The item as ``store.stats.save_rollup`` puts it: key attributes, then ``to_item``'s attributes."""
    key = stored.key
    return {
        "pk": {"S": keys.stats_pk(key.account_id, key.granularity, key.dimension)},
        "sk": {"S": keys.stats_sk(key.bucket_ms, key.value)},
        **to_attributes(to_item(stored)),
    }


def measure_worst_case_item() -> dict[str, float]:
    stored = _worst_case_rollup()
    item = _stored_item(stored)
    return {
        "rollup_item_bytes_worst_case": item_size(item),
        "rollup_worst_case_sketch_bins": len(stored.rollup.latency.bins),
        "rollup_worst_case_sketch_bytes": len(item["latency_sketch"]["B"]),
        "rollup_worst_case_groups_bytes": len(item["groups"]["B"]),
        "rollup_worst_case_group_sketches_bytes": len(item["group_sketches"]["B"]),
    }


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/item_size.md says besides the figures themselves."""
    return {
        "item_limit_bytes": f"{ITEM_LIMIT_BYTES:,}",
        "max_latency_exponent": str(MAX_LATENCY_MS.bit_length() - 1),
        "max_embedded_groups": str(MAX_EMBEDDED_GROUPS),
        "max_embedded_group_bytes": f"{MAX_EMBEDDED_GROUP_BYTES:,}",
        "max_embedded_sketch_bins": f"{MAX_EMBEDDED_SKETCH_BINS:,}",
        "log_shards": str(keys.LOG_SHARDS),
    }
