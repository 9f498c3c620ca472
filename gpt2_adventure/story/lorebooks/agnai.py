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
from gpt2_adventure.story.lorebooks.common import (
    MAX_ENTRIES,
    Dropped,
    Lorebook,
    Sub,
    check_length,
    label,
    lorebook_fields,
    need,
)
from gpt2_adventure.story.model import WorldEntry

FORMAT = "an Agnai memory book"


def looks_like(doc: object) -> bool:
    return (isinstance(doc, dict) and doc.get("kind") == "memory"
            and isinstance(doc.get("entries"), list))


def read_doc(doc: object, where: str, sub: Sub) -> Lorebook:
    root = lorebook_fields(need(doc, where, "an Agnai memory book"), where)
    dropped = Dropped()
    out = []
    entries = root.objs("entries", MAX_ENTRIES)
    for i, entry in enumerate(entries):
        made = _entry(entry, f"entry {i + 1}", sub, dropped)
        if made is not None:
            out.append(made)
    numbers = [(e.data.get("priority"), e.data.get("weight")) for e in entries]
    if any(pair != numbers[0] for pair in numbers):
        dropped.add("priorities and weights ignored (entries keep the file's order)")
    return Lorebook(source=where, format=FORMAT, entries=out, dropped=dropped.lines())


def _entry(entry: Fields, place: str, sub: Sub, dropped: Dropped) -> WorldEntry | None:
    keys = [k for k in map(sub, entry.texts("keywords")) if k]
    comment = " ".join(entry.text("name").split())
    name = label(place, comment, keys)

    def drop(reason: str) -> None:
        dropped.add(reason, name)

    if not entry.flag("enabled", True):
        drop("disabled entries dropped")
        return None
    content = sub(entry.text("entry"))
    if not content:
        drop("entries without text dropped")
        return None
    if not keys:
        drop("entries without keywords dropped (they could never trigger)")
        return None
    return check_length(WorldEntry(keys=tuple(keys), content=content, comment=comment), drop)
