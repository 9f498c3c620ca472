"""AI Dungeon's lore exports: story cards and the 2021 world-info export.

Story cards (the JSON list AI Dungeon exports today)::

    [{"keys": "Ana,the smith", "value": "Ana is the village smith.", "type": "character",
      "title": "Ana", "description": "notes for the author", "useForCharacterCreation": false}]

World info as exported in 2021 (and inside a scenario's ``worldInfo``)::

    [{"keys": "Ana,the smith", "entry": "Ana is the village smith.", "hidden": false}]

Keys are comma-separated. Shared scenarios often wrote them for the Enhanced World Info
script (EWIJSON): ``Katariah|(|the )emp(ress|eror)#[t=5l=5f=2S=2]`` — ``|`` between
alternatives, ``(a|b)`` groups and a ``#[...]`` tail of script settings. Those patterns are
expanded into the plain keys they stand for (``Katariah``, ``empress``, ``the empress``,
``emperor``, ``the emperor``) and the settings dropped; a key that is any other regular
expression is dropped, as SillyTavern's regex keys are. ``hidden`` only hid an entry from
other players: it is kept.
"""

from __future__ import annotations

import itertools
import re

from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.importers.common import ImportProblem, kind
from gpt2_adventure.story.lorebooks import common as lore
from gpt2_adventure.story.model import WorldEntry

CARDS_FORMAT = "AI Dungeon story cards"
WORLD_INFO_FORMAT = "AI Dungeon world info"
MAX_EXPANDED = 32  # plain keys one pattern may stand for
PATTERNS_EXPANDED = ("keys written as Enhanced World Info patterns (a|b, (x|y)) were "
                     "expanded into the plain keys they stand for")
_SCRIPT_TAIL = re.compile(r"#\[[^\]]*\]\s*$")
_GROUP = re.compile(r"\(([^()]*)\)")
_REGEX_CHARS = re.compile(r"[\[\]*+?.\\^${}()]")


def looks_like(doc: object) -> bool:
    """A list of entries with ``keys`` and a ``value`` (story cards) or ``entry`` (2021)."""
    return (isinstance(doc, list) and bool(doc)
            and all(isinstance(item, dict) and "keys" in item
                    and ("value" in item or "entry" in item) and "prompt" not in item
                    for item in doc))


def read_doc(doc: object, where: str, sub: lore.Sub) -> lore.Lorebook:
    if not isinstance(doc, list):
        raise ImportProblem(f"not AI Dungeon world info: it holds {kind(doc)}, not a list of "
                            "entries", where)
    cards = any(isinstance(item, dict) and "value" in item for item in doc)
    book = lore.Lorebook(source=where, format=CARDS_FORMAT if cards else WORLD_INFO_FORMAT)
    dropped = lore.Dropped()
    book.entries = read_entries(lore.lorebook_fields({"": doc}, where), "", sub, dropped,
                                book.notes)
    book.dropped = dropped.lines()
    return book


def read_entries(parent: Fields, key: str, sub: lore.Sub, dropped: lore.Dropped,
                 notes: list[str]) -> list[WorldEntry]:
    """The entries of the list at ``parent[key]`` (a scenario's ``worldInfo`` too; ``""``
    for a file that is the list itself)."""
    return lore.read_each(parent.objs(key, lore.MAX_ENTRIES),
                     lambda entry, place: _entry(entry, place, sub, dropped, notes))


def plain_keys(raw: str) -> tuple[list[str], bool, bool, bool]:
    """(the plain keys, whether a pattern was expanded, whether a regex was dropped,
    whether script settings were removed)."""
    text, tails = _SCRIPT_TAIL.subn("", raw)
    expanded = regex = False
    keys: list[str] = []
    for part in _top_level_split(text):
        if "|" in part or "(" in part:
            found = _expand(part)
            if found is None:
                regex = True
                continue
            expanded = True
        elif _REGEX_CHARS.search(part):
            regex = True
            continue
        else:
            found = [part]
        keys += [k for k in (" ".join(f.split()) for f in found) if k and k not in keys]
    return keys, expanded, regex, bool(tails)


def _top_level_split(text: str) -> list[str]:
    """Split on ``,`` and ``|`` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char in ",|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in (part.strip() for part in parts) if p]


def _expand(pattern: str) -> list[str] | None:
    """``(|the )emp(ress|eror)`` -> every plain key it matches; None if it is no such
    simple pattern (nested groups, other regex syntax, too many keys)."""
    pieces: list[list[str]] = []
    pos = 0
    for match in _GROUP.finditer(pattern):
        pieces.append([pattern[pos:match.start()]])
        pieces.append(match.group(1).split("|"))
        pos = match.end()
    pieces.append([pattern[pos:]])
    if any(_REGEX_CHARS.search(option) or "|" in option
           for piece in pieces for option in piece):
        return None
    count = 1
    for piece in pieces:
        count *= len(piece)
    if count > MAX_EXPANDED:
        return None
    return ["".join(combo) for combo in itertools.product(*pieces)]


def _entry(entry: Fields, place: str, sub: lore.Sub, dropped: lore.Dropped,
           notes: list[str]) -> WorldEntry | None:
    raw = entry.data.get("keys")
    key_texts = entry.texts("keys") if isinstance(raw, list) else [entry.text("keys")]
    keys: list[str] = []
    expanded = regex = tails = False
    for text in key_texts:
        found, was_expanded, had_regex, had_tail = plain_keys(text)
        keys += [k for k in map(sub, found) if k and k not in keys]
        expanded, regex, tails = expanded or was_expanded, regex or had_regex, tails or had_tail
    reading = lore.Reading(dropped, place, entry.text("title"), keys)

    content = sub(entry.text("value") if "value" in entry.data else entry.text("entry"))
    if expanded and PATTERNS_EXPANDED not in notes:
        notes.append(PATTERNS_EXPANDED)
    if tails:
        reading.drop("Enhanced World Info script settings (#[...]) removed from keys")
    if regex:
        reading.drop("regex keys dropped (only plain keys are supported)")
    if not content:
        return reading.refuse("entries without text dropped")
    if not keys:
        return reading.refuse("entries without plain keys dropped (they could never trigger)")
    if entry.filled("description"):
        reading.drop("card descriptions dropped (notes for the author; the AI never saw them)")
    if entry.flag("useForCharacterCreation", False):
        reading.drop("use in character creation ignored")
    made = WorldEntry(keys=tuple(keys), content=content, comment=reading.comment)
    return reading.checked(made)
