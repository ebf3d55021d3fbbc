"""DynamoDB writes of the stats aggregator per rollup item, batch by batch, through the real handler.

The logs table's stream is read from the start with the local stream reader, in batches of the
template's ``BatchSize`` (1,000), and each batch is handed to ``StatsAggregatorFunction`` exactly as the
event-source mapping delivers it (``dynamodb_stream_event``: the records Lambda puts in ``Records``).
Every batch holds INSERT records only, as the mapping's filter lets through.

Definitions (bench/aggregator_writes.md explains them):

- items a batch touches: the distinct rollup items its logs belong to, computed here from the records'
  images by brute force (hour and day buckets by integer division × all, model, provider, api key),
  not by the package's own ``rollup_keys_for``;
- writes: every item write the handler's DynamoDB client requests while it handles the batch
  (``bench.dynamo_tally``: PutItem, UpdateItem, DeleteItem, each request of a BatchWriteItem, each action
  of a TransactWriteItems), failed conditional writes included;
- ``aggregator_writes_per_rollup_item``: writes to rollup items ÷ items touched, in the worst batch.
  Besides them the aggregator writes each account's progress item (the ingest stamps it has applied, for
  the freshness horizon) once per batch: counted apart, in ``aggregator_progress_writes``, and in
  ``aggregator_writes_per_record``.

Each batch must also write exactly the items it touches and each progress item once, or the run stops: a
figure from an aggregator that writes the wrong items would be worthless.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.dynamo_tally import tally
from local.emulator.events import dynamodb_stream_event
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_reader import StreamReader
from local.stack.provision import Stack
from request_logs.domain.filters import attributed_value
from request_logs.domain.rollups import metadata_dimension
from request_logs.domain.timeutil import format_ms
from request_logs.store import keys
from request_logs.store.dynamo import dynamodb
from request_logs.store.items import INDEXED_METADATA_ATTRIBUTE

# (granularity, bucket size in ms) and the image attribute of each dimension ("" for all).
_BUCKETS = (("quarter", 900_000), ("hour", 3_600_000), ("day", 86_400_000))
_DIMENSIONS = (("all", None), ("model", "model"), ("provider", "provider"), ("api_key", "api_key_id"))
# Quarter-hour items are kept for "all" only (decisions §27).
_ITEMS_PER_LOG = [
    (granularity, size, dimension, attribute)
    for granularity, size in _BUCKETS
    for dimension, attribute in _DIMENSIONS
    if granularity != "quarter" or dimension == "all"
]


@dataclass(frozen=True)
class BatchFigures:
    records: int
    items_touched: int  # rollup items
    writes: int  # to rollup items
    progress_writes: int  # to the accounts' progress items (freshness marks)
    write_calls: int  # every write call, progress included


def _attribution_items(image: dict[str, Any]) -> list[tuple[str, str]]:
    """(dimension, stored value) of a log's attribution rollups: its user, and each metadata key indexed
    when it was written, a log without one under the absent value (decisions §29)."""
    metadata = image.get("metadata", {}).get("M", {})
    pairs = [("user", attributed_value(image["user"]["S"] if "user" in image else None))]
    for key in (entry["S"] for entry in image.get(INDEXED_METADATA_ATTRIBUTE, {}).get("L", [])):
        value = metadata[key]["S"] if key in metadata else None
        pairs.append((metadata_dimension(key), attributed_value(value)))
    return pairs


def touched_items(records: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(pk, sk) of every rollup item the records' logs belong to."""
    touched = set()
    for record in records:
        image = record["dynamodb"]["NewImage"]
        account, created = image["account_id"]["S"], int(image["created_ms"]["N"])
        for granularity, size, dimension, attribute in _ITEMS_PER_LOG:
            value = image[attribute]["S"] if attribute else ""
            touched.add(
                (keys.stats_pk(account, granularity, dimension), keys.stats_sk(created - created % size, value))
            )
        for granularity, size in _BUCKETS[1:]:  # hours and days
            for dimension, value in _attribution_items(image):
                bucket = created - created % size
                touched.add((keys.stats_pk(account, granularity, dimension), keys.stats_sk(bucket, value)))
    return touched


