"""Items DynamoDB reads for a metadata-filtered list request, through the real list handler, on moto in
process (bench/metadata_filter.md explains the choice).

- ``metadata_filter_read_amplification``: items read by every DynamoDB call of ONE request
  ``metadata.feature=<value>`` over 30 days (``limit=100``: the account read that resolves the key's slot,
  the exact total, the page) ÷ the logs the filter matches. The value matches about 2 % of the logs. The
  exact total counts every match once, so 1.0 is the floor; the budget (≤ 2) holds only if the slot's
  index reads matching items instead of filtering every log of the range. Defined like
  ``list_selective_read_amplification`` (bench/read_amplification.py), so the two compare.
- ``metadata_filter_full_walk_read_amplification``: items read by all the cursor pages that walk the
  whole filtered set ÷ the logs it matches.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bench.dataset import DAY_MS, Dataset, build_dataset, counted_get, loaded_stack
from local.emulator.lambda_runtime import FunctionRegistry
from request_logs.domain.timeutil import now_ms

LIST_PATH = "/api/account/request-logs"
PAGE_LIMIT = 100
DAYS = 30
SEED = 2027
# The filtered value's share of the logs, and the other values of the key.
RARE_VALUE, RARE_SHARE = "export", 0.02
COMMON_VALUES = ("chat", "search", "summarize", "translate")
SLOTS = {"feature": 1, "environment": 2}


def _with_metadata(dataset: Dataset) -> Dataset:
    """The dataset's logs with a user and metadata of their own (independent of the demo generator's)."""
    rng = random.Random(SEED)
    logs = []
    for log in dataset.logs:
        feature = RARE_VALUE if rng.random() < RARE_SHARE else rng.choice(COMMON_VALUES)
        environment = rng.choice(("prod", "prod", "staging"))
        logs.append(
            replace(
                log, user=f"user_{rng.randrange(1, 500):04d}", metadata={"feature": feature, "environment": environment}
            )
        )
    return replace(dataset, logs=logs)


def _iso_date(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).date().isoformat()


def measure_metadata_filter(log_count: int) -> dict[str, float]:
    end_ms = now_ms() // DAY_MS * DAY_MS
    dataset = _with_metadata(build_dataset(log_count, days=DAYS, end_ms=end_ms, error_rate=0.02, seed=SEED))
    # Brute force is the oracle: what the filter must select, newest first (the sort key's order).
    newest_first = sorted(dataset.logs, key=lambda log: (log.created_ms, log.id), reverse=True)
    matching_ids = [log.id for log in newest_first if (log.metadata or {}).get("feature") == RARE_VALUE]
    matching = len(matching_ids)
    query: list[tuple[str, str]] = [
        ("metadata.feature", RARE_VALUE),
        ("limit", str(PAGE_LIMIT)),
        ("start_date", _iso_date(dataset.start_ms)),
        ("end_date", _iso_date(dataset.end_ms - DAY_MS)),
    ]
    with loaded_stack(dataset, SLOTS) as stack:
        functions = FunctionRegistry(stack.template)
        first, first_reads = counted_get(stack, functions, LIST_PATH, query)
        if first["pagination"]["total"] != matching:
            raise RuntimeError(f"total {first['pagination']['total']} != {matching} matching logs")
        walked = [log["id"] for log in first["logs"]]
        walk_items = first_reads.items_read
        page: dict[str, Any] = first
        while page["pagination"]["nextCursor"]:
            page, reads = counted_get(
                stack, functions, LIST_PATH, [*query, ("cursor", page["pagination"]["nextCursor"])]
            )
            walked += [log["id"] for log in page["logs"]]
            walk_items += reads.items_read
        if walked != matching_ids:
            raise RuntimeError("walking the pages did not return exactly the matching logs, newest first")
    return {
        "metadata_filter_read_amplification": first_reads.items_read / matching,
        "metadata_filter_full_walk_read_amplification": walk_items / matching,
        "metadata_filter_data_logs": len(dataset.logs),
        "metadata_filter_matching_logs": matching,
        "metadata_filter_request_items_read": first_reads.items_read,
        "metadata_filter_request_dynamodb_calls": first_reads.calls,
    }


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/metadata_filter.md says besides the figures themselves."""
    return {"rare_value": RARE_VALUE, "rare_share": f"{RARE_SHARE:.0%}", "page_limit": str(PAGE_LIMIT)}


if __name__ == "__main__":
    import json
    import os
    import sys

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    print(json.dumps(measure_metadata_filter(count), indent=2))
