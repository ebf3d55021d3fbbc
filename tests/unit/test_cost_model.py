"""The cost model's arithmetic: DynamoDB's rounding, index entries by projection, the price table applied.

The measurement itself (what the write path writes, reads and prints) belongs to ``make bench``.
"""

from __future__ import annotations

import pytest

from bench import cost_model
from bench.cost_model import (
    PRICES,
    IndexSpec,
    Usage,
    assumed_duration_ms,
    batch_records,
    bill,
    gb_months,
    index_entry,
    index_share,
    read_units,
    sqs_requests,
    table_indexes,
    write_units,
)
from local.stack.dynamodb_limits import item_size
from local.stack.template import Template

MILLION = 1_000_000


@pytest.mark.parametrize(
    ("size", "units"), [(0, 1), (1, 1), (1023, 1), (1024, 1), (1025, 2), (2048, 2), (2049, 3), (400 * 1024, 400)]
)
def test_a_write_is_billed_per_started_kilobyte(size: int, units: int) -> None:
    assert write_units(size) == units


@pytest.mark.parametrize(("size", "units"), [(None, 1), (1, 1), (4096, 1), (4097, 2), (8192, 2), (8193, 3)])
def test_a_consistent_read_is_billed_per_started_4_kb(size: int | None, units: int) -> None:
    assert read_units(size) == units
    assert read_units(size, consistent=False) == units / 2


@pytest.mark.parametrize(("size", "requests"), [(0, 1), (65_536, 1), (65_537, 2), (200_000, 4)])
def test_sqs_bills_each_64_kb_chunk_as_a_request(size: int, requests: int) -> None:
    assert sqs_requests(size) == requests


def _log_item(body_bytes: int) -> dict[str, dict[str, str]]:
    return {
        "pk": {"S": "acct_a#3"},
        "sk": {"S": "1732104000000#log_0193"},
        "status_pk": {"S": "acct_a#3#success"},
        "model": {"S": "openai/gpt-4o"},
        "user_agent": {"S": "x" * body_bytes},
    }


TABLE_KEYS = ("pk", "sk")


def test_projection_all_copies_the_item_and_keys_only_its_keys() -> None:
    item = _log_item(1500)  # 1.6 KB: two write units on the table
    keys = {"pk", "sk", "status_pk"}

    everything = index_entry(item, IndexSpec("by_status", ("status_pk", "sk"), "ALL"), TABLE_KEYS)
    keys_only = index_entry(item, IndexSpec("by_status", ("status_pk", "sk"), "KEYS_ONLY"), TABLE_KEYS)
    included = index_entry(item, IndexSpec("by_status", ("status_pk", "sk"), "INCLUDE", ("model",)), TABLE_KEYS)

    assert everything == item
    assert keys_only is not None and set(keys_only) == keys
    assert included is not None and set(included) == keys | {"model"}
    assert write_units(item_size(everything)) == 2
    assert write_units(item_size(keys_only)) == 1
    # Keys: 2+8, 2+22, 9+16; model: 5+13.
    assert item_size(keys_only) == 59
    assert item_size(included) == 59 + 18


def test_an_item_without_the_index_key_makes_no_entry() -> None:
    item = _log_item(10)
    del item["status_pk"]

    assert index_entry(item, IndexSpec("by_status", ("status_pk", "sk"), "ALL"), TABLE_KEYS) is None


def test_indexes_and_projections_come_from_the_template() -> None:
    template = Template(
        {
            "Resources": {
                "Logs": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {
                        "KeySchema": [{"AttributeName": "pk"}, {"AttributeName": "sk"}],
                        "GlobalSecondaryIndexes": [
                            {
                                "IndexName": "by_cost",
                                "KeySchema": [{"AttributeName": "cost_pk"}, {"AttributeName": "cost_sk"}],
                                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["model"]},
                            },
                            {
                                "IndexName": "by_status",
                                "KeySchema": [{"AttributeName": "status_pk"}, {"AttributeName": "sk"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"},
                            },
                        ],
                    },
                }
            }
        }
    )

    assert table_indexes(template, "Logs") == [
        IndexSpec("by_cost", ("cost_pk", "cost_sk"), "INCLUDE", ("model",)),
        IndexSpec("by_status", ("status_pk", "sk"), "KEYS_ONLY"),
    ]