def progress_items(records: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(pk, sk) of the progress item of every account whose logs carry an ingest stamp: the aggregator
    records the stamps it applied there, once per account and batch."""
    return {
        (keys.progress_pk(record["dynamodb"]["NewImage"]["account_id"]["S"]), keys.PROGRESS_SK)
        for record in records
        if "ingested_ms" in record["dynamodb"]["NewImage"]
    }


def _deliver(functions: FunctionRegistry, aggregator: str, records: list[dict[str, Any]]) -> BatchFigures:
    if any(record["eventName"] != "INSERT" for record in records):
        raise RuntimeError("the stream holds records other than INSERTs, which the event filter would drop")
    touched, progress = touched_items(records), progress_items(records)
    with tally(dynamodb()) as counted:
        response = functions.invoke(aggregator, dynamodb_stream_event(records))
    if response["batchItemFailures"]:
        raise RuntimeError(f"the aggregator reported failures: {response['batchItemFailures'][:3]}")
    rollup_writes = {item: writes for item, writes in counted.written.items() if item not in progress}
    if set(rollup_writes) != touched:
        raise RuntimeError(
            f"the batch touches {len(touched)} rollup items but the aggregator wrote {len(rollup_writes)} "
            f"({len(set(rollup_writes) - touched)} of them others)"
        )
    if any(counted.written[item] != 1 for item in progress):
        raise RuntimeError(f"the batch's {len(progress)} progress items were not written once each")
    writes = sum(rollup_writes.values())
    return BatchFigures(len(records), len(touched), writes, counted.writes - writes, counted.write_calls)


def aggregate_stream(stack: Stack, functions: FunctionRegistry) -> list[BatchFigures]:
    """The whole stream through the aggregator, batch by batch (one moto shard: batches in stream order)."""
    ((aggregator, properties),) = stack.template.event_sources("DynamoDB")
    batch_size = int(properties["BatchSize"])
    reader = StreamReader(stack.stream_arns["RequestLogsTable"])
    batches: list[BatchFigures] = []
    while polled := reader.poll(limit=batch_size):
        batches.extend(_deliver(functions, aggregator, records) for records in polled.values())
    return batches


def aggregation_figures(batches: list[BatchFigures]) -> dict[str, float]:
    records = sum(batch.records for batch in batches)
    writes = sum(batch.writes for batch in batches)
    progress_writes = sum(batch.progress_writes for batch in batches)
    touched = [batch.items_touched for batch in batches]
    return {
        "aggregator_writes_per_rollup_item": max(batch.writes / batch.items_touched for batch in batches),
        "aggregator_writes_per_rollup_item_overall": writes / sum(touched),
        "aggregator_writes_per_record": (writes + progress_writes) / records,
        "aggregator_progress_writes": progress_writes,
        "aggregator_batches": len(batches),
        "aggregator_batch_records_min": min(batch.records for batch in batches),
        "aggregator_batch_records_max": max(batch.records for batch in batches),
        "aggregator_items_touched_per_batch_median": statistics.median(touched),
        "aggregator_items_touched_per_batch_min": min(touched),
        "aggregator_items_touched_per_batch_max": max(touched),
        "aggregator_write_requests": writes,
        "aggregator_write_calls": sum(batch.write_calls for batch in batches),
    }


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/aggregator_writes.md says besides the figures themselves."""
    # The aggregator runs over the stats data set, which bench.stats_reads builds (and which imports this module).
    from bench.stats_reads import ERROR_RATE, NOW_TIME_OF_DAY_MS

    batch_records = figures["aggregator_batch_records_max"]
    return {
        "now_time_of_day": format_ms(NOW_TIME_OF_DAY_MS)[11:-1],  # the time of day, without the Z
        "error_rate": f"{ERROR_RATE:.0%}",
        "batch_days": f"{batch_records * figures['stats_data_days'] / figures['stats_data_logs']:.1f}",
        "writes_per_batch_if_per_record": f"{len(_ITEMS_PER_LOG) * batch_records:,.0f}",
        "log_shards": str(keys.LOG_SHARDS),
    }
