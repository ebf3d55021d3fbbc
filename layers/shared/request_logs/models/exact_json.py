"""Money as exact JSON numbers: the digits of the Decimal, never a float's approximation of them.

Powertools turns a response model into JSON in two steps, pydantic's JSON-mode dump and then its
serializer, and a Decimal can only cross the first as a string or a float. A float keeps 15 to 17
significant digits (and writes small values as ``7.7e-05``); costs the gateway reports may have more, and
sums of many costs do. So a money field crosses as a string carrying a marker and the Decimal's digits,
and the resolver's serializer writes those strings back as bare numbers. The marker holds a random nonce
drawn per execution environment and a control character JSON must escape, so no string a client or the
gateway sent can be mistaken for one.
"""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from typing import Any

_MARKER = f"\x1emoney-{os.urandom(8).hex()}:"  # os.urandom: the secrets module costs a cold start more
# How the marker looks inside a JSON string once json.dumps has escaped it.
_ENCODED_MARKER = json.dumps(_MARKER)[1:-1]
_MARKED_NUMBER = re.compile('"' + re.escape(_ENCODED_MARKER) + r'(-?[0-9]+(?:\.[0-9]+)?)"')


def mark_number(value: Decimal) -> str:
    """The string that ``dumps`` writes as the bare number ``value``, in positional notation."""
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    return _MARKER + format(value, "f")


def dumps(body: Any) -> str:
    """The resolver's serializer: compact JSON, UTF-8 as is, marked money as exact numbers."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return _MARKED_NUMBER.sub(r"\1", text)
