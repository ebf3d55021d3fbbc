"""DynamoDB calls made and items read by Query and Scan, counted with botocore's ``after-call`` hook.

The counts come from DynamoDB's own answers (``ScannedCount`` is what a Query or Scan read and billed,
before any FilterExpression), so they do not depend on the machine or on how fast moto is.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_EVENT = "after-call.dynamodb"


@dataclass
class DynamoTally:
    """Totals over every DynamoDB call a client made while the tally was attached."""

    calls: int = 0
    # A Query or Scan with Select=COUNT answers without "Items": its reads are a count's, the rest a page's.
    count_items_read: int = 0
    page_items_read: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def items_read(self) -> int:
        return self.count_items_read + self.page_items_read

    def record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        """botocore ``after-call`` handler; the list handler calls DynamoDB from several threads."""
        with self._lock:
            self.calls += 1
            if model.name not in ("Query", "Scan"):
                return
            scanned = int(parsed.get("ScannedCount", 0))
            if "Items" in parsed:
                self.page_items_read += scanned
            else:
                self.count_items_read += scanned


@contextmanager
def tally(client: Any) -> Iterator[DynamoTally]:
    """Count the calls ``client`` makes inside the ``with`` block."""
    counts = DynamoTally()
    client.meta.events.register(_EVENT, counts.record)
    try:
        yield counts
    finally:
        client.meta.events.unregister(_EVENT, counts.record)
