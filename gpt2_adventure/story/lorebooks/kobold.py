"""KoboldAI world info on its own: KoboldAI Lite's "Export WI" file and a KoboldAI story's
``worldinfo`` list.

KoboldAI Lite (``index.html``, ``export_wi_to_file``) saves a JSON list of entries::

    [{"key": "dragon, wyrm", "keysecondary": "", "keyanti": "", "content": "...",
      "comment": "", "folder": null, "selective": false, "constant": false,
      "probability": 100, "wigroup": "", "widisabled": false}]

KoboldAI Client's story keeps the same entries (without the last four) in ``worldinfo``; a
file holding only that list (``{"worldinfo": [...]}``) is read too. Keys are comma-separated.
Secondary keys count only on selective entries; Lite's anti-keys (the entry is skipped when
one appears) have no equivalent. A whole KoboldAI story is a story, imported by
``importers/kobold.py``.
"""

from __future__ import annotations

from typing import Any

from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.importers.common import ImportProblem, kind
from gpt2_adventure.story.lorebooks import common as lore
from gpt2_adventure.story.model import WorldEntry

FORMAT = "KoboldAI world info"
_STORY_KEYS = ("prompt", "actions", "gamestarted", "memory", "authorsnote")
_ENTRY_KEYS = ("key", "content", "keysecondary")


def looks_like(doc: object) -> bool:
    """A list of KoboldAI-shaped entries, or an object with only ``worldinfo`` (and its
    folders) in it."""
    if isinstance(doc, list):
        return any(isinstance(item, dict) and any(key in item for key in _ENTRY_KEYS)
                   for item in doc)
    return (isinstance(doc, dict) and isinstance(doc.get("worldinfo"), list)
            and not any(key in doc for key in _STORY_KEYS))


def read_doc(doc: object, where: str, sub: lore.Sub) -> lore.Lorebook:
    if isinstance(doc, dict):
        fields = lore.lorebook_fields(doc, where)
        items = fields.objs("worldinfo", lore.MAX_ENTRIES)
        folders = bool(doc.get("wifolders_d"))
    elif isinstance(doc, list):
        fields = lore.lorebook_fields({"": doc}, where)
        if len(doc) > lore.MAX_ENTRIES:
            raise ImportProblem(f"the file has too many entries ({len(doc):,}; at most "
                                f"{lore.MAX_ENTRIES:,})", where)
        items = [Fields(_object(item, i, where), where, fields.rules, f"[{i}]")
                 for i, item in enumerate(doc)]
        folders = False
    else:
        raise ImportProblem(f"not KoboldAI world info: it holds {kind(doc)}, not a list of "
                            "entries", where)
    dropped = lore.Dropped()
    out = []
    for i, entry in enumerate(items):
        made = _entry(entry, f"entry {i + 1}", sub, dropped)
        if made is not None:
            out.append(made)
        folders = folders or entry.given("folder")
    if folders:
        dropped.add("world info folders (the entries are kept, without folders)")
    return lore.Lorebook(source=where, format=FORMAT, entries=out, dropped=dropped.lines())


def _object(item: Any, index: int, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ImportProblem(f"[{index}] should be an object, not {kind(item)}", where)
    return item


def _keys(entry: Fields, key: str, sub: lore.Sub) -> list[str]:
    return [k for k in map(sub, entry.text(key).split(",")) if k]


def _entry(entry: Fields, place: str, sub: lore.Sub, dropped: lore.Dropped) -> WorldEntry | None:
    opened = lore.open_world_info(entry, place, sub, dropped, _keys, disabled="widisabled")
    if opened is None:
        return None
    reading, keys, content, constant = opened
    selective = entry.flag("selective", False)
    secondary = _keys(entry, "keysecondary", sub)
    anti = _keys(entry, "keyanti", sub)
    if not content:
        return reading.refuse("entries without content dropped")
    if not keys and not constant:
        return reading.refuse("entries without keys dropped (they could never trigger)")
    if not selective:
        if secondary:  # KoboldAI looks at secondary keys of selective entries only
            reading.drop("secondary keys ignored on non-selective entries")
        secondary = []
    elif anti:
        reading.drop("anti-keys ignored (the entry shows even when one appears)")
    probability = entry.data.get("probability")
    if (isinstance(probability, (int, float)) and not isinstance(probability, bool)
            and 0 < probability < 100):
        reading.drop("trigger probability ignored (they always trigger)")
    group = entry.data.get("wigroup")
    if isinstance(group, str) and group.strip():
        reading.drop("world info groups ignored (the entries are kept)")
    made = WorldEntry(keys=tuple(keys), content=content, secondary_keys=tuple(secondary),
                      always=constant, comment=reading.comment)
    return reading.checked(made)
