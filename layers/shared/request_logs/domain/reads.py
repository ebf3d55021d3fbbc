"""What a request costs in storage reads: the figure every read path is held to (its page and its time
buckets, never the account's size), counted by the store, emitted as a metric by the API, and checked
by tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ReadStats:
    """Items read (DynamoDB's ScannedCount, or items a batch get returned) and calls made."""

    items_read: int = 0
    calls: int = 0

    def add(self, items: int, calls: int = 1) -> None:
        self.items_read += items
        self.calls += calls
