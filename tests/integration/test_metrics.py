"""What an operator alarms on reaches CloudWatch as metrics: each function's EMF documents, as
Powertools prints them, hold the counts of what the invocation did, checked against what was sent."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import boto3
import pytest

from local.emulator.stream_reader import StreamReader
from local.stack.provision import Stack
from request_logs.config import get_settings
from tests.conftest import ApiCaller, Delivery, Ingestor, sample_messages

PATH = "/api/account/request-logs"
NAMESPACE = "RequestLogs"  # template.yaml's POWERTOOLS_METRICS_NAMESPACE


class EmfCapture:
    """The EMF documents the functions printed: metric name → summed value, and their dimensions."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def documents(self) -> list[dict[str, Any]]:
        found = []
        for line in self.capsys.readouterr().out.splitlines():
            if line.startswith('{"_aws"'):
                found.append(json.loads(line))
        return found

    def totals(self) -> tuple[Counter[str], list[dict[str, Any]]]:
        documents = self.documents()
        totals: Counter[str] = Counter()
        for document in documents:
            (directive,) = document["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == NAMESPACE
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                totals[metric["Name"]] += sum(value) if isinstance(value, list) else value  # Powertools: lists
        return totals, documents


@pytest.fixture
def emf(stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> EmfCapture:
    # The local runtime turns metrics off (nothing reads them there); deployed functions emit them.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()
    return EmfCapture(capsys)


def test_ingest_counts_stored_duplicate_and_malformed_messages(clock, ingest: Ingestor, emf: EmfCapture) -> None:
    messages = sample_messages(count=12, days=2, seed=71)
    malformed = [json.dumps({**messages[0], "latency_ms": -1}), "not json"]
    assert len(ingest.bodies([json.dumps(m) for m in messages[:8]] + malformed)) == 2
    assert ingest.messages(messages[5:]) == []  # 3 redelivered, 4 new

    totals, documents = emf.totals()

    assert len(documents) == 2  # one per invocation: a batch of 10 bodies, then one of 7
    stored = boto3.client("dynamodb").scan(TableName=get_settings().logs_table, Select="COUNT")["Count"]
    assert totals["LogsStored"] == len(messages) == stored
    assert totals["DuplicateMessages"] == 3
    assert totals["MalformedMessages"] == 2
    assert totals["MessagesLeftForRedelivery"] == 0
    assert totals["ContentSpilledToS3"] == 0


def test_every_api_request_reports_the_items_it_read_by_route(clock, api: ApiCaller, ingest: Ingestor, emf) -> None:
    messages = sample_messages(count=30, days=3, seed=72)
    assert ingest.messages(messages) == []
    emf.documents()  # the ingest documents: not this test's subject

    listed = api.get(PATH, {"limit": 5})
    one = api.get(f"{PATH}/{listed.body['logs'][0]['id']}")
    bad = api.get(PATH, {"limit": 500})
    assert (listed.status, one.status, bad.status) == (200, 200, 400)

    documents = emf.documents()
    reads = [(d["route"], d["DynamoDBItemsRead"], d["DynamoDBCalls"]) for d in documents]
    assert [route for route, _, _ in reads] == [PATH, f"{PATH}/{{id}}", PATH]
    assert all(d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["route", "service"]] for d in documents)
    # The list read its page (one log more than it returns) and counted the total.
    assert reads[0][1] >= [5 + 1] and reads[0][2] >= [1]
    assert reads[1][1:] == ([1.0], [1.0])  # one GetItem, one item
    assert reads[2][1:] == ([0.0], [0.0])  # refused before any read


def test_the_aggregator_reports_records_items_written_and_its_lag(
    clock, stack: Stack, ingest: Ingestor, deliver: Delivery, emf: EmfCapture
) -> None:
    messages = sample_messages(count=6, days=1, seed=73)
    assert ingest.messages(messages) == []
    (records,) = StreamReader(stack.stream_arns["RequestLogsTable"]).poll(limit=100).values()
    emf.documents()

    poison = {**records[0], "eventName": "MODIFY"}
    result = deliver([*records, poison])

    totals, documents = emf.totals()
    assert len(documents) == 1
    assert totals["RecordsAggregated"] == len(messages)
    assert totals["PoisonRecords"] == 1
    assert totals["RecordsFailed"] == len(result["batchItemFailures"]) == 1
    assert totals["RollupItemsWritten"] > 0
    assert totals["RollupVersionConflicts"] == 0
    assert "OldestRecordAgeMs" in documents[0]