def test_batches_hold_what_the_reference_traffic_brings_in_a_window() -> None:
    # A million logs a day: 11.6 a second.
    assert cost_model.REFERENCE_LOGS_PER_DAY == MILLION
    assert batch_records(10, 1) == 10  # the SQS batch fills within its window
    assert batch_records(1000, 1) == 12  # a stream window collects 12 records
    assert batch_records(1000, 0) == 1


def test_the_price_table_applied_to_a_small_example() -> None:
    # A log of 1,000 bytes with four ALL index entries, a 500-byte content item, 5 rollup writes and reads,
    # 90 days of logs (3 GB-months per GB), 30 of content; 1.2 SQS requests; 0.2 invocations of 0.1 GB-s.
    table_bytes, content_bytes = 1_000 + 100, 500 + 100
    usage = Usage(
        wru_table=1,
        wru_indexes=4,
        wru_content=1,
        wru_rollups=5,
        rru_rollups=5,
        gb_months_table=gb_months(table_bytes, 90),
        gb_months_indexes=gb_months(4 * table_bytes, 90),
        gb_months_content=gb_months(content_bytes, 30),
        gb_months_pitr=gb_months(table_bytes, 90),
        sqs_requests=1.2,
        lambda_invocations=0.2,
        lambda_gb_seconds=0.1,
    )

    per_million = {name: usd * MILLION for name, usd in bill(usage).items()}

    assert per_million["dynamodb_writes"] == pytest.approx(11 * 0.625)
    assert per_million["dynamodb_reads"] == pytest.approx(5 * 0.125)
    # Per million logs: 5.5e9 bytes (table and indexes) for 3 months, 0.6e9 (content) for one; GB = 2^30.
    assert per_million["storage"] == pytest.approx(17.1e9 / 2**30 * 0.25)
    assert per_million["backups"] == pytest.approx(3.3e9 / 2**30 * 0.20)
    assert per_million["sqs"] == pytest.approx(1.2 * 0.40)
    assert per_million["lambda"] == pytest.approx(0.2 * 0.20 + 0.1 * MILLION * 0.0000133334)
    assert per_million["s3_requests"] == per_million["logs"] == 0
    assert per_million["total"] == pytest.approx(sum(v for name, v in per_million.items() if name != "total"))
    assert per_million["total"] == pytest.approx(6.875 + 0.625 + 3.9815 + 0.6147 + 0.48 + 1.3733, abs=1e-3)
    assert index_share(usage) * MILLION == pytest.approx(4 * 0.625 + 13.2e9 / 2**30 * 0.25)


def test_prices_are_the_listed_ones() -> None:
    assert PRICES["dynamodb_write_request"].usd * MILLION == pytest.approx(0.625)
    assert PRICES["dynamodb_read_request"].usd * MILLION == pytest.approx(0.125)
    assert PRICES["s3_put"].usd * 1000 == pytest.approx(0.005)
    assert PRICES["sqs_request"].usd * MILLION == pytest.approx(0.40)
    assert PRICES["lambda_request"].usd * MILLION == pytest.approx(0.20)


def test_an_assumed_duration_grows_with_calls_and_with_less_memory() -> None:
    function = "IngestFunction"
    base = assumed_duration_ms(function, 10, {"dynamodb": 11}, 512)

    assert assumed_duration_ms(function, 10, {"dynamodb": 12}, 512) == base + cost_model.CALL_MS["dynamodb"]
    assert assumed_duration_ms(function, 10, {"dynamodb": 11, "s3": 1}, 512) == base + cost_model.CALL_MS["s3"]
    # Half the memory, half the CPU: the Python part takes twice as long, the round trips the same.
    python_ms = base - 11 * cost_model.CALL_MS["dynamodb"]
    assert assumed_duration_ms(function, 10, {"dynamodb": 11}, 256) == pytest.approx(base + python_ms, abs=1)
    assert float(base).is_integer()
