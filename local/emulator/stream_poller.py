"""Feed a DynamoDB stream to a function the way Lambda's DynamoDB event-source mapping does.

Everything that shapes delivery comes from the function's ``DynamoDB`` event in ``template.yaml``:
``BatchSize``, ``MaximumBatchingWindowInSeconds``, ``FilterCriteria``, ``FunctionResponseTypes``,
``BisectBatchOnFunctionError``, ``MaximumRetryAttempts``, ``MaximumRecordAgeInSeconds`` and
``DestinationConfig.OnFailure``. Per shard, in sequence order, one batch at a time, as Lambda does:

- records the filter criteria do not match are dropped before batching: the function never sees them
  and the checkpoint moves past them (a TTL deletion, a REMOVE, never reaches the aggregator);
- a batch holds up to ``BatchSize`` records and waits at most the batching window to fill;
- the function succeeds: the checkpoint moves past the batch. With ``ReportBatchItemFailures`` a
  response listing ``batchItemFailures`` checkpoints before the lowest failed sequence number and retries
  from there; an empty or unknown ``itemIdentifier`` fails the whole batch, as Lambda reads it;
- the function raises: with ``BisectBatchOnFunctionError`` the batch is split in halves, retried first
  half first; splitting consumes no retry (Lambda's rule), so a bad record ends up alone;
- a batch retried ``MaximumRetryAttempts`` times, or whose records are older than
  ``MaximumRecordAgeInSeconds``, is described on the on-failure destination (the JSON document Lambda
  sends: ``requestContext``, ``responseContext``, ``DDBStreamBatchInfo``) and the shard moves on.

Local shortcuts: Lambda re-reads from the checkpoint after a failure, so a retried batch may take in
newer records; here it retries the records of the batch in hand. Retries follow each other at once,
not after Lambda's backoff. Shards are processed one after the other rather than in parallel, which is
one of the schedules ``ParallelizationFactor`` 1 allows (parent shards before children, as the reader
discovers them).

The thread polls every ``poll_interval_seconds`` (Lambda polls a shard four times a second), so with the
template's one-second window a new log reaches the stats within about 1.5 s. ``drain()`` delivers
everything currently in the stream at once, ignoring the window: tests and ``make run`` use it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from local.emulator.events import dynamodb_stream_event
from local.emulator.lambda_runtime import FunctionRegistry
from local.emulator.stream_reader import StreamReader
from local.stack.provision import Stack

logger = logging.getLogger(__name__)

# Lambda's defaults for a DynamoDB event source when the template leaves a property out.
_DEFAULT_BATCH_SIZE = 100
_DEFAULT_BATCHING_WINDOW_SECONDS = 0
_INFINITE = -1  # MaximumRetryAttempts / MaximumRecordAgeInSeconds: until the record leaves the stream


@dataclass(frozen=True)
class StreamEventSource:
    """One DynamoDB event of a function in the template, resolved against the provisioned stack."""

    function: str
    function_arn: str
    stream_arn: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool
    bisect_on_function_error: bool
    maximum_retry_attempts: int | None  # None: retried until the record expires
    maximum_record_age_seconds: int | None  # None: until the stream's 24 h retention
    filter_patterns: tuple[dict[str, Any], ...] = ()  # none: every record; several: any may match
    on_failure_queue_url: str | None = None

    def accepts(self, record: dict[str, Any]) -> bool:
        """Whether Lambda's filter criteria let the record through to the function."""
        return not self.filter_patterns or any(_matches(pattern, record) for pattern in self.filter_patterns)


def _check_pattern(pattern: Any, where: str) -> None:
    """Patterns may nest objects and list exact values; Lambda's operators are not emulated: fail loudly."""
    if not isinstance(pattern, dict):
        raise ValueError(f"{where}: a filter pattern is a JSON object, not {pattern!r}")
    for name, expected in pattern.items():
        if isinstance(expected, dict):
            _check_pattern(expected, f"{where}.{name}")
        elif not isinstance(expected, list) or any(isinstance(option, (dict, list)) for option in expected):
            # Dropping records the real filter would pass (or the reverse) would change what the function sees.
            raise NotImplementedError(f"{where}.{name}: only lists of exact values are supported, not {expected!r}")


