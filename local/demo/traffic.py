"""Demo traffic: an account's gateway messages over the last days, the malformed ones a faulty gateway
could send, and the way they reach the ingest queue (SendMessageBatch, with back-pressure)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import boto3

from local.demo.accounts import DemoAccount
from local.demo.messages import generate_messages
from local.emulator.sqs_poller import SqsPoller

DAY_MS = 86_400_000
SEND_BATCH = 10  # SendMessageBatch takes at most 10 entries
_WAITING_BATCHES_PER_POLLER = 2  # see enqueue()
_BACK_PRESSURE_POLL_SECONDS = 0.005


def demo_messages(account: DemoAccount, count: int, *, days: int, seed: int) -> list[dict[str, Any]]:
    """Realistic gateway messages of ``account``, spread over the last ``days`` days up to now."""
    now_ms = time.time_ns() // 1_000_000
    return generate_messages(account.account_id, account.keys, count, now_ms - days * DAY_MS, now_ms, seed=seed)


def malformed_bodies(template_message: dict[str, Any]) -> list[str]:
    """Messages a faulty gateway could send; each must end in the DLQ with its reason logged."""
    misspelled = {**template_message, "request_id": "req_malformed_field", "tokens_in": 12}
    inconsistent = {**template_message, "request_id": "req_malformed_status", "status": "error", "error": None}
    return ["{this is not JSON", json.dumps(misspelled), json.dumps(inconsistent)]


def send_message_batch(sqs: Any, queue_url: str, bodies: Sequence[str]) -> None:
    """One SendMessageBatch of at most ``SEND_BATCH`` bodies; raises if SQS refused any of them."""
    response = sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(position), "MessageBody": body} for position, body in enumerate(bodies)],
    )
    if response.get("Failed"):
        raise RuntimeError(f"SendMessageBatch failed: {response['Failed']}")


def send_messages(sqs: Any, queue_url: str, bodies: Sequence[str]) -> None:
    """``bodies`` to the queue in order, ``SEND_BATCH`` per call, without waiting for a consumer."""
    for start in range(0, len(bodies), SEND_BATCH):
        send_message_batch(sqs, queue_url, bodies[start : start + SEND_BATCH])


def enqueue(poller: SqsPoller, bodies: Sequence[str], *, on_progress: Callable[[int], None] | None = None) -> None:
    """Send ``bodies`` to the poller's queue with SendMessageBatch, with back-pressure.

    moto's SQS scans the whole queue on every send and receive, so a backlog of thousands makes every
    call slow. Like a producer that waits for its consumer, this keeps a couple of batches per poller
    waiting. It counts what the pollers handled from the poller's own tally rather than by asking SQS:
    a request to moto competes for the same CPU as the ingest it waits for.
    """
    sqs = boto3.client("sqs")
    max_waiting = _WAITING_BATCHES_PER_POLLER * poller.source.batch_size * poller.concurrency
    before = poller.stats
    handled_before = before.succeeded + before.failed
    for start in range(0, len(bodies), SEND_BATCH):
        while True:
            now = poller.stats
            # A failed delivery counts as handled: the message comes back, but never blocks the sender.
            if start - (now.succeeded + now.failed - handled_before) < max_waiting:
                break
            time.sleep(_BACK_PRESSURE_POLL_SECONDS)
        chunk = bodies[start : start + SEND_BATCH]
        send_message_batch(sqs, poller.source.queue_url, chunk)
        if on_progress is not None:
            on_progress(start + len(chunk))
