"""One gateway message → one log (and its content), exactly once per request id."""

from __future__ import annotations

from enum import StrEnum

from request_logs.domain.pricing import Cost, Prices, price_request
from request_logs.domain.timeutil import log_expiry_s, to_ms
from request_logs.messages import RequestCompleted
from request_logs.store import content as content_store
from request_logs.store import keys
from request_logs.store import logs as log_store
from request_logs.store.items import StoredLog


class IngestOutcome(StrEnum):
    WRITTEN = "written"
    DUPLICATE = "duplicate"


def stored_log_from(message: RequestCompleted) -> StoredLog:
    created_ms = to_ms(message.created_at)
    gateway_cost = (
        Cost(
            input=message.cost.input,
            output=message.cost.output,
            prices=Prices(message.cost.input_per_million, message.cost.output_per_million),
        )
        if message.cost is not None
        else None
    )
    priced = price_request(message.model, message.input_tokens, message.output_tokens, gateway_cost)
    cost = priced.cost
    return StoredLog(
        id=keys.make_log_id(message.account_id, message.request_id, created_ms),
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
        streaming=message.streaming,
        expires_at=log_expiry_s(created_ms),
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
        price_input_per_million=cost.prices.input_per_million if cost else None,
        price_output_per_million=cost.prices.output_per_million if cost else None,
        cost_source=priced.source.value,
        catalog_version=priced.catalog_version,
    )


def ingest(body: str) -> tuple[IngestOutcome, StoredLog]:
    """Validate and store one message. Raises pydantic.ValidationError for a malformed one.

    Content is written before the log: a crash in between leaves content that the redelivery rewrites
    identically, never a log whose content was skipped because the log already existed.
    """
    message = RequestCompleted.model_validate_json(body)
    log = stored_log_from(message)
    content_store.put_content(log.account_id, log.id, log.created_ms, message.request, message.response)
    try:
        log_store.put_log(log)
    except log_store.DuplicateLog:
        return IngestOutcome.DUPLICATE, log
    return IngestOutcome.WRITTEN, log
