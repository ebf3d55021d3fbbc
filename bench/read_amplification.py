"""Items DynamoDB reads for a selective list request, through the real list handler, on moto in process.

Definitions (bench/read_amplification.md explains the choice):

- ``list_selective_read_amplification``: items read by every DynamoDB call of ONE ``status=error``
  request over the 30 days (``limit=100``: the exact-total COUNT queries plus the page queries) ÷ the
  logs the filter matches. The COUNT reads every match once, so 1.0 is the floor for an exact total;
  the budget (≤ 2) holds only if the status index reads matching items instead of filtering all logs.
- ``list_page_read_amplification``: items read by the page queries alone ÷ logs on the page.
- ``list_full_walk_read_amplification``: items read by all the requests that walk the whole filtered
  set with ``offset`` paging ÷ the logs it matches (every page recounts the total).
- ``list_filter_expression_baseline_amplification``: a design without the index, counting the same range
  on the base table with a FilterExpression ``status = error`` ÷ the logs it matches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bench.dataset import ACCOUNT_ID, DAY_MS, Dataset, api_event, build_dataset, loaded_stack
from bench.dynamo_tally import DynamoTally, tally
from local.emulator.lambda_runtime import FunctionRegistry
from local.stack.provision import Stack
from request_logs.config import get_settings
from request_logs.domain.timeutil import now_ms
from request_logs.store import keys
from request_logs.store.dynamo import dynamodb

LIST_PATH = "/api/account/request-logs"
PAGE_LIMIT = 100
DAYS = 30
ERROR_RATE = 0.02
SEED = 2026


def _iso_date(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).date().isoformat()


class _ListClient:
    """Calls the list handler with the events API Gateway would send, counting its DynamoDB reads."""

    def __init__(self, stack: Stack, dataset: Dataset) -> None:
        self.stack = stack
        self.functions = FunctionRegistry(stack.template)
        # Bare dates: start_date is that midnight, end_date includes its whole day (the spec's contract).
        self.range = [("start_date", _iso_date(dataset.start_ms)), ("end_date", _iso_date(dataset.end_ms - DAY_MS))]

    def get(self, offset: int) -> tuple[dict[str, Any], DynamoTally]:
        query = [("status", "error"), ("limit", str(PAGE_LIMIT)), ("offset", str(offset)), *self.range]
        function, event = api_event(self.stack.template, LIST_PATH, query)
        with tally(dynamodb()) as reads:
            response = self.functions.invoke(function, event)
        if response["statusCode"] != 200:
            raise RuntimeError(f"list request failed: {response['statusCode']} {response['body']}")
        body: dict[str, Any] = json.loads(response["body"])
        return body, reads


def _filter_expression_count(dataset: Dataset, current_ms: int) -> tuple[int, DynamoTally]:
    """The contrast design: COUNT ``status = error`` over the base table's range, filtering every log."""
    sk_low, sk_high = keys.sk_range(dataset.start_ms, dataset.end_ms)
    total = 0
    with tally(dynamodb()) as reads:
        for shard in range(keys.LOG_SHARDS):
            params: dict[str, Any] = {
                "TableName": get_settings().logs_table,
                "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
                "FilterExpression": "#status = :error AND expires_at > :now",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":p": {"S": keys.log_pk(ACCOUNT_ID, shard)},
                    ":lo": {"S": sk_low},
                    ":hi": {"S": sk_high},
                    ":error": {"S": "error"},
                    ":now": {"N": str(current_ms // 1000)},
                },
                "Select": "COUNT",
            }
            while True:
                response = dynamodb().query(**params)
                total += int(response["Count"])
                if "LastEvaluatedKey" not in response:
                    break
                params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return total, reads


def _walk(client: _ListClient) -> tuple[dict[str, Any], DynamoTally, list[str], list[DynamoTally]]:
    """Every page of the filtered set, by ``offset``: (first page, its reads, ids walked, reads per request)."""
    first_page, first_reads = client.get(offset=0)
    walked = [log["id"] for log in first_page["logs"]]
    reads = [first_reads]
    page = first_page
    while page["pagination"]["hasMore"]:
        page, page_reads = client.get(offset=len(walked))
        walked.extend(log["id"] for log in page["logs"])
        reads.append(page_reads)
    return first_page, first_reads, walked, reads


def measure_read_amplification(log_count: int) -> dict[str, float]:
    # Day-aligned, so the same seed gives the same logs (and the same figures) on every run.
    end_ms = now_ms() // DAY_MS * DAY_MS
    dataset = build_dataset(log_count, days=DAYS, end_ms=end_ms, error_rate=ERROR_RATE, seed=SEED)
    # Brute force is the oracle: what the filter must select, newest first (the sort key's order).
    newest_first = sorted(dataset.logs, key=lambda log: (log.created_ms, log.id), reverse=True)
    matching_ids = [log.id for log in newest_first if log.status == "error"]
    matching = len(matching_ids)

    with loaded_stack(dataset) as stack:
        first_page, first_reads, walked, walk_reads = _walk(_ListClient(stack, dataset))
        if first_page["pagination"]["total"] != matching:
            raise RuntimeError(f"total {first_page['pagination']['total']} != {matching} matching logs")
        if walked != matching_ids:
            raise RuntimeError("walking the pages did not return exactly the matching logs, newest first")

        baseline_count, baseline_reads = _filter_expression_count(dataset, now_ms())
        if baseline_count != matching:
            raise RuntimeError(f"the baseline counted {baseline_count} != {matching} matching logs")

    page_logs = len(first_page["logs"])
    walk_items_read = sum(reads.items_read for reads in walk_reads)
    return {
        "list_selective_read_amplification": first_reads.items_read / matching,
        "list_page_read_amplification": first_reads.page_items_read / page_logs,
        "list_full_walk_read_amplification": walk_items_read / matching,
        "list_filter_expression_baseline_amplification": baseline_reads.items_read / matching,
        "data_logs": len(dataset.logs),
        "data_days": DAYS,
        "data_matching_logs": matching,
        "list_request_items_read": first_reads.items_read,
        "list_request_count_items_read": first_reads.count_items_read,
        "list_request_page_items_read": first_reads.page_items_read,
        "list_request_dynamodb_calls": first_reads.calls,
        "list_page_logs": page_logs,
        "list_full_walk_requests": len(walk_reads),
        "list_full_walk_items_read": walk_items_read,
        "list_filter_expression_baseline_items_read": baseline_reads.items_read,
    }


def report_values(figures: Mapping[str, float]) -> dict[str, str]:
    """What bench/read_amplification.md says besides the figures themselves."""
    return {
        "error_rate": f"{ERROR_RATE:.0%}",
        "page_limit": str(PAGE_LIMIT),
        "log_shards": str(keys.LOG_SHARDS),
        "items_read_per_returned_log": f"{figures['list_request_items_read'] / figures['list_page_logs']:.2f}",
    }
