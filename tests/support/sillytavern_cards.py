"""Character cards shaped as SillyTavern exports them (1.12 and later): the V1 fields at the
top for old readers, ``spec: chara_card_v2`` with the same fields under ``data``, the linked
World Info file named in ``data.extensions.world`` and embedded as ``data.character_book``
under the same name, each entry converted as SillyTavern's ``convertWorldInfoToCharacterBook``
(``src/endpoints/characters.js``) does it: ``use_regex: true`` on every entry ("ST keys are
always regex"), the World Info fields copied into ``extensions``."""

from __future__ import annotations

from typing import Any


def world_entry(uid: int, key: list[str], content: str, **fields: Any) -> dict[str, Any]:
    """A World Info entry as SillyTavern keeps it (the fields the conversion reads)."""
    entry: dict[str, Any] = {
        "uid": uid, "key": key, "keysecondary": [], "comment": "", "content": content,
        "constant": False, "selective": True, "selectiveLogic": 0, "order": 100,
        "position": 0, "disable": False, "excludeRecursion": False,
        "preventRecursion": False, "delayUntilRecursion": False, "probability": 100,
        "useProbability": True, "depth": 4, "group": "", "groupOverride": False,
        "groupWeight": 100, "scanDepth": None, "caseSensitive": None, "matchWholeWords": None,
        "useGroupScoring": False, "automationId": "", "role": 0, "vectorized": False,
        "sticky": 0, "cooldown": 0, "delay": 0, "displayIndex": uid,
    }
    entry.update(fields)
    return entry


def character_book(name: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The World Info ``entries`` as the book SillyTavern embeds in a card it exports."""
    book = []
    for entry in entries:
        book.append({
            "id": entry["uid"], "keys": entry["key"], "secondary_keys": entry["keysecondary"],
            "comment": entry["comment"], "content": entry["content"],
            "constant": entry["constant"], "selective": entry["selective"],
            "insertion_order": entry["order"], "enabled": not entry["disable"],
            "position": "before_char" if entry["position"] == 0 else "after_char",
            "use_regex": True,  # ST keys are always regex
            "extensions": {
                "position": entry["position"], "exclude_recursion": entry["excludeRecursion"],
                "display_index": entry["displayIndex"], "probability": entry["probability"],
                "useProbability": entry["useProbability"], "depth": entry["depth"],
                "selectiveLogic": entry["selectiveLogic"], "group": entry["group"],
                "group_override": entry["groupOverride"],
                "group_weight": entry["groupWeight"],
                "prevent_recursion": entry["preventRecursion"],
                "delay_until_recursion": entry["delayUntilRecursion"],
                "scan_depth": entry["scanDepth"], "match_whole_words": entry["matchWholeWords"],
                "use_group_scoring": entry["useGroupScoring"],
                "case_sensitive": entry["caseSensitive"],
                "automation_id": entry["automationId"], "role": entry["role"],
                "vectorized": entry["vectorized"], "sticky": entry["sticky"],
                "cooldown": entry["cooldown"], "delay": entry["delay"],
            },
        })
    return {"entries": book, "name": name}


def exported_card(name: str, world: str = "", entries: list[dict[str, Any]] | None = None,
                  **fields: Any) -> dict[str, Any]:
    """A card as SillyTavern's "Export as PNG/JSON" writes it. ``world`` is the linked World
    Info file; its ``entries`` are embedded when given (SillyTavern embeds the world it can
    read; a linked world it cannot find is named but not embedded)."""
    v1 = {"name": name, "description": "", "personality": "", "scenario": "",
          "first_mes": "", "mes_example": "", **fields}
    data: dict[str, Any] = {
        **v1, "creator_notes": "", "system_prompt": "", "post_history_instructions": "",
        "tags": [], "creator": "", "character_version": "", "alternate_greetings": [],
        "extensions": {"talkativeness": "0.5", "fav": False, "world": world,
                       "depth_prompt": {"prompt": "", "depth": 4, "role": "system"}},
    }
    if entries is not None:
        data["character_book"] = character_book(world, entries)
    return {**v1, "creatorcomment": "", "avatar": "none", "chat": f"{name} - 2024-7-1",
            "talkativeness": "0.5", "fav": False, "tags": [], "spec": "chara_card_v2",
            "spec_version": "2.0", "data": data, "create_date": "2024-7-1 @12h 00m 00s 000ms"}
