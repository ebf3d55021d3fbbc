"""Boto3 clients and DynamoDB (de)serialisation, created lazily and once per execution environment.

Clients are built on first use rather than at import: a handler that rejects bad input never pays for
one, and the cold-start benchmark sees the import cost alone.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def dynamodb() -> Any:
    import boto3

    return boto3.client("dynamodb")


@lru_cache(maxsize=1)
def s3() -> Any:
    import boto3

    return boto3.client("s3")


@lru_cache(maxsize=1)
def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


@lru_cache(maxsize=1)
def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    serialize = _serializer().serialize
    return {name: serialize(value) for name, value in item.items()}


def from_attributes(item: dict[str, Any]) -> dict[str, Any]:
    deserialize = _deserializer().deserialize
    return {name: deserialize(value) for name, value in item.items()}


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials between sessions)."""
    dynamodb.cache_clear()
    s3.cache_clear()
