"""Lorebook files as SillyTavern, KoboldAI Lite and character-card tools write them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def st_entry(uid: int, **fields: Any) -> dict[str, Any]:
    """A SillyTavern World Info entry with every field its template has (its defaults)."""
    entry: dict[str, Any] = {
        "uid": uid, "key": [], "keysecondary": [], "comment": "", "content": "",
        "constant": False, "vectorized": False, "selective": True, "selectiveLogic": 0,
        "addMemo": False, "order": 100, "position": 0, "disable": False,
        "excludeRecursion": False, "preventRecursion": False, "delayUntilRecursion": 0,
        "probability": 100, "useProbability": True, "depth": 4, "group": "",
        "groupOverride": False, "groupWeight": 100, "scanDepth": None, "caseSensitive": None,
        "matchWholeWords": None, "useGroupScoring": None, "automationId": "", "role": 0,
        "sticky": None, "cooldown": None, "delay": None, "displayIndex": uid,
    }
    entry.update(fields)
    return entry


def sillytavern_world() -> dict[str, Any]:
    """Constant, disabled, secondary-key (AND ANY), NOT-logic and ordered entries."""
    entries = [
        st_entry(0, key=["Vharzul", "dragon"], comment="Dragon", order=200,
                 content="Vharzul is a red dragon who hates {{user}}."),
        st_entry(1, comment="World", constant=True, order=10,
                 content="The kingdom of Larion is at war."),
        st_entry(2, key=["secret"], comment="Off", disable=True, content="Hidden."),
        st_entry(3, key=["forge"], keysecondary=["fire"], selectiveLogic=0,
                 comment="Forge", content="The forge burns day and night."),
        st_entry(4, key=["king"], keysecondary=["crown"], selectiveLogic=2,
                 comment="King", content="The king is old."),
        st_entry(5, key=["/wyrm(s)?/i", "serpent"], comment="Wyrm", position=4, depth=2,
                 probability=30, group="beasts", content="Wyrms sleep under the hills."),
    ]
    return {"name": "Larion", "entries": {str(e["uid"]): e for e in entries}}


def kobold_lite_world() -> list[dict[str, Any]]:
    """What KoboldAI Lite's "Export WI" button saves."""
    def entry(**fields: Any) -> dict[str, Any]:
        base = {"key": "", "keysecondary": "", "keyanti": "", "content": "", "comment": "",
                "folder": None, "selective": False, "constant": False, "probability": 100,
                "wigroup": "", "widisabled": False}
        base.update(fields)
        return base

    return [
        entry(key="dragon, wyrm", content="Dragons guard gold.", comment="Dragons"),
        entry(key="inn", keysecondary="night", selective=True, keyanti="day",
              content="The inn is loud at night.", wigroup="Places"),
        entry(key="ghost", content="A ghost.", widisabled=True),
        entry(constant=True, content="Magic is rare.", probability=50),
        entry(key="bard", keysecondary="song", content="The bard sings."),  # not selective
    ]


def v2_book() -> dict[str, Any]:
    return {
        "name": "Brann's book", "scan_depth": 4, "token_budget": 500,
        "recursive_scanning": False, "extensions": {},
        "entries": [
            {"keys": ["anvil"], "content": "{{char}}'s anvil is old.", "enabled": True,
             "insertion_order": 20, "comment": "Anvil", "id": 1, "extensions": {}},
            {"keys": ["forge"], "secondary_keys": ["fire"], "selective": True,
             "content": "The forge burns.", "enabled": True, "insertion_order": 5,
             "comment": "Forge", "id": 2, "case_sensitive": True,
             "extensions": {"selectiveLogic": 0}},
            {"keys": ["secret"], "content": "Hidden.", "enabled": False,
             "insertion_order": 1, "comment": "Off", "id": 3, "extensions": {}},
        ],
    }


def v3_lorebook() -> dict[str, Any]:
    return {"spec": "lorebook_v3", "data": {
        "name": "Rings", "extensions": {},
        "entries": [
            {"keys": ["ring"], "content": "@@depth 4\nThe ring glows near <BOT>.",
             "enabled": True, "insertion_order": 0, "use_regex": False, "extensions": {}},
            {"keys": ["^r.*g$"], "content": "regex", "enabled": True,
             "insertion_order": 1, "use_regex": True, "extensions": {}},
        ]}}


def write(folder: Path, doc: object, name: str = "lore.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
