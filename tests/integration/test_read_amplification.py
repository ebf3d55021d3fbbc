"""The index design, checked by counting: DynamoDB items read (ScannedCount) versus items returned.

Machine-independent (no timing): a botocore ``after-call`` hook on the package's own DynamoDB client
sees every Query response. Page queries return ``Items``; the exact-total queries use ``Select=COUNT``
and return none. Each single filter on status, model, provider or api_key_id must read at most about
twice what it returns, and counting must read only matching items (an index, not a filter expression
over the whole time range).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from request_logs.store.dynamo import dynamodb
from request_logs.store.keys import LOG_SHARDS
from tests.conftest import ACCOUNT_A, NOW_MS, sample_messages
from tests.integration import oracle
from tests.integration.oracle import Filters
from tests.integration.shared_stack import SharedStack, shared_stack

PATH = "/api/account/request-logs"


@dataclass
class QueryTally:
    page_scanned: int = 0
    page_returned: int = 0
    count_scanned: int = 0
    count_matched: int = 0
    page_calls: int = 0
    calls: list[dict[str, int]] = field(default_factory=list)

    def record(self, parsed: dict[str, Any], **_: Any) -> None:
        scanned, count = int(parsed.get("ScannedCount", 0)), int(parsed.get("Count", 0))
        self.calls.append({"scanned": scanned, "count": count})
        if "Items" in parsed:
            self.page_calls += 1
            self.page_scanned += scanned
            self.page_returned += count
        else:
            self.count_scanned += scanned
            self.count_matched += count


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[SharedStack, list[dict[str, Any]]]]:
    # ~10 % errors so that a page of 50 errors is a full page; 30 days up to NOW.
    messages = sample_messages(ACCOUNT_A, count=1000, days=30, seed=21, error_rate=0.1)
    with shared_stack() as shared:
        assert shared.ingest.messages(messages) == []
        yield shared, messages


@pytest.fixture
def tally(world) -> Iterator[QueryTally]:
    counter = QueryTally()
    events = dynamodb().meta.events
    events.register("after-call.dynamodb.Query", counter.record, unique_id="read-amplification-tally")
    yield counter
    events.unregister("after-call.dynamodb.Query", unique_id="read-amplification-tally")


@pytest.mark.parametrize(
    "params",
    [
        {"status": "error"},
        {"model": "anthropic/claude-sonnet-4"},
        {"provider": "google"},
        {"api_key_id": "key_alpha2"},
    ],
    ids=lambda params: "=".join(next(iter(params.items()))),
)
def test_single_filter_reads_about_what_it_returns(world, tally: QueryTally, params: dict[str, str]) -> None:
    shared, messages = world
    ((name, value),) = params.items()
    expected = oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, Filters(**{name: value}))
    assert len(expected) > 50, "the filter should fill a page"
    assert len(expected) < len(messages) or name == "status"

    response = shared.api.get(PATH, {**params, "limit": 50})

    assert response.status == 200
    assert [entry["id"] for entry in response.body["logs"]] == [oracle.log_id(m) for m in expected[:50]]
    assert response.body["pagination"]["total"] == len(expected)
    # Page queries: items read ≤ 2 × items returned.
    assert tally.page_returned >= 50
    assert tally.page_scanned <= 2 * 50, tally.calls
    # Count queries: every item read is a match, and there are exactly `total` of them.
    assert tally.count_scanned == tally.count_matched == len(expected), tally.calls


def test_deeper_pages_read_about_offset_plus_limit(world, tally: QueryTally) -> None:
    shared, messages = world
    expected = oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, Filters(status="error"))
    response = shared.api.get(PATH, {"status": "error", "limit": 20, "offset": 40})
    assert [entry["id"] for entry in response.body["logs"]] == [oracle.log_id(m) for m in expected[40:60]]
    assert tally.page_scanned <= 2 * (40 + 20), tally.calls
    assert tally.count_scanned == len(expected)


def test_error_rate_of_the_dataset_is_selective(world) -> None:
    """The ratio above is meaningful only because errors are a small part of what the table holds."""
    _, messages = world
    errors = sum(m["status"] == "error" for m in messages)
    assert 50 < errors < 0.2 * len(messages)


def test_status_success_is_read_by_time_with_a_filter(world, tally: QueryTally) -> None:
    """Success is most of the traffic: the status index holds errors only (a write and its storage saved
    per successful log), and a success filter wastes only the errors it reads past."""
    shared, messages = world
    expected = oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, Filters(status="success"))
    visible = oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, Filters())

    response = shared.api.get(PATH, {"status": "success", "limit": 50})

    assert [entry["id"] for entry in response.body["logs"]] == [oracle.log_id(m) for m in expected[:50]]
    assert response.body["pagination"]["total"] == len(expected)
    assert tally.page_scanned <= 1.25 * tally.page_returned, tally.calls
    assert tally.page_scanned <= 2.5 * 50, tally.calls
    assert (tally.count_scanned, tally.count_matched) == (len(visible), len(expected))


@pytest.mark.parametrize("limit", [1, 50])
def test_a_value_bound_with_a_status_reads_its_matches_once_per_day(world, tally: QueryTally, limit: int) -> None:
    """Slow errors: the latency index finds the few logs at or above the bound in each day's partition
    (one empty answer for a day without any), and the status is checked on those alone."""
    shared, messages = world
    filters = Filters(status="error", min_latency=5_000)
    expected = oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, filters)
    slow = oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, Filters(min_latency=5_000))
    assert 0 < len(expected) < len(slow) < 0.1 * len(messages)

    response = shared.api.get(PATH, {"status": "error", "min_latency": 5_000, "limit": limit})

    assert [entry["id"] for entry in response.body["logs"]] == [oracle.log_id(m) for m in expected[:limit]]
    assert response.body["pagination"]["total"] == len(expected)
    # The default range is the 90 days of retention: its days, today, and the partition of logs dated
    # ahead. One call per day for the page (while it is not full) and one for the total.
    days = 90 + 2
    read = tally.page_scanned + tally.count_scanned
    assert read <= 2 * len(slow), tally.calls  # each slow log read once per pass, whatever its status
    assert len(tally.calls) <= 2 * days, tally.calls


@pytest.mark.parametrize(
    ("params", "filters", "limit"),
    [
        ({"status": "error", "provider": "groq"}, Filters(status="error", provider="groq"), 1),
        ({"status": "error", "provider": "groq"}, Filters(status="error", provider="groq"), 50),
    ],
    ids=["error+groq-limit1", "error+groq-limit50"],
)
def test_a_sparse_residual_filter_pages_in_few_calls(
    world, tally: QueryTally, params: dict[str, Any], filters: Filters, limit: int
) -> None:
    """The index is status=error; the rest is a filter expression that drops most of what is read.
    Each shard must scan ahead in growing chunks, not one item per call while the page waits."""
    shared, messages = world
    expected = oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, filters)
    errors = oracle.expected_logs(messages, ACCOUNT_A, NOW_MS, Filters(status="error"))
    assert 0 < len(expected) < 0.2 * len(errors)

    response = shared.api.get(PATH, {**params, "limit": limit})

    assert [entry["id"] for entry in response.body["logs"]] == [oracle.log_id(m) for m in expected[:limit]]
    assert response.body["pagination"]["total"] == len(expected)
    # Doubling chunks reach any shard's end in a handful of calls; one call per item would be ~100.
    assert tally.page_calls <= LOG_SHARDS * 4, tally.calls
