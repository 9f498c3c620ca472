"""Character books (Character Card V2/V3 ``character_book``), inside a card or on their own.

The shape (the card specs)::

    {"name": "...", "scan_depth": 4, "token_budget": 500, "recursive_scanning": false,
     "extensions": {},
     "entries": [{"keys": ["forge"], "content": "...", "enabled": true,
                  "insertion_order": 10, "case_sensitive": false, "priority": 10, "id": 1,
                  "comment": "...", "selective": true, "secondary_keys": ["fire"],
                  "constant": false, "position": "before_char", "use_regex": false,
                  "extensions": {"selectiveLogic": 0, ...}}]}

``use_regex`` is ignored: SillyTavern writes ``true`` on every entry of the books it exports
("ST keys are always regex") yet reads a key as a pattern only when it is ``/.../flags``.

A V3 lorebook file on its own is ``{"spec": "lorebook_v3", "data": {<the book>}}``. The card
reader (``cards/to_seed.py``) maps a card's book through here too: there is one mapping.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.lorebooks import common as lore
from gpt2_adventure.story.model import WorldEntry

FORMAT = "a character book (Character Card V2 lorebook)"
FORMAT_V3 = "a Character Card V3 lorebook"
MAX_BOOK_ENTRIES = 1_000  # as many as a card may hold
_NOT_LOGIC = (1, 2)  # SillyTavern selectiveLogic NOT_ALL / NOT_ANY
_AND_ALL = 3
_SETTINGS = ("scan_depth", "token_budget", "recursive_scanning")
# A key that looks written as a bare pattern (``^dragons?$``, ``wyrm|drake``, ``\\bfox``,
# ``drag(on)?``); not ``[Status]``, a plain key some cards use.
_PATTERN = re.compile(r"\\.|\.[*+?]|\(\?|^\^|\$$|\w\|\w|\)[*+?]")
PATTERNS_AS_TEXT = ("keys that look like patterns matched as plain text (use_regex is set, but "
                    "a key is a regex only when written /.../flags, as in SillyTavern)")


def read_file_doc(doc: object, where: str, sub: lore.Sub) -> lore.Lorebook:
    """A character book file: V2 (the book itself) or V3 (``spec: lorebook_v3``)."""
    root = lore.need(doc, where, "a character book")
    book = lore.lorebook_fields(root, where)
    version, fmt = "V2", FORMAT
    if root.get("spec") == "lorebook_v3":
        version, fmt = "V3", FORMAT_V3
        book = book.sub("data", root.get("data"))
    entries, dropped = read_book(book, version, sub)
    return lore.Lorebook(source=where, format=fmt, entries=entries, dropped=dropped)


def read_book(book: Fields, version: str, sub: lore.Sub,
              limit: int = MAX_BOOK_ENTRIES) -> tuple[list[WorldEntry], list[str]]:
    """The book's entries (plain text, in insertion order) and what was dropped."""
    lines = []
    settings = [k for k in _SETTINGS if book.filled(k)]
    if settings:
        lines.append(f"lorebook settings ignored: {', '.join(settings)}")
    dropped = lore.Dropped()
    ordered: list[tuple[float, WorldEntry]] = []
    for i, entry in enumerate(book.objs("entries", limit)):
        made = _entry(entry, version, sub, dropped, f"entries[{i}]")
        if made is not None:
            ordered.append((lore.order_of(entry.data.get("insertion_order"), 0), made))
    return lore.sort_by_order(ordered), lines + dropped.lines()


def _entry(entry: Fields, version: str, sub: lore.Sub, dropped: lore.Dropped,
           index: str) -> WorldEntry | None:
    keys = [k for k in map(sub, entry.texts("keys")) if k]
    reading = lore.Reading(dropped, index, entry.text("comment") or entry.text("name"), keys)
    if not entry.flag("enabled", True):
        return reading.refuse("disabled lorebook entries dropped")
    content = entry.text("content")
    if version == "V3":
        content, decorated = strip_decorators(content)
        if decorated:
            reading.drop("V3 decorators (@@ lines) removed from lorebook entries")
    content = sub(content)
    constant = entry.flag("constant", False)
    secondary = [k for k in map(sub, entry.texts("secondary_keys")) if k]
    if not content:
        return reading.refuse("lorebook entries without content dropped")
    if not keys and not constant:
        return reading.refuse("lorebook entries without keys dropped (they could never trigger)")
    # use_regex is not read: SillyTavern sets it on every entry it exports and reads a key
    # as a pattern only when it is written /.../flags, as here.
    keys, secondary = lore.plain_keys(keys, secondary, dropped, reading.name)
    if not keys and not constant:
        return reading.refuse(lore.ONLY_REGEX_KEYS)
    patterns = [k for k in (*keys, *secondary) if _PATTERN.search(k)]
    if patterns and entry.flag("use_regex", False):
        dropped.add(PATTERNS_AS_TEXT, lore.naming(reading.name, patterns))
    if not entry.flag("selective", False):
        if secondary:
            reading.drop("secondary keys ignored on non-selective lorebook entries")
        secondary = []
    elif secondary:
        secondary = selective_logic(entry.data.get("extensions"), secondary, reading.drop)
    if entry.data.get("case_sensitive") is True:
        reading.drop("case-sensitive keys matched in any case")
    made = WorldEntry(keys=tuple(keys), content=content, secondary_keys=tuple(secondary),
                      always=constant, comment=reading.comment)
    return reading.checked(made)


def selective_logic(logic_of: Any, secondary: list[str],
                    drop: Callable[[str], None]) -> list[str]:
    """Secondary keys under SillyTavern's logic: ours is "and any one of them"."""
    logic = logic_of.get("selectiveLogic") if isinstance(logic_of, dict) else logic_of
    if isinstance(logic, bool):  # True == 1 in Python; not a SillyTavern logic value
        return secondary
    if logic in _NOT_LOGIC:
        drop("secondary keys with NOT logic ignored (the entry triggers on its keys alone)")
        return []
    if logic == _AND_ALL:
        drop("secondary keys with AND ALL logic read as 'any one of them'")
    return secondary


def strip_decorators(content: str) -> tuple[str, bool]:
    lines = content.split("\n")
    n = 0
    while n < len(lines) and lines[n].startswith("@@"):
        n += 1
    return "\n".join(lines[n:]), n > 0
