"""SillyTavern World Info files (``data/<user>/worlds/<name>.json``): read and write.

The shape (SillyTavern's ``public/scripts/world-info.js``, ``newWorldInfoEntryDefinition``)::

    {"entries": {"0": {"uid": 0, "key": ["dragon"], "keysecondary": [], "comment": "",
                       "content": "...", "constant": false, "vectorized": false,
                       "selective": true, "selectiveLogic": 0, "addMemo": false,
                       "order": 100, "position": 0, "disable": false,
                       "excludeRecursion": false, "preventRecursion": false,
                       "delayUntilRecursion": 0, "probability": 100, "useProbability": true,
                       "depth": 4, "group": "", "groupOverride": false, "groupWeight": 100,
                       "scanDepth": null, "caseSensitive": null, "matchWholeWords": null,
                       "useGroupScoring": null, "automationId": "", "role": 0,
                       "sticky": null, "cooldown": null, "delay": null,
                       "displayIndex": 0}},
     "name": "..."}

``selectiveLogic``: 0 AND ANY, 1 NOT ALL, 2 NOT ANY, 3 AND ALL. A key written ``/.../flags``
is a regular expression (``common.is_regex_key``). SillyTavern sorts the activated entries by
``order`` and inserts the lowest first, so that the highest ends nearest the chat: entries here
are in that order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.importers.common import ImportProblem, kind
from gpt2_adventure.story.lorebooks import common as lore
from gpt2_adventure.story.lorebooks.character_book import selective_logic
from gpt2_adventure.story.model import WorldEntry

FORMAT = "a SillyTavern World Info file"
DEFAULT_ORDER = 100
_PLAIN_UID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_POSITIONS = {2: "before the author's note", 3: "after the author's note",
              4: "at a depth in the chat", 5: "before the example messages",
              6: "after the example messages", 7: "in an outlet"}
# (field, is it set to something we lack?, what is lost), checked on every kept entry.
_LOST: tuple[tuple[str, Callable[[Any], Any], str], ...] = (
    ("group", lambda v: isinstance(v, str) and v.strip(), "inclusion groups ignored"),
    ("caseSensitive", lambda v: v is True, "case-sensitive keys matched in any case"),
    ("matchWholeWords", lambda v: v is True, "whole-word matching ignored (keys match "
                                             "inside words too)"),
    ("scanDepth", lambda v: v is not None, "per-entry scan depth ignored"),
    ("vectorized", lambda v: v is True, "vector matching ignored (the keys are used)"),
    ("excludeRecursion", lambda v: v is True, "recursion settings ignored"),
    ("preventRecursion", lambda v: v is True, "recursion settings ignored"),
    ("delayUntilRecursion", lambda v: bool(v), "recursion settings ignored"),
    ("sticky", lambda v: bool(v), "timed effects (sticky, cooldown, delay) ignored"),
    ("cooldown", lambda v: bool(v), "timed effects (sticky, cooldown, delay) ignored"),
    ("delay", lambda v: bool(v), "timed effects (sticky, cooldown, delay) ignored"),
    ("automationId", lambda v: isinstance(v, str) and v.strip(), "automation ids ignored"),
    ("characterFilter", lambda v: isinstance(v, dict) and any(v.get(k) for k in ("names",
                                                                                "tags")),
     "character filters ignored"),
    ("triggers", lambda v: isinstance(v, list) and v, "generation-type triggers ignored"),
)


def looks_like(doc: object) -> bool:
    """A World Info file: ``entries`` an object of entries (or a list of SillyTavern-shaped
    ones)."""
    if not isinstance(doc, dict):
        return False
    entries = doc.get("entries")
    if isinstance(entries, dict):
        return True
    return (isinstance(entries, list) and bool(entries) and isinstance(entries[0], dict)
            and "key" in entries[0] and "keys" not in entries[0])


def read_doc(doc: object, where: str, sub: lore.Sub) -> lore.Lorebook:
    root = lore.lorebook_fields(lore.need(doc, where, "a SillyTavern World Info file"), where)
    raw = root.data.get("entries")
    if not isinstance(raw, (dict, list)):
        raise root.error("entries", f"should be an object of entries, not {kind(raw)}")
    if len(raw) > lore.MAX_ENTRIES:
        root.fail("entries", f"has too many entries ({len(raw):,}; at most {lore.MAX_ENTRIES:,})")
    if isinstance(raw, dict):  # by uid, as SillyTavern writes them
        items = [(f"entries.{_shown(uid)}", _shown(uid), value) for uid, value in raw.items()]
    else:
        items = [(f"entries[{i}]", str(i), value) for i, value in enumerate(raw)]
    dropped = lore.Dropped()
    ordered: list[tuple[float, WorldEntry]] = []
    for place, uid, value in items:
        if not isinstance(value, dict):
            raise ImportProblem(f"{place} should be an object, not {kind(value)}", where)
        entry = Fields(value, where, root.rules, place)
        made = _entry(entry, f"entry {uid}", sub, dropped)
        if made is not None:
            ordered.append((lore.order_of(value.get("order"), DEFAULT_ORDER), made))
    return lore.Lorebook(source=where, format=FORMAT, entries=lore.sort_by_order(ordered),
                    dropped=dropped.lines())


def _shown(uid: str) -> str:
    """An entry's uid as messages show it: one line, short."""
    return uid if _PLAIN_UID.fullmatch(uid) else json.dumps(uid[:40], ensure_ascii=True)


