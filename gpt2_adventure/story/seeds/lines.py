"""Which line of a seed file defines a key, so an error can point at ``file:line``.

tomllib reports positions only for syntax errors, not for values, so this scans the text:
it follows ``[table]`` and ``[[array]]`` headers, skips the inside of multi-line strings, and
maps every key path (``("world", 1, "keys")`` for ``keys`` in the second ``[[world]]``) to the
line that defines it. Good enough for hand-written and generated seeds; unknown paths fall
back to their nearest known parent, then to line 1.
"""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|' + r"'[^']*'"
_PART = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(rf"^\s*({_DOTTED})\s*=")
_SPLIT = re.compile(rf"\s*({_PART})\s*(?:\.|$)")


def _parts(dotted: str) -> tuple[str, ...]:
    out = []
    for match in _SPLIT.finditer(dotted):
        part = match.group(1)
        if part[0] in "\"'":
            part = part[1:-1]
        out.append(part)
    return tuple(out)


class KeyLines:
    """Key path -> line number (1-based) for one TOML text."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self._where: dict[KeyPath, int] = {}
        self._scan()

    def _mark(self, path: KeyPath, number: int) -> None:
        self._where.setdefault(path, number)

    def _scan(self) -> None:
        table: KeyPath = ()
        counts: dict[KeyPath, int] = {}
        open_quote = ""  # the delimiter of the multi-line string we are inside, if any
        for number, line in enumerate(self.lines, start=1):
            if open_quote:
                if line.count(open_quote) % 2:
                    open_quote = ""
                continue
            if line.lstrip().startswith("#"):
                continue
            rest = line
            header = _HEADER.match(line)
            key = None if header else _KEY.match(line)
            if header:
                name = _parts(header.group(2))
                if header.group(1) == "[[":
                    counts[name] = counts.get(name, -1) + 1
                    table = (*name, counts[name])
                else:
                    table = name
                self._mark(table, number)
                continue
            if key:
                parts = _parts(key.group(1))
                for size in range(1, len(parts) + 1):
                    self._mark((*table, *parts[:size]), number)
                rest = line[key.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2:
                    open_quote = quote
                    break

    def line_of(self, path: KeyPath) -> int:
        """The line defining ``path``, else its nearest defined parent, else 1."""
        while path:
            if path in self._where:
                return self._where[path]
            path = path[:-1]
        return 1

    def line_of_text(self, needle: str, path: KeyPath) -> int:
        """The first line at or after ``path``'s line that contains ``needle``."""
        start = self.line_of(path)
        for number in range(start, len(self.lines) + 1):
            if needle in self.lines[number - 1]:
                return number
        return start
