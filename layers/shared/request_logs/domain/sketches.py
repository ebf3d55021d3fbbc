"""Percentile sketches: the one place for sketch maths (add, merge, quantile, compact encoding).

DDSketch bins from the ``ddsketch`` package's logarithmic mapping at 1 % relative accuracy: a quantile read
from a sketch is within 1 % of the exact value, and merging sketches is adding bin counts, so hour
sketches merge exactly into days, weeks and any range with the same guarantee. Latencies are integer
milliseconds and ingest caps them at 2⁵³, so keys lie in 0..1837: a sketch never holds more than 1,838 bins
and its encoding stays under ~35 KB even with extreme counts (a few hundred bytes in practice), far below
DynamoDB's 400 KB item limit (bench: rollup_item_bytes_worst_case).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ddsketch.mapping import LogarithmicMapping

RELATIVE_ACCURACY = 0.01


@lru_cache(maxsize=1)
def _mapping() -> LogarithmicMapping:
    # Imported on first use: the list functions use rollup counters but never a sketch, and importing
    # ddsketch would otherwise cost each of their cold starts about 4 ms.
    from ddsketch.mapping import LogarithmicMapping

    return LogarithmicMapping(relative_accuracy=RELATIVE_ACCURACY)


_ENCODING_VERSION = 1


@dataclass
class Sketch:
    bins: dict[int, int] = field(default_factory=dict)
    zero_count: int = 0

    @property
    def count(self) -> int:
        return self.zero_count + sum(self.bins.values())

    def add(self, value: float, weight: int = 1) -> None:
        if value <= 0:
            self.zero_count += weight
            return
        key = _mapping().key(value)
        self.bins[key] = self.bins.get(key, 0) + weight

    def merge(self, other: Sketch) -> None:
        self.zero_count += other.zero_count
        for key, count in other.bins.items():
            self.bins[key] = self.bins.get(key, 0) + count

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile by linear interpolation between the order statistics around rank
        ``q × (count − 1)`` (numpy's default, Postgres ``percentile_cont``); None for an empty sketch.

        Each order statistic is its bin's value, within 1 % of the exact one, and a weighted mean of two
        positive values each within 1 % is within 1 % of the same mean of the exact values: the
        interpolated quantile keeps the sketch's accuracy. So p99 of 661, 1058 and 1120 ms is about
        1118.8, as users' own tools compute it, not the 1058 of the rank below.
        """
        total = self.count
        if total == 0:
            return None
        rank = q * (total - 1)
        below = math.floor(rank)
        low = self._order_statistic(below)
        if below == rank or below + 1 >= total:
            return low
        return low + (rank - below) * (self._order_statistic(below + 1) - low)

    def _order_statistic(self, index: int) -> float:
        """The estimate of the ``index``-th smallest value (0-based)."""
        running = self.zero_count
        if running > index:
            return 0.0
        for key in sorted(self.bins):
            running += self.bins[key]
            if running > index:
                return float(_mapping().value(key))
        return float(_mapping().value(max(self.bins)))

    def encode(self) -> bytes:
        """Version byte, zero count, then (key delta, count) pairs as zig-zag varints."""
        out = bytearray([_ENCODING_VERSION])
        _put_varint(out, self.zero_count)
        _put_varint(out, len(self.bins))
        previous = 0
        for key in sorted(self.bins):
            _put_varint(out, _zigzag(key - previous))
            _put_varint(out, self.bins[key])
            previous = key
        return bytes(out)

    @classmethod
    def decode(cls, blob: bytes | None) -> Sketch:
        if not blob:
            return cls()
        if blob[0] != _ENCODING_VERSION:
            raise ValueError(f"unknown sketch encoding {blob[0]}")
        position = 1
        zero_count, position = _get_varint(blob, position)
        size, position = _get_varint(blob, position)
        bins: dict[int, int] = {}
        key = 0
        for _ in range(size):
            delta, position = _get_varint(blob, position)
            count, position = _get_varint(blob, position)
            key += _unzigzag(delta)
            bins[key] = count
        return cls(bins, zero_count)

    @classmethod
    def of(cls, values: Iterable[float]) -> Sketch:
        sketch = cls()
        for value in values:
            sketch.add(value)
        return sketch


def merge_sketches(sketches: Iterable[Sketch]) -> Sketch:
    merged = Sketch()
    for sketch in sketches:
        merged.merge(sketch)
    return merged


def _zigzag(value: int) -> int:
    return (value << 1) if value >= 0 else ((-value << 1) - 1)


def _unzigzag(value: int) -> int:
    return (value >> 1) if not value & 1 else -((value + 1) >> 1)


def _put_varint(out: bytearray, value: int) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def _get_varint(blob: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = blob[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
