"""Each function's log lines name that function, as on Lambda, though the local runtime runs them all in
one process where their Powertools loggers share one formatter (``local.emulator.function_logs``)."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local.demo.event_fixtures import EVENTS_DIR, load_event
from local.emulator import function_logs
from local.emulator.lambda_runtime import FunctionRegistry, LambdaContext
from local.stack.provision import Stack
from request_logs.logic.authorize import Unauthorized
from request_logs.store.dynamo import dynamodb

INGEST = "IngestFunction"
AGGREGATOR = "StatsAggregatorFunction"
AUTHORIZER = "AuthorizerFunction"
MALFORMED = EVENTS_DIR / "sqs" / "ingest_malformed.json"
MISSING_KEY = EVENTS_DIR / "authorizer" / "missing.json"


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if no function had been invoked in this process yet (other tests may have): cold starts ahead."""
    monkeypatch.setattr(function_logs, "_INVOKED", set())


@contextmanager
def captured_lines(functions: FunctionRegistry, stack: Stack) -> Iterator[list[dict[str, Any]]]:
    """The JSON lines the functions' Powertools logger writes in the block (each function loaded first)."""
    for function in (INGEST, AGGREGATOR, AUTHORIZER):
        functions.handler(function)
    service = stack.function_environment()["POWERTOOLS_SERVICE_NAME"]
    handler = logging.getLogger(service).powertools_handler  # type: ignore[attr-defined]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        handler.setStream(previous)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def with_message(lines: list[dict[str, Any]], message: str) -> list[dict[str, Any]]:
    found = [line for line in lines if line["message"] == message]
    assert found, f"no line {message!r} among {[line['message'] for line in lines]}"
    return found


def authorize_without_key(functions: FunctionRegistry) -> None:
    with pytest.raises(Unauthorized):
        functions.invoke(AUTHORIZER, load_event(MISSING_KEY))


def assert_named(lines: list[dict[str, Any]], message: str, function: str) -> list[dict[str, Any]]:
    found = with_message(lines, message)
    for line in found:
        assert (line["function_name"], line["function_arn"]) == (
            function,
            LambdaContext(function).invoked_function_arn,
        ), line
    return found


def test_each_function_logs_under_its_own_name_arn_and_cold_start(
    functions: FunctionRegistry, stack: Stack, clock: Any, fresh_process: None
) -> None:
    with captured_lines(functions, stack) as lines:
        functions.invoke(INGEST, load_event(MALFORMED))
        functions.invoke(AGGREGATOR, {"Records": []})
        authorize_without_key(functions)
        functions.invoke(INGEST, load_event(MALFORMED))
        functions.invoke(AGGREGATOR, {"Records": []})

    ingest = assert_named(lines, "malformed ingest message", INGEST)
    aggregator = assert_named(lines, "aggregated", AGGREGATOR)
    authorizer = assert_named(lines, "request not authorized", AUTHORIZER)
    # Each function's first invocation is its own cold start, not only the process's first one.
    assert [line["cold_start"] for line in ingest] == [True, False]
    assert [line["cold_start"] for line in aggregator] == [True, False]
    assert [line["cold_start"] for line in authorizer] == [True]
    # Each invocation's own request id; the authorizer's line carries no other function's.
    assert len({line["function_request_id"] for line in ingest + aggregator + authorizer}) == 5


def test_a_function_invoked_while_another_runs_does_not_rename_its_lines(
    functions: FunctionRegistry, stack: Stack, clock: Any
) -> None:
    """What make run does all the time: the stream poller's thread runs the aggregator while the SQS
    poller's thread starts an ingest invocation. The aggregator's line, written after ingest started,
    still names the aggregator."""
    aggregator_inside = threading.Event()
    ingest_done = threading.Event()
    errors: list[BaseException] = []

    def hold_the_aggregator(**_: Any) -> None:
        if threading.current_thread().name == "aggregator" and not aggregator_inside.is_set():
            aggregator_inside.set()  # its keys are set: the invocation has started
            ingest_done.wait(30)

    def aggregate() -> None:
        try:
            functions.invoke(AGGREGATOR, load_event(EVENTS_DIR / "stream" / "insert_batch.json"))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    dynamodb().meta.events.register("before-call.dynamodb", hold_the_aggregator)
    with captured_lines(functions, stack) as lines:
        aggregator = threading.Thread(target=aggregate, name="aggregator")
        aggregator.start()
        assert aggregator_inside.wait(30)
        functions.invoke(INGEST, load_event(MALFORMED))
        ingest_done.set()
        aggregator.join(30)

    assert not errors
    assert_named(lines, "malformed ingest message", INGEST)
    assert_named(lines, "aggregated", AGGREGATOR)
