"""One gateway message → one log (and its content), exactly once per request id."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from request_logs.domain.freshness import is_late
from request_logs.domain.ids import make_log_id
from request_logs.domain.log import RequestLog
from request_logs.domain.pricing import Cost, Prices, TokenUsage, price_request
from request_logs.domain.timeutil import now_ms, to_ms
from request_logs.models.messages import RequestCompleted
from request_logs.store import api_keys as account_store
from request_logs.store import content as content_store
from request_logs.store import logs as log_store
from request_logs.store import stats as stats_store


class IngestOutcome(StrEnum):
    WRITTEN = "written"
    DUPLICATE = "duplicate"


def request_log_from(message: RequestCompleted) -> RequestLog:
    created_ms = to_ms(message.created_at)
    usage = TokenUsage(
        input=message.input_tokens,
        output=message.output_tokens,
        cached_input=message.cached_input_tokens,
        cache_creation_input=message.cache_creation_input_tokens,
        reasoning=message.reasoning_tokens,
    )
    priced = price_request(message.model, usage, gateway_cost_of(message))
    cost = priced.cost
    prices = cost.prices if cost else None
    return RequestLog(
        id=make_log_id(message.account_id, message.request_id, created_ms),
        account_id=message.account_id,
        request_id=message.request_id,
        api_key_id=message.api_key_id,
        api_key_prefix=message.api_key_prefix,
        model=message.model,
        provider=message.provider,
        endpoint=message.endpoint,
        method=message.method,
        status=message.status,
        status_code=message.status_code,
        created_ms=created_ms,
        completed_ms=to_ms(message.completed_at),
        latency_ms=message.latency_ms,
        input_tokens=message.input_tokens,
        output_tokens=message.output_tokens,
        cached_input_tokens=message.cached_input_tokens,
        cache_creation_input_tokens=message.cache_creation_input_tokens,
        reasoning_tokens=message.reasoning_tokens,
        streaming=message.streaming,
        ttft_ms=message.time_to_first_token_ms,
        error_type=message.error.type if message.error else None,
        error_code=message.error.code if message.error else None,
        error_message=message.error.message if message.error else None,
        user_agent=message.user_agent,
        ip_address=message.ip_address,
        gateway_type=message.resolution.gateway_type if message.resolution else None,
        gateway_id=message.resolution.gateway_id if message.resolution else None,
        connection_id=message.resolution.connection_id if message.resolution else None,
        cost_input=cost.input if cost else None,
        cost_output=cost.output if cost else None,
        cost_cached_input=_part(cost.cached_input, usage.cached_input) if cost else None,
        cost_cache_creation_input=_part(cost.cache_creation_input, usage.cache_creation_input) if cost else None,
        cost_reasoning=_part(cost.reasoning, usage.reasoning) if cost else None,
        price_input_per_million=prices.input_per_million if prices else None,
        price_output_per_million=prices.output_per_million if prices else None,
        price_cached_input_per_million=prices.cached_input_per_million if prices else None,
        price_cache_creation_input_per_million=prices.cache_creation_input_per_million if prices else None,
        price_reasoning_per_million=prices.reasoning_per_million if prices else None,
        price_tier_above_input_tokens=prices.above_input_tokens if prices else None,
        cost_source=priced.source.value,
        catalog_version=priced.catalog_version,
        user=message.user,
        metadata=dict(message.metadata) if message.metadata else None,
    )


def gateway_cost_of(message: RequestCompleted) -> Cost | None:
    """The cost the gateway reported, by component; a component it did not split off is zero (the
    contract requires it for every component the message has tokens of)."""
    reported = message.cost
    if reported is None:
        return None
    return Cost(
        input=reported.input,
        output=reported.output,
        prices=Prices(
            reported.input_per_million,
            reported.output_per_million,
            cached_input_per_million=reported.cached_input_per_million,
            cache_creation_input_per_million=reported.cache_creation_input_per_million,
            reasoning_per_million=reported.reasoning_per_million,
        ),
        cached_input=reported.cached_input or Decimal(0),
        cache_creation_input=reported.cache_creation_input or Decimal(0),
        reasoning=reported.reasoning or Decimal(0),
    )


def _part(cost: Decimal, tokens: int) -> Decimal | None:
    """A component's cost as stored: None for a log without such tokens (nothing to show, a smaller item)."""
    return cost if tokens or cost else None


@dataclass(frozen=True)
class PreparedMessage:
    """A validated message: the log to write and its bodies."""

    log: RequestLog
    request: dict[str, Any]
    response: dict[str, Any] | None


def prepare(body: str) -> PreparedMessage:
    """Validate and price one message. Raises pydantic.ValidationError for a malformed one."""
    message = RequestCompleted.model_validate_json(body)
    return PreparedMessage(request_log_from(message), message.request, message.response)


