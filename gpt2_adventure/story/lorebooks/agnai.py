"""Agnai memory books (Agnai's own lorebook export)::

    {"kind": "memory", "name": "Larion", "description": "...",
     "entries": [{"name": "Dragon", "entry": "Vharzul is a red dragon.",
                  "keywords": ["Vharzul", "dragon"], "priority": 10, "weight": 5,
                  "enabled": true}]}

Keywords are keys, the entry its content, the name its comment. Agnai inserts the entries it
finds by ``priority`` (highest first) and cuts by ``weight`` when the budget runs out: the
entries keep the file's order and the budget is GPT-2's own, so those are listed as dropped
when they say anything.
"""

from __future__ import annotations

from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.lorebooks import common as lore
from gpt2_adventure.story.model import WorldEntry

FORMAT = "an Agnai memory book"


def looks_like(doc: object) -> bool:
    return (isinstance(doc, dict) and doc.get("kind") == "memory"
            and isinstance(doc.get("entries"), list))


def read_doc(doc: object, where: str, sub: lore.Sub) -> lore.Lorebook:
    root = lore.lorebook_fields(lore.need(doc, where, "an Agnai memory book"), where)
    dropped = lore.Dropped()
    entries = root.objs("entries", lore.MAX_ENTRIES)
    out = lore.read_each(entries, lambda entry, place: _entry(entry, place, sub, dropped))
    numbers = [(e.data.get("priority"), e.data.get("weight")) for e in entries]
    if any(pair != numbers[0] for pair in numbers):
        dropped.add("priorities and weights ignored (entries keep the file's order)")
    return lore.Lorebook(source=where, format=FORMAT, entries=out, dropped=dropped.lines())


def _entry(entry: Fields, place: str, sub: lore.Sub, dropped: lore.Dropped) -> WorldEntry | None:
    keys = [k for k in map(sub, entry.texts("keywords")) if k]
    reading = lore.Reading(dropped, place, entry.text("name"), keys)
    if not entry.flag("enabled", True):
        return reading.refuse("disabled entries dropped")
    content = sub(entry.text("entry"))
    if not content:
        return reading.refuse("entries without text dropped")
    if not keys:
        return reading.refuse("entries without keywords dropped (they could never trigger)")
    made = WorldEntry(keys=tuple(keys), content=content, comment=reading.comment)
    return reading.checked(made)
