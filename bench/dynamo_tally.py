"""DynamoDB calls made, items read and item writes requested, counted with botocore event hooks.

Reads come from DynamoDB's own answers (``after-call``): ``ScannedCount`` is what a Query or Scan read
and billed, before any FilterExpression; GetItem is one item per call and BatchGetItem one per key it
processed (the keys asked less its ``UnprocessedKeys``), since DynamoDB bills a read of a missing item
like any other. Writes come from the requests (``before-parameter-build``):
one per PutItem, UpdateItem or DeleteItem, one per request inside a BatchWriteItem or action inside a
TransactWriteItems, attempted or not, since a failed conditional write is billed too. Neither depends on
the machine or on how fast moto is.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_AFTER_CALL = "after-call.dynamodb"
_BEFORE_PARAMETER_BUILD = "before-parameter-build.dynamodb"
_TRANSACT_WRITES = ("Put", "Update", "Delete")  # a ConditionCheck writes nothing
# Carried from a request to its answer in botocore's per-call context dict.
_KEYS_ASKED = "bench_tally_keys_asked"


def _write_targets(operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The item (or key) of every write a request asks for; empty for a request that writes nothing."""
    if operation == "PutItem":
        return [params["Item"]]
    if operation in ("UpdateItem", "DeleteItem"):
        return [params["Key"]]
    if operation == "BatchWriteItem":
        return [
            request["PutRequest"]["Item"] if "PutRequest" in request else request["DeleteRequest"]["Key"]
            for requests in params["RequestItems"].values()
            for request in requests
        ]
    if operation == "TransactWriteItems":
        return [
            action.get("Item") or action["Key"]
            for transact in params["TransactItems"]
            for name, action in transact.items()
            if name in _TRANSACT_WRITES
        ]
    return []


@dataclass
class DynamoTally:
    """Totals over every DynamoDB call a client made while the tally was attached."""

    calls: int = 0
    # A Query or Scan with Select=COUNT answers without "Items": its reads are a count's, the rest a page's.
    count_items_read: int = 0
    page_items_read: int = 0
    key_items_read: int = 0  # BatchGetItem and GetItem, found or not
    write_calls: int = 0
    # (pk, sk) of every item written, with how many writes it got (every table here has pk/sk string keys).
    written: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def items_read(self) -> int:
        return self.count_items_read + self.page_items_read + self.key_items_read

    @property
    def writes(self) -> int:
        return self.written.total()

    def record(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        """botocore ``after-call`` handler; the list and stats handlers call DynamoDB from several threads."""
        with self._lock:
            self.calls += 1
            if model.name in ("Query", "Scan"):
                scanned = int(parsed.get("ScannedCount", 0))
                if "Items" in parsed:
                    self.page_items_read += scanned
                else:
                    self.count_items_read += scanned
            elif model.name == "BatchGetItem":
                unprocessed = sum(len(keys["Keys"]) for keys in parsed.get("UnprocessedKeys", {}).values())
                self.key_items_read += context.get(_KEYS_ASKED, 0) - unprocessed
            elif model.name == "GetItem":
                self.key_items_read += 1

    def record_request(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        """botocore ``before-parameter-build`` handler: the writes a request asks for, before it is sent,
        and the keys a BatchGetItem asks for (its answer omits the missing ones, which are billed too)."""
        if model.name == "BatchGetItem":
            context[_KEYS_ASKED] = sum(len(table["Keys"]) for table in params["RequestItems"].values())
        targets = _write_targets(model.name, params)
        if not targets:
            return
        with self._lock:
            self.write_calls += 1
            self.written.update((target["pk"]["S"], target["sk"]["S"]) for target in targets)


@contextmanager
def tally(client: Any) -> Iterator[DynamoTally]:
    """Count the calls ``client`` makes inside the ``with`` block."""
    counts = DynamoTally()
    client.meta.events.register(_AFTER_CALL, counts.record)
    client.meta.events.register(_BEFORE_PARAMETER_BUILD, counts.record_request)
    try:
        yield counts
    finally:
        client.meta.events.unregister(_AFTER_CALL, counts.record)
        client.meta.events.unregister(_BEFORE_PARAMETER_BUILD, counts.record_request)
