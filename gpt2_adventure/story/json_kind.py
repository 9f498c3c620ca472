"""How a JSON value's type is named in error messages (saves, cards)."""

from __future__ import annotations

from typing import Any


def kind(value: Any) -> str:
    """``None`` -> "null", ``[]`` -> "a list", ``{}`` -> "an object", and so on."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"