def _matches(pattern: dict[str, Any], value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    for name, expected in pattern.items():
        if isinstance(expected, dict):
            if not _matches(expected, value.get(name)):
                return False
        elif name not in value or value[name] not in expected:
            return False
    return True


def stream_event_sources(stack: Stack) -> list[StreamEventSource]:
    """Every enabled DynamoDB event source of the template."""
    template = stack.template
    queue_by_arn = {stack.arns[f"{logical}.Arn"]: logical for logical in stack.queue_urls}
    sources = []
    for function, properties in template.event_sources("DynamoDB"):
        if not properties.get("Enabled", True):
            continue
        if properties.get("StartingPosition") != "TRIM_HORIZON":
            # The reader starts every shard at its oldest record.
            raise NotImplementedError(f"{function}: only StartingPosition TRIM_HORIZON is emulated")
        patterns = []
        for position, entry in enumerate(properties.get("FilterCriteria", {}).get("Filters", [])):
            pattern = json.loads(entry["Pattern"])
            _check_pattern(pattern, f"{function} filter {position}")
            patterns.append(pattern)
        on_failure = properties.get("DestinationConfig", {}).get("OnFailure")
        queue_url = None
        if on_failure is not None:
            if on_failure.get("Type", "SQS") != "SQS":
                raise NotImplementedError(f"{function}: only SQS on-failure destinations are emulated")
            queue_url = stack.queue_urls[queue_by_arn[str(template.resolve(on_failure["Destination"], stack.arns))]]
        retries = int(properties.get("MaximumRetryAttempts", _INFINITE))
        max_age = int(properties.get("MaximumRecordAgeInSeconds", _INFINITE))
        sources.append(
            StreamEventSource(
                function=function,
                function_arn=str(template.resolve({"Fn::GetAtt": [function, "Arn"]}, stack.arns)),
                stream_arn=str(template.resolve(properties["Stream"], stack.arns)),
                batch_size=int(properties.get("BatchSize", _DEFAULT_BATCH_SIZE)),
                batching_window_seconds=float(
                    properties.get("MaximumBatchingWindowInSeconds", _DEFAULT_BATCHING_WINDOW_SECONDS)
                ),
                report_batch_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
                bisect_on_function_error=bool(properties.get("BisectBatchOnFunctionError", False)),
                maximum_retry_attempts=None if retries == _INFINITE else retries,
                maximum_record_age_seconds=None if max_age == _INFINITE else max_age,
                filter_patterns=tuple(patterns),
                on_failure_queue_url=queue_url,
            )
        )
    return sources


@dataclass
class StreamPollerStats:
    """What the poller did so far, in records unless the name says otherwise."""

    invocations: int = 0
    delivered: int = 0  # checkpointed after the function took them
    filtered: int = 0  # dropped by the filter criteria, never delivered
    discarded: int = 0  # described on the on-failure destination
    bisections: int = 0  # batches split after a function error
    retries: int = 0  # batches retried (partial failure, invalid response, or unsplittable error)


@dataclass
class _Attempt:
    """Records on their way through retries, with what the on-failure document reports about them."""

    records: list[dict[str, Any]]
    retries: int = 0  # consumed from MaximumRetryAttempts (splits consume none)
    invocations: int = 0  # invocations that included these records: approximateInvokeCount
    function_error: bool = False  # the last of those invocations raised


@dataclass(frozen=True)
class _Outcome:
    succeeded: bool
    function_error: bool = False
    failed_from: int | None = None  # position of the lowest failed record of a partial failure


class StreamPoller:
    """A thread that reads a stream's shards and invokes one function, like a stream event-source mapping."""

    def __init__(
        self,
        source: StreamEventSource,
        functions: FunctionRegistry,
        *,
        poll_interval_seconds: float = 0.25,
    ) -> None:
        self.source = source
        self._functions = functions
        self._poll_interval_seconds = poll_interval_seconds
        self._reader = StreamReader(source.stream_arn)
        self._sqs = boto3.client("sqs")
        # Filtered records per shard, in order, and when the oldest of them was first seen (batching window).
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._waiting_since: dict[str, float] = {}
        # One delivery at a time: the thread and drain() never interleave, so a shard has one batch in flight.
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._stats = StreamPollerStats()

    @property
    def stats(self) -> StreamPollerStats:
        """A copy of the counters (read without the delivery lock, which a long batch holds)."""
        return StreamPollerStats(**vars(self._stats))

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"stream-poller-{self.source.function}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the batch in hand and stop."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hold deliveries while the caller reads or writes the tables the thread touches.

        moto's in-process tables are plain dicts: a scan while another thread writes can raise
        "dictionary changed size during iteration". Tests that read in process while the thread runs
        take turns with it through this.
        """
        with self._lock:
            yield

    def drain(self) -> None:
        """Deliver every record now in the stream, without waiting for batching windows; return when done."""
        with self._lock:
            while self._read() or any(self._pending.values()):
                for shard_id in list(self._pending):
                    while self._pending[shard_id]:
                        self._deliver_next(shard_id)

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        while not self._stopping.wait(self._poll_interval_seconds):
            try:
                with self._lock:
                    self._read()
                    for shard_id in list(self._pending):
                        while self._due(shard_id):
                            self._deliver_next(shard_id)
            except Exception:
                if self._stopping.is_set():
                    # Stopping: undelivered records stay in the stream, nothing to report.
                    logger.debug("polling the stream of %s failed while stopping", self.source.function, exc_info=True)
                    return
                # Lambda's pollers survive transient errors; undelivered records stay pending and come again.
                logger.exception("polling the stream of %s failed; retrying", self.source.function)

    def _read(self) -> int:
        """Take new records from every shard into the pending lists; returns how many arrived."""
        arrived = 0
        for shard_id, records in self._reader.poll(self.source.batch_size).items():
            arrived += len(records)
            accepted = [record for record in records if self.source.accepts(record)]
            self._stats.filtered += len(records) - len(accepted)
            pending = self._pending.setdefault(shard_id, [])
            if accepted and not pending:
                self._waiting_since[shard_id] = time.monotonic()
            pending.extend(accepted)
        return arrived

    def _due(self, shard_id: str) -> bool:
        pending = self._pending[shard_id]
        if not pending:
            return False
        waited = time.monotonic() - self._waiting_since[shard_id]
        return len(pending) >= self.source.batch_size or waited >= self.source.batching_window_seconds

    def _deliver_next(self, shard_id: str) -> None:
        """One batch from the head of the shard, through retries, until it is checkpointed or discarded."""
        pending = self._pending[shard_id]
        batch = pending[: self.source.batch_size]
        self._deliver(shard_id, batch)
        # Only now: if delivery itself failed (say the destination was unreachable) the batch comes again.
        del pending[: len(batch)]
        self._waiting_since[shard_id] = time.monotonic()

    # ------------------------------------------------------------------ one batch
    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        work = deque([_Attempt(records)])
        while work:
            attempt = work.popleft()
            expired = self._expired_prefix(attempt.records)
            if expired:
                aged = _Attempt(expired, attempt.retries, attempt.invocations, attempt.function_error)
                self._discard(shard_id, aged, "RecordAgeExceeded")
                attempt.records = attempt.records[len(expired) :]
                if not attempt.records:
                    continue
            outcome = self._invoke(attempt.records)
            attempt.invocations += 1
            attempt.function_error = outcome.function_error
            if outcome.succeeded:
                self._stats.delivered += len(attempt.records)
                continue
            if outcome.function_error and self.source.bisect_on_function_error and len(attempt.records) > 1:
                half = len(attempt.records) // 2
                halves = [attempt.records[:half], attempt.records[half:]]
                work.extendleft(
                    _Attempt(part, attempt.retries, attempt.invocations, function_error=True)
                    for part in reversed(halves)
                )
                self._stats.bisections += 1
                continue
            # A partial failure checkpoints before the lowest failed record; the rest is retried.
            checkpointed = outcome.failed_from or 0
            self._stats.delivered += checkpointed
            remaining = _Attempt(
                attempt.records[checkpointed:], attempt.retries, attempt.invocations, attempt.function_error
            )
            limit = self.source.maximum_retry_attempts
            if limit is not None and attempt.retries >= limit:
                self._discard(shard_id, remaining, "RetryAttemptsExhausted")
                continue
            remaining.retries += 1
            self._stats.retries += 1
            work.appendleft(remaining)

    def _invoke(self, records: list[dict[str, Any]]) -> _Outcome:
        self._stats.invocations += 1
        try:
            response = self._functions.invoke(self.source.function, dynamodb_stream_event(records))
        except Exception:
            logger.exception("%s raised on a batch of %d stream records", self.source.function, len(records))
            return _Outcome(succeeded=False, function_error=True)
        if not self.source.report_batch_item_failures or not isinstance(response, dict):
            return _Outcome(succeeded=True)
        failures = response.get("batchItemFailures") or []
        if not failures:
            return _Outcome(succeeded=True)
        positions = {record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(records)}
        failed = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in positions:
                logger.warning(
                    "%s reported an invalid batch item failure %r: the whole batch fails", self.source.function, failure
                )
                return _Outcome(succeeded=False)
            failed.append(positions[identifier])
        return _Outcome(succeeded=False, failed_from=min(failed))

    def _expired_prefix(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The leading records older than MaximumRecordAgeInSeconds (a shard's records are in age order)."""
        max_age = self.source.maximum_record_age_seconds
        if max_age is None:
            return []
        now = time.time()
        count = 0
        while count < len(records) and now - _created_s(records[count]) > max_age:
            count += 1
        return records[:count]

    def _discard(self, shard_id: str, attempt: _Attempt, condition: str) -> None:
        """Describe the records on the on-failure destination, as Lambda does, and let the shard move on."""
        document = self._failure_document(shard_id, attempt, condition)
        batch = document["DDBStreamBatchInfo"]
        logger.warning(
            "%s: giving up on %d stream records %s..%s (%s)",
            self.source.function,
            batch["batchSize"],
            batch["startSequenceNumber"],
            batch["endSequenceNumber"],
            condition,
        )
        if self.source.on_failure_queue_url is not None:
            self._sqs.send_message(QueueUrl=self.source.on_failure_queue_url, MessageBody=json.dumps(document))
        self._stats.discarded += len(attempt.records)

    def _failure_document(self, shard_id: str, attempt: _Attempt, condition: str) -> dict[str, Any]:
        first, last = attempt.records[0], attempt.records[-1]
        response_context: dict[str, Any] = {}
        if attempt.invocations:
            response_context = {"statusCode": 200, "executedVersion": "$LATEST"}
            if attempt.function_error:
                response_context["functionError"] = "Unhandled"
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.source.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempt.invocations,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": _iso(time.time(), milliseconds=True),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(_created_s(first)),
                "approximateArrivalOfLastRecord": _iso(_created_s(last)),
                "batchSize": len(attempt.records),
                "streamArn": self.source.stream_arn,
            },
        }


def _created_s(record: dict[str, Any]) -> float:
    return float(record["dynamodb"]["ApproximateCreationDateTime"])


def _iso(epoch_s: float, *, milliseconds: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch_s, tz=UTC)
    return moment.isoformat(timespec="milliseconds" if milliseconds else "seconds").replace("+00:00", "Z")
