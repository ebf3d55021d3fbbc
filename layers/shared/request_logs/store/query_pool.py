"""The threads a request's parallel DynamoDB queries run on (shards of a list, days of a value index).

One pool per execution environment, created on first use: boto3 clients are thread-safe, and a Lambda
environment serves one request at a time, so eight threads bound the concurrency of every read path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_PARALLEL_QUERIES = 8


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=MAX_PARALLEL_QUERIES, thread_name_prefix="query")


def parallel_map(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``function`` over ``items`` on the pool, results in the items' order (the first error raised)."""
    return list(_pool().map(function, items))
