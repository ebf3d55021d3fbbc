"""Feed an SQS queue to a function the way Lambda's SQS event-source mapping does.

Everything that shapes delivery comes from ``template.yaml``: the event's ``BatchSize``,
``MaximumBatchingWindowInSeconds`` and ``FunctionResponseTypes``, and the queue's ``RedrivePolicy``.
Per batch, as Lambda does:

- long-poll for up to ``BatchSize`` messages, waiting up to the batching window to fill the batch;
- invoke the function once with an SQS event built from the real ``MessageId``, ``ReceiptHandle`` and
  ``ApproximateReceiveCount``;
- delete what succeeded. With ``ReportBatchItemFailures`` the messages the function lists in
  ``batchItemFailures`` stay on the queue (an identifier that is not in the batch fails the whole
  batch); if the function raises, the whole batch stays.

A message that stays becomes visible again and is retried; once it has been received
``maxReceiveCount`` times, SQS moves it to the dead-letter queue at its next receive. moto's SQS does
that move itself, as SQS does, so the poller never copies messages to the DLQ by hand.

Local shortcut: Lambda leaves a failed message invisible for the rest of the queue's
``VisibilityTimeout`` (180 s here) before retrying it; locally the poller sets its visibility to
``RETRY_DELAY_SECONDS`` (1 s) with ``ChangeMessageVisibility``, so retries and the way to the DLQ take
seconds, not minutes. Likewise a long poll waits ``LONG_POLL_SECONDS`` rather than Lambda's 20 s, so
that ``stop()`` returns promptly.

``concurrency`` poller threads receive concurrently, as Lambda runs several pollers per queue.
Invocations of one function still take turns (one warm execution environment, see
``local.emulator.lambda_runtime``), so threads only overlap SQS round trips with invocations
(``local.run`` says why it uses one).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import boto3

from local.emulator.events import sqs_event, sqs_record
from local.emulator.lambda_runtime import FunctionRegistry
from local.stack.provision import Stack

logger = logging.getLogger(__name__)

# Local shortcuts (module docstring): a failed message is retried after this long, not the queue's
# VisibilityTimeout, and a long poll lasts this long, not Lambda's 20 s, so that stop() is prompt.
RETRY_DELAY_SECONDS = 1
LONG_POLL_SECONDS = 1
# Lambda's defaults for an SQS event source when the template leaves a property out.
_DEFAULT_BATCH_SIZE = 10
_DEFAULT_BATCHING_WINDOW_SECONDS = 0
# SQS hands out at most this many messages per ReceiveMessage and takes as many per batch call.
_SQS_MAX_PER_CALL = 10
# While the batching window is open and the queue is momentarily empty, look again this often.
_WINDOW_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class SqsEventSource:
    """One SQS event of a function in the template, with the queue settings that shape its retries."""

    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool
    max_receive_count: int | None  # from the queue's RedrivePolicy; None: retried until retention ends
    dead_letter_queue_arn: str | None


def sqs_event_sources(stack: Stack) -> list[SqsEventSource]:
    """Every enabled SQS event source of the template, resolved against the provisioned stack."""
    template = stack.template
    queue_by_arn = {stack.arns[f"{logical}.Arn"]: logical for logical in stack.queue_urls}
    sources = []
    for function, properties in template.event_sources("SQS"):
        if not properties.get("Enabled", True):
            continue
        if "FilterCriteria" in properties:
            # Lambda deletes the messages a filter drops: ignoring the filter here would ingest them.
            raise NotImplementedError(f"{function}: the local SQS poller does not implement FilterCriteria")
        queue_arn = str(template.resolve(properties["Queue"], stack.arns))
        queue = queue_by_arn[queue_arn]
        queue_properties = template.resolve(template.resources[queue].get("Properties", {}), stack.arns)
        redrive = queue_properties.get("RedrivePolicy")
        sources.append(
            SqsEventSource(
                function=function,
                queue_url=stack.queue_urls[queue],
                queue_arn=queue_arn,
                batch_size=int(properties.get("BatchSize", _DEFAULT_BATCH_SIZE)),
                batching_window_seconds=float(
                    properties.get("MaximumBatchingWindowInSeconds", _DEFAULT_BATCHING_WINDOW_SECONDS)
                ),
                report_batch_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
                max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
                dead_letter_queue_arn=str(redrive["deadLetterTargetArn"]) if redrive else None,
            )
        )
    return sources


@dataclass
class PollerStats:
    """What the pollers did so far (messages, not batches, except ``invocations``)."""

    invocations: int = 0
    succeeded: int = 0  # processed and deleted
    failed: int = 0  # failed deliveries, each left on the queue for a retry or the DLQ


class SqsPoller:
    """Threads that poll one queue and invoke one function, like an SQS event-source mapping."""

    def __init__(
        self,
        source: SqsEventSource,
        functions: FunctionRegistry,
        *,
        concurrency: int = 1,
    ) -> None:
        self.source = source
        self._functions = functions
        self.concurrency = concurrency
        # Low-level clients are thread-safe; creating one is not (boto3's default session), so once here.
        self._sqs = boto3.client("sqs")
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._stats = PollerStats()
        self._stats_lock = threading.Lock()

    @property
    def stats(self) -> PollerStats:
        with self._stats_lock:
            return PollerStats(**vars(self._stats))

    def start(self) -> None:
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._run, name=f"sqs-poller-{self.source.function}-{number}", daemon=True)
            for number in range(self.concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Finish the batches in hand and stop (at most one long poll later)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join()
        self._threads = []

    def wait_until_drained(self, timeout: float, poll_interval: float = 0.1) -> None:
        """Return once no message is waiting, in flight or delayed; raise TimeoutError after ``timeout``.

        A message in a batch being processed is in flight until it is deleted or released, and a
        failed one stays on the queue until it succeeds or reaches the DLQ, so empty means settled.
        """
        deadline = time.monotonic() + timeout
        counts = (
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        )
        while True:
            attributes = self._sqs.get_queue_attributes(QueueUrl=self.source.queue_url, AttributeNames=list(counts))[
                "Attributes"
            ]
            remaining = {name: int(attributes.get(name, 0)) for name in counts}
            if not any(remaining.values()):
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.source.queue_url} not drained after {timeout} s: {remaining}")
            time.sleep(poll_interval)

    # ------------------------------------------------------------------ one poller thread
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                messages = self._receive_batch()
                if messages:
                    self._process(messages)
            except Exception:
                if self._stopping.is_set():
                    # Stopping: the messages in hand reappear on the queue, nothing to report.
                    logger.debug("polling %s failed while stopping", self.source.queue_url, exc_info=True)
                    return
                # Lambda's pollers survive transient SQS errors; so does this one (messages just reappear).
                logger.exception("polling %s failed; retrying", self.source.queue_url)
                self._stopping.wait(LONG_POLL_SECONDS)

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self.source.queue_url,
            MaxNumberOfMessages=min(count, _SQS_MAX_PER_CALL),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _receive_batch(self) -> list[dict[str, Any]]:
        """Up to ``BatchSize`` messages: long-poll for the first, then fill until the window closes."""
        batch = self._receive(self.source.batch_size, LONG_POLL_SECONDS)
        if not batch:
            return []
        window_closes = time.monotonic() + self.source.batching_window_seconds
        while len(batch) < self.source.batch_size and time.monotonic() < window_closes:
            more = self._receive(self.source.batch_size - len(batch), 0)
            if more:
                batch.extend(more)
            else:
                time.sleep(min(_WINDOW_POLL_SECONDS, max(0.0, window_closes - time.monotonic())))
        return batch

    def _process(self, messages: list[dict[str, Any]]) -> None:
        records = [
            sqs_record(
                message["Body"],
                queue_arn=self.source.queue_arn,
                message_id=message["MessageId"],
                receive_count=int(message["Attributes"]["ApproximateReceiveCount"]),
                receipt_handle=message["ReceiptHandle"],
            )
            for message in messages
        ]
        try:
            result = self._functions.invoke(self.source.function, sqs_event(records))
        except Exception as exc:
            logger.exception("%s raised on a batch of %d messages", self.source.function, len(messages))
            failed = {message["MessageId"]: f"the function raised {type(exc).__name__}: {exc}" for message in messages}
        else:
            failed = self._reported_failures(result, messages)
        succeeded = [message for message in messages if message["MessageId"] not in failed]
        retried = [message for message in messages if message["MessageId"] in failed]
        self._delete(succeeded)
        for message in retried:
            self._log_failure(message, failed[message["MessageId"]])
        self._release(retried)
        with self._stats_lock:
            self._stats.invocations += 1
            self._stats.succeeded += len(succeeded)
            self._stats.failed += len(retried)

    def _reported_failures(self, result: Any, messages: list[dict[str, Any]]) -> dict[str, str]:
        """Message id → reason for the messages that stay on the queue, as Lambda reads the response."""
        if not self.source.report_batch_item_failures or not isinstance(result, dict):
            return {}
        items = result.get("batchItemFailures") or []
        batch_ids = {message["MessageId"] for message in messages}
        reported = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in items]
        if any(identifier not in batch_ids for identifier in reported):
            reason = f"the response's batchItemFailures name messages not in the batch: {reported}"
            return dict.fromkeys(batch_ids, reason)
        return dict.fromkeys(
            (str(identifier) for identifier in reported),
            f"{self.source.function} reported it in batchItemFailures, its log says why",
        )

    def _log_failure(self, message: dict[str, Any], reason: str) -> None:
        receives = int(message["Attributes"]["ApproximateReceiveCount"])
        limit = self.source.max_receive_count
        if limit is not None and receives >= limit:
            outcome = f"received {receives} of {limit} times: SQS moves it to {self.source.dead_letter_queue_arn}"
        else:
            of_limit = f" of {limit}" if limit is not None else ""
            outcome = f"receive {receives}{of_limit}: retried in {RETRY_DELAY_SECONDS} s"
        logger.warning("message %s failed: %s; %s", message["MessageId"], reason, outcome)

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), _SQS_MAX_PER_CALL):
            chunk = messages[start : start + _SQS_MAX_PER_CALL]
            response = self._sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[
                    {"Id": str(position), "ReceiptHandle": message["ReceiptHandle"]}
                    for position, message in enumerate(chunk)
                ],
            )
            for failure in response.get("Failed", []):
                # A message whose visibility ran out mid-batch was handed out again: it will be
                # processed twice, which is why ingest is idempotent.
                logger.warning("could not delete message %s: %s", chunk[int(failure["Id"])]["MessageId"], failure)

    def _release(self, messages: list[dict[str, Any]]) -> None:
        """Make failed messages visible again after the local retry delay (see the module docstring)."""
        for start in range(0, len(messages), _SQS_MAX_PER_CALL):
            chunk = messages[start : start + _SQS_MAX_PER_CALL]
            self._sqs.change_message_visibility_batch(
                QueueUrl=self.source.queue_url,
                Entries=[
                    {
                        "Id": str(position),
                        "ReceiptHandle": message["ReceiptHandle"],
                        "VisibilityTimeout": RETRY_DELAY_SECONDS,
                    }
                    for position, message in enumerate(chunk)
                ],
            )