def _keys(entry: Fields, key: str, sub: lore.Sub) -> list[str]:
    """A list of keys; a text is read as comma-separated keys (older files)."""
    raw = (entry.text(key).split(",") if isinstance(entry.data.get(key), str)
           else entry.texts(key))
    return [k for k in map(sub, raw) if k]


def _entry(entry: Fields, place: str, sub: lore.Sub, dropped: lore.Dropped) -> WorldEntry | None:
    opened = lore.open_world_info(entry, place, sub, dropped, _keys, disabled="disable")
    if opened is None:
        return None
    reading, keys, content, constant = opened
    secondary = _keys(entry, "keysecondary", sub)
    if not content:
        return reading.refuse("entries without content dropped")
    plain, secondary_plain = lore.plain_keys(keys, secondary, dropped, reading.name)
    if not plain and not constant:
        return reading.refuse(lore.ONLY_REGEX_KEYS)
    if not entry.flag("selective", True):
        if secondary_plain:
            reading.drop("secondary keys ignored on non-selective entries")
        secondary_plain = []
    elif secondary_plain:
        secondary_plain = selective_logic(entry.data.get("selectiveLogic"), secondary_plain,
                                          reading.drop)
    _lost(entry, reading.drop)
    made = WorldEntry(keys=tuple(plain), content=content, secondary_keys=tuple(secondary_plain),
                      always=constant, comment=reading.comment)
    return reading.checked(made)


def _lost(entry: Fields, drop: Callable[[str], None]) -> None:
    data = entry.data
    position = data.get("position")
    if isinstance(position, int) and not isinstance(position, bool) and position in _POSITIONS:
        drop(f"placement {_POSITIONS[position]} ignored (world info goes before the story)")
    probability = data.get("probability")
    if (data.get("useProbability", True) is not False and not isinstance(probability, bool)
            and isinstance(probability, (int, float)) and probability < 100):
        drop("trigger probability ignored (they always trigger)")
    for key, lost, reason in _LOST:
        if lost(data.get(key)):
            drop(reason)


# -- export -------------------------------------------------------------------------------

def to_world_info(world: list[WorldEntry] | tuple[WorldEntry, ...], name: str = ""
                  ) -> dict[str, Any]:
    """Our world info as a World Info document SillyTavern loads: every field of its entry
    template, its defaults, and ``order`` rising with the entry's place, so the entries keep
    their order."""
    entries = {}
    for uid, entry in enumerate(world):
        entries[str(uid)] = {
            "uid": uid, "key": list(entry.keys), "keysecondary": list(entry.secondary_keys),
            "comment": entry.comment, "content": entry.content, "constant": entry.always,
            "vectorized": False, "selective": True, "selectiveLogic": 0,
            "addMemo": bool(entry.comment), "order": DEFAULT_ORDER + uid, "position": 0,
            "disable": False, "excludeRecursion": False, "preventRecursion": False,
            "delayUntilRecursion": 0, "probability": 100, "useProbability": True,
            "depth": 4, "group": "", "groupOverride": False, "groupWeight": 100,
            "scanDepth": None, "caseSensitive": None, "matchWholeWords": None,
            "useGroupScoring": None, "automationId": "", "role": 0, "sticky": None,
            "cooldown": None, "delay": None, "displayIndex": uid,
        }
    doc: dict[str, Any] = {"entries": entries}
    if name:
        doc["name"] = name
    return doc


def export_world_info(world: list[WorldEntry] | tuple[WorldEntry, ...], name: str = "") -> str:
    """The World Info JSON text (``\\u`` escapes keep lone surrogates safe)."""
    return json.dumps(to_world_info(world, name), indent=2, ensure_ascii=True) + "\n"
