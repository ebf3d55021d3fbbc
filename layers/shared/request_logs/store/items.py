"""Stored-item models: what a log or its content looks like in DynamoDB, and nothing else.

These never reach a response unmapped (the API layer has its own models). The stream aggregator reads
the same ``StoredLog`` back from a stream image, so the field names here are a storage contract.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from request_logs.store import keys


@dataclass(frozen=True)
class StoredLog:
    id: str
    account_id: str
    request_id: str
    api_key_id: str
    api_key_prefix: str
    model: str
    provider: str
    endpoint: str
    method: str
    status: str
    status_code: int
    created_ms: int
    completed_ms: int
    latency_ms: int
    input_tokens: int
    output_tokens: int
    streaming: bool
    expires_at: int
    ttft_ms: int | None = None
    error_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    user_agent: str | None = None
    ip_address: str | None = None
    gateway_type: int | None = None
    gateway_id: str | None = None
    connection_id: str | None = None
    cost_input: Decimal | None = None
    cost_output: Decimal | None = None
    price_input_per_million: Decimal | None = None
    price_output_per_million: Decimal | None = None
    cost_source: str = "unpriced"
    catalog_version: str | None = None
    # When ingest wrote it (epoch ms), taken before the write: what the freshness horizon is built on.
    # None on logs written before ingest stamped them.
    ingested_ms: int | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost_total(self) -> Decimal | None:
        if self.cost_input is None or self.cost_output is None:
            return None
        return self.cost_input + self.cost_output

    @property
    def shard(self) -> int:
        key = keys.parse_log_id(self.id)
        assert key is not None, "stored logs always carry a well-formed id"
        return key.shard

    def to_item(self) -> dict[str, Any]:
        """The item with its table and index keys; None-valued attributes are left out."""
        item = {name: value for name, value in asdict(self).items() if value is not None}
        shard = self.shard
        item.update(
            pk=keys.log_pk(self.account_id, shard),
            sk=keys.log_sk(self.created_ms, self.id),
            status_pk=keys.index_pk(self.account_id, shard, self.status),
            model_pk=keys.index_pk(self.account_id, shard, self.model),
            provider_pk=keys.index_pk(self.account_id, shard, self.provider),
            api_key_pk=keys.index_pk(self.account_id, shard, self.api_key_id),
        )
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StoredLog:
        fields = cls.__dataclass_fields__
        values = {name: value for name, value in item.items() if name in fields}
        for name in (
            "status_code",
            "created_ms",
            "completed_ms",
            "latency_ms",
            "input_tokens",
            "output_tokens",
            "expires_at",
            "ttft_ms",
            "gateway_type",
            "ingested_ms",
        ):
            if values.get(name) is not None:
                values[name] = int(values[name])
        return cls(**values)


@dataclass(frozen=True)
class StoredContent:
    """Compressed request and response bodies, inline or as S3 object keys when too big for an item."""

    account_id: str
    log_id: str
    expires_at: int
    request_gz: bytes | None = None
    response_gz: bytes | None = None
    request_s3_key: str | None = None
    response_s3_key: str | None = None
    has_response: bool = True

    def to_item(self) -> dict[str, Any]:
        item = {name: value for name, value in asdict(self).items() if value is not None}
        item["pk"] = keys.content_pk(self.account_id, self.log_id)
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StoredContent:
        fields = cls.__dataclass_fields__
        values = {name: value for name, value in item.items() if name in fields}
        for name in ("request_gz", "response_gz"):
            if values.get(name) is not None:
                values[name] = bytes(values[name])
        values["expires_at"] = int(values["expires_at"])
        return cls(**values)
