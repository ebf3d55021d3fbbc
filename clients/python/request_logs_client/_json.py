"""JSON with exact money: numbers with a fraction are read as ``Decimal`` and written back digit for digit.

The API writes costs as exact decimal numbers (the server never rounds them through a float); reading
them with ``json.loads`` alone would. Writing goes through a small recursive encoder because the
standard library can only write a ``Decimal`` as a string or through a float.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def loads(data: str | bytes) -> Any:
    return json.loads(data, parse_float=Decimal)


def dumps(value: Any) -> str:
    """Compact JSON; a ``Decimal`` as a bare number in positional notation, a ``float`` as ``json`` writes it."""
    if isinstance(value, str):
        return _encode_string(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return format(value, "f")
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_encode_string(str(key))}:{dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    return json.dumps(value)
