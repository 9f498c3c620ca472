"""Placeholders in seed text: ``{name}`` is a blank the player fills in, ``{{``/``}}`` are braces.

Only simple ``{identifier}`` placeholders exist: no format specs, no attributes, no nesting.
Filling is a single pass, so a value that itself contains ``{x}`` stays as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Alternatives are tried left to right: escaped braces first, then a placeholder, then a
# lone brace (an error in a seed).
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")


class BraceError(ValueError):
    """A ``{`` or ``}`` that is neither a placeholder nor doubled."""

    def __init__(self, text: str, position: int):
        self.position = position
        snippet = text[max(0, position - 12):position + 13]
        super().__init__(f"a lone {text[position]!r} near {snippet!r}")


def is_identifier(name: str) -> bool:
    return _IDENTIFIER.fullmatch(name) is not None


def placeholder_names(template: str) -> list[str]:
    """The placeholders a template uses, in order of first use. Raises BraceError."""
    names: list[str] = []
    for match in _TOKEN.finditer(template):
        token = match.group()
        if token in ("{", "}"):
            raise BraceError(template, match.start())
        name = match.group(1)
        if name and name not in names:
            names.append(name)
    return names


def fill(template: str, values: Mapping[str, str]) -> str:
    """Put ``values`` into ``template`` literally; ``{{``/``}}`` become ``{``/``}``.

    Raises KeyError for a placeholder without a value and BraceError for a lone brace.
    """

    def replace(match: re.Match[str]) -> str:
        token = match.group()
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = match.group(1)
        if name is None:
            raise BraceError(template, match.start())
        if name not in values:
            raise KeyError(f"no value for placeholder {{{name}}}")
        return str(values[name])

    return _TOKEN.sub(replace, template)


def escape(text: str) -> str:
    """Plain text as a template that fills back to exactly ``text``."""
    return text.replace("{", "{{").replace("}", "}}")
