"""KoboldAI United story files (``"file_version": 2``), built in the shape United writes them.

The shape was read from KoboldAI United's source (henk717/KoboldAI, ``koboldai_settings.py``):
``story_settings.to_json`` writes every story setting not in its ``no_save_variables`` with
``json.dumps(..., default=...)``, where the default writes the action register as
``{"action_count", "actions"}``, the world info as ``{"folders", "entries"}``, a datetime as
its text and anything else as ``"base64:"`` + a pickle (``lua_edited``/``lua_deleted`` are
sets, so every real file has two). ``sync_world_info_to_old_format`` keeps copies of the
world info for the old UI (``worldinfo``, ``worldinfo_i``, ``wifolders_*``...).
"""

from __future__ import annotations

import base64
import os
import pickle
from pathlib import Path
from typing import Any

TIME = 1_700_000_000


def pickled(value: object) -> str:
    """A value as United writes what JSON cannot hold."""
    return "base64:" + base64.encodebytes(pickle.dumps(value)).decode()


class MakesDirectory:
    """Unpickling this creates a directory: a story file that runs code when loaded."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (self.path,)


def option(text: str, *, pinned: bool = False, previous: bool = False,
           edited: bool = False) -> dict[str, Any]:
    return {"text": text, "Pinned": pinned, "Previous Selection": previous, "Edited": edited,
            "Probabilities": []}


def action(text: str, *, origin: str | None = None, options: tuple[dict[str, Any], ...] = (),
           original: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Selected Text": text, "Selected Text Length": 0,
                           "Options": list(options), "Probabilities": [], "Time": TIME,
                           "Original Text": text if original is None else original,
                           "audio_gen": 0, "image_gen": False}
    if origin is not None:  # set only on actions United appended itself
        out["Origin"] = origin
    return out


def register(actions: list[dict[str, Any]], action_count: int | None = None,
             extra: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The action register: ``actions`` numbered 0, 1, ...; ``extra`` at other numbers."""
    table = {str(i): a for i, a in enumerate(actions)}
    table.update({str(i): a for i, a in (extra or {}).items()})
    count = len(actions) - 1 if action_count is None else action_count
    return {"action_count": count, "actions": table}


def entry(uid: int, keys: list[str], content: str, *, title: str | None = None,
          secondary: list[str] | None = None, folder: str = "root", constant: bool = False,
          comment: str = "", wi_type: str = "wi", manual_text: str | None = None,
          use_wpp: bool = False, wpp: dict[str, Any] | None = None) -> dict[str, Any]:
    secondary = secondary or []
    return {"uid": uid, "title": keys[0] if title is None and keys else (title or ""),
            "key": keys, "keysecondary": secondary, "folder": folder, "constant": constant,
            "manual_text": content if manual_text is None else manual_text,
            "content": content, "comment": comment, "type": wi_type, "token_length": 0,
            "selective": bool(secondary), "used_in_game": constant,
            "wpp": wpp or {"name": "", "type": "", "format": "W++", "attributes": {}},
            "use_wpp": use_wpp, "v1_uid": None, "object_type": None}


def world(entries: list[dict[str, Any]]) -> dict[str, Any]:
    folders: dict[str, list[int]] = {"root": []}
    for item in entries:
        folders.setdefault(item["folder"], []).append(item["uid"])
    return {"folders": folders, "entries": {str(e["uid"]): e for e in entries}}


def old_world_copies(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """What United keeps for its old UI beside ``worldinfo_v2`` (never read on import)."""
    names = list(world(entries)["folders"])
    ids = {name: -1 - i for i, name in enumerate(names)}
    flat = [{"key": ",".join(e["key"]), "keysecondary": ",".join(e["keysecondary"]),
             "content": e["content"], "comment": e["comment"],
             "folder": None if e["folder"] == "root" else ids[e["folder"]], "num": e["uid"],
             "init": True, "selective": bool(e["keysecondary"]), "constant": e["constant"],
             "uid": e["uid"]} for e in entries]
    return {"worldinfo": flat, "worldinfo_i": flat,
            "worldinfo_u": {str(e["uid"]): e for e in flat},
            "wifolders_d": {str(ids[n]): {"name": n, "collapsed": False}
                            for n in names if n != "root"},
            "wifolders_l": [ids[n] for n in names if n != "root"], "wifolders_u": {}}


def united_story(*, prompt: str = "", actions: dict[str, Any] | None = None,
                 entries: list[dict[str, Any]] | None = None, **settings: Any
                 ) -> dict[str, Any]:
    """A story file as United's ``story_settings.to_json`` writes it (``settings`` override
    any field)."""
    entries = entries or []
    doc: dict[str, Any] = {
        "file_version": 2, "privacy_mode": False, "privacy_password": "",
        "story_name": "New Game", "lastact": "", "submission": "", "lastctx": "",
        "gamestarted": True, "gamesaved": True, "autosave": False, "prompt": prompt,
        "prompt_wi_highlighted_text": [{"text": prompt, "WI matches": None, "WI Text": ""}],
        "memory": "", "auto_memory": "", "authornote": "",
        "authornotetemplate": "[Author's note: <|>]",
        "setauthornotetemplate": "[Author's note: <|>]", "andepth": 3,
        "actions": actions if actions is not None else register([]),
        "actions_metadata": {}, "worldinfo_v2": world(entries),
        **old_world_copies(entries),
        "lua_edited": pickled(set()), "lua_deleted": pickled(set()), "deletewi": None,
        "mode": "play", "editln": 0, "genseqs": [], "recentback": False, "recentrng": None,
        "recentrngm": None, "useprompt": False, "chatmode": False, "chatname": "You",
        "botname": "Bot", "stop_sequence": [], "adventure": False, "actionmode": 0,
        "storymode": 0, "dynamicscan": False, "recentedit": False, "notes": "", "biases": {},
        "story_id": 123456789012345678901234567890, "max_memory_fraction": 0.5,
        "max_prompt_length": 512, "max_authornote_length": 512,
        "last_story_load": "2024-05-01 10:00:00.000000", "revisions": [], "picture": "",
        "picture_prompt": "", "substitutions": [
            {"target": "--", "substitution": "–", "enabled": False},
            {"target": "---", "substitution": "—", "enabled": False},
            {"target": "...", "substitution": "…", "enabled": False}],
        "gen_audio": False, "prompt_picture_filename": "", "prompt_picture_prompt": "",
        "genres": [], "memory_attn_bias": 1, "an_attn_bias": 1, "chat_style": 0,
        "commentary_chance": 0, "commentary_enabled": False,
    }
    doc.update(settings)
    return doc
