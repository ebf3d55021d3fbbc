"""DynamoDB limits moto does not enforce, for the tests and benchmarks that hold our writes to them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ITEM_LIMIT_BYTES = 400 * 1024


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value in attribute-value form ('Item sizes and formats')."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(inner)
    if kind == "N":
        # About one byte per two significant digits, plus one; exponents do not count.
        number = Decimal(inner)
        digits = "".join(map(str, number.as_tuple().digits)).strip("0") or "0"
        return 1 + (len(digits) + 1) // 2 + (1 if number < 0 else 0)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + attribute_size(element) + 1 for name, element in inner.items())
    if kind == "L":
        return 3 + sum(attribute_size(element) + 1 for element in inner)
    if kind in ("SS", "NS", "BS"):
        # A set counts its elements like a list, element type by element type.
        return 3 + sum(attribute_size({kind[0]: element}) + 1 for element in inner)
    raise ValueError(f"no size rule here for attribute type {kind}")


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item (``{"name": {"S": ...}, ...}``): attribute names plus values."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())