@dataclass
class BatchOutcome:
    ingested_ms: int  # the batch's stamp
    outcomes: dict[str, IngestOutcome] = field(default_factory=dict)  # message id → outcome
    failed: list[str] = field(default_factory=list)  # message ids to report as batch item failures
    spilled_to_s3: int = 0  # messages with a body too big for an item, stored in S3


def write_batch(messages: list[tuple[str, PreparedMessage]]) -> BatchOutcome:
    """Store a batch of validated messages: late logs announced, every content (batched), then each log once.

    One stamp for the whole batch, taken before anything is written: each log is then written within the
    function's timeout of its stamp, which the freshness horizon relies on (``domain/freshness``). A
    redelivered duplicate keeps the stamp of its first write (its conditional put fails).

    Late logs are announced before any log is written: the account's late marks are raised first, so a
    reader never trusts rollups that may lack a late log already in the table. An account whose marks
    could not be raised has its late messages reported failed; the redelivery stamps and announces them
    again.

    Content before log: a crash in between leaves content that the redelivery rewrites identically,
    never a log whose content was skipped because the log already existed. A message whose content or
    log could not be written is reported failed, and SQS redelivers it.
    """
    stamp = now_ms()
    result = BatchOutcome(ingested_ms=stamp)
    stamped = [(message_id, replace(p.log, ingested_ms=stamp), p) for message_id, p in messages]
    unannounced = _announce_late_logs([log for _, log, _ in stamped], stamp)
    slots, unread = _indexed_metadata_keys({log.account_id for _, log, _ in stamped})
    writable = []
    for message_id, log, prepared in stamped:
        if log.id in unannounced or log.account_id in unread:
            result.failed.append(message_id)
        else:
            writable.append((message_id, log, prepared))
    contents = [
        content_store.prepare_content(log.account_id, log.id, log.created_ms, p.request, p.response)
        for _, log, p in writable
    ]
    unwritten = content_store.put_contents(contents)
    result.spilled_to_s3 = sum(1 for c in contents if c.request_s3_key or c.response_s3_key)
    for message_id, log, _ in writable:
        if log.id in unwritten:
            result.failed.append(message_id)
            continue
        try:
            log_store.put_log(log, slots.get(log.account_id))
            result.outcomes[message_id] = IngestOutcome.WRITTEN
        except log_store.DuplicateLog:
            result.outcomes[message_id] = IngestOutcome.DUPLICATE
        except (BotoCoreError, ClientError):
            result.failed.append(message_id)
    return result


def _indexed_metadata_keys(account_ids: set[str]) -> tuple[dict[str, dict[str, int]], set[str]]:
    """Each account's indexed metadata keys and their slots, read once per account and batch; and the
    accounts that could not be read (their messages are left for redelivery: a log written without its
    slot attributes would be missing from a metadata filter until a backfill).

    Read per batch rather than cached: a key declared by the admin applies to every batch that starts
    after it, so the backfill only has to wait one function timeout (``INGEST_SETTLE_SECONDS`` in the
    admin) for the batches that read the account before, for one small read per account and batch.
    """
    slots: dict[str, dict[str, int]] = {}
    unread: set[str] = set()
    for account_id in sorted(account_ids):
        try:
            account = account_store.get_account(account_id)
        except (BotoCoreError, ClientError):
            unread.add(account_id)
            continue
        slots[account_id] = dict(account.metadata_slots) if account is not None else {}
    return slots, unread


def _announce_late_logs(logs: list[RequestLog], stamp: int) -> set[str]:
    """Raise each account's late marks for its late logs; returns the ids of late logs left unannounced."""
    late_by_account: dict[str, list[RequestLog]] = defaultdict(list)
    for log in logs:
        if is_late(log.created_ms, stamp):
            late_by_account[log.account_id].append(log)
    unannounced: set[str] = set()
    for account_id, late in late_by_account.items():
        try:
            stats_store.raise_late_marks(account_id, min(log.created_ms for log in late), stamp)
        except (BotoCoreError, ClientError):
            unannounced.update(log.id for log in late)
    return unannounced


def ingest(body: str) -> tuple[IngestOutcome, RequestLog]:
    """Validate and store one message (a batch of one); raises if it could not be written.

    Returns the log as this call wrote it (a duplicate's stored log keeps the stamp of its first write).
    """
    prepared = prepare(body)
    result = write_batch([("single", prepared)])
    if result.failed:
        raise RuntimeError(f"could not store log {prepared.log.id}")
    return result.outcomes["single"], replace(prepared.log, ingested_ms=result.ingested_ms)
