"""KoboldAI story JSON (KoboldAI Client, KoboldAI Lite, KoboldCpp): import and export.

The format (KoboldAI Client's ``aiserver.py``, ``saveRequest``/``loadRequest``)::

    {"gamestarted": true, "prompt": "...", "memory": "...", "authorsnote": "...",
     "anotetemplate": "[Author's note: <|>]", "actions": ["...", "..."],
     "actions_metadata": {"0": {"Selected Text": "...", "Alternative Text":
                                [{"Text": "...", "Pinned": false, "Previous Selection": true,
                                  "Edited": false}]}},
     "worldinfo": [{"key": "dragon, wyrm", "keysecondary": "", "content": "...",
                    "comment": "", "folder": null, "selective": false, "constant": false}],
     "wifolders_d": {}, "wifolders_l": []}

KoboldAI does not record who wrote an action: the story is one text in chunks. On import,
a chunk in KoboldAI's adventure-mode shape (``"\\n\\n> You open the door.\\n"``) is a
player's action and every other chunk is story text the model continues from (a model turn,
so retry and alternatives work on it); with any action the game is an adventure, otherwise a
story. Texts are kept exactly.

Export writes what KoboldAI's own save writes, plus a ``gpt2_adventure`` key (ignored by
KoboldAI, which drops it on its next save) that lets a story exported here come back with its
title, mode, chat setup and who wrote each turn.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.importers.common import (
    ImportProblem,
    clean,
    import_fields,
    kind,
    need_object,
)
from gpt2_adventure.story.importers.imported import ImportedStory
from gpt2_adventure.story.model import (
    ACTION_KINDS,
    MODES,
    ChatSpec,
    Mode,
    StoryState,
    Turn,
    WorldEntry,
)

FORMAT = "a KoboldAI story"
DEFAULT_TEMPLATE = "[Author's note: <|>]"
EXTENSION = "gpt2_adventure"
_ACTION = re.compile(r"\n*> ?([^\n]*)\n?")  # adventure mode: f"\n\n> {data}\n"
_SAY = re.compile(r"you say\b", re.IGNORECASE)
_CHAT_FIELDS = ("character", "persona", "example_dialogue", "greeting", "player")


# -- import -------------------------------------------------------------------------------

def story_from_kobold(doc: object, where: str, title: str
                      ) -> tuple[ImportedStory, list[str], list[str]]:
    """(the story, what was dropped, notes)."""
    fields = import_fields(need_object(doc, where, "a KoboldAI story"), where)
    if isinstance(fields.data.get("actions"), dict):
        raise ImportProblem("its actions are an object: this is KoboldAI United's own story "
                            "format (read as a KoboldAI United story), not KoboldAI's", where)
    prompt = fields.text("prompt")
    actions = fields.texts("actions")
    dropped: list[str] = []
    notes: list[str] = []
    options = _options(fields.data.get("actions_metadata"), actions, dropped)
    ours = fields.data.get(EXTENSION)
    # A chat exported from here that opens on its greeting has an empty prompt on purpose.
    on_greeting = not prompt and _check_extension(ours, len(actions)) is not None
    if not prompt.strip() and not on_greeting:
        # What KoboldAI does on load: the first non-blank chunk becomes the prompt.
        first = next((i for i, a in enumerate(actions) if a.strip()), None)
        if first is None:
            raise ImportProblem("the story is empty (no prompt and no actions)", where)
        prompt = actions[first]
        del actions[:first + 1], options[:first + 1]
        notes.append("the prompt was empty; the first piece of the story is the opening")
    extension = _extension(fields, actions, notes)
    turns = (_turns_from_extension(actions, options, extension) if extension
             else _turns(actions, options))
    mode: Mode = ("adventure" if any(t.role == "player" for t in turns) else "story")
    chat = None
    memory = fields.text("memory")
    if extension:
        mode, title, chat = extension["mode"], extension["title"] or title, extension["chat"]
        memory = extension["memory"]
    story = ImportedStory(title=title, mode=mode, opening=prompt, memory=memory,
                          authors_note=_note(fields), world=_world(fields, dropped),
                          turns=turns, chat=chat)
    return story, dropped, notes


def _note(fields: Fields) -> str:
    return note_with_template(fields.text("authorsnote"), fields.text("anotetemplate"))


def note_with_template(note: str, template: str) -> str:
    """Our author's note for KoboldAI's note and its template."""
    template = template or DEFAULT_TEMPLATE
    # Our prompt builder wraps a note in "[Author's note: ...]" unless it starts with "[";
    # any other template (or a note that starts with "[") is applied here, as KoboldAI would.
    if note.strip() and (template != DEFAULT_TEMPLATE or note.lstrip().startswith("[")):
        return template.replace("<|>", note)
    return note


def comma_keys(text: str) -> tuple[str, ...]:
    """KoboldAI's ``"dragon, wyrm"``: the keys, blanks left out."""
    return tuple(k.strip() for k in text.split(",") if k.strip())


def never_shown(content: str, keys: tuple[str, ...], constant: bool) -> str | None:
    """Why a world info entry could never reach the story (None: it can)."""
    if not content.strip():
        return "it has no content"
    if not keys and not constant:
        return "it has no keys and is not constant, so it never shows"
    return None


def _world(fields: Fields, dropped: list[str]) -> list[WorldEntry]:
    raw = fields.data.get("worldinfo")
    if raw is None:
        return []
    if not isinstance(raw, list):
        dropped.append(f"worldinfo (it is {kind(raw)}, not a list of entries)")
        return []
    out: list[WorldEntry] = []
    folders = False
    for index, item in enumerate(raw):
        label = f"world info entry {index + 1}"
        try:
            entry = fields.sub("worldinfo", item)
            content = entry.text("content")
            keys = comma_keys(entry.text("key"))
            secondary = comma_keys(entry.text("keysecondary"))
            selective, constant = entry.flag("selective"), entry.flag("constant")
            comment = entry.text("comment")
        except ImportProblem as problem:
            dropped.append(f"{label}: {problem.message}")
            continue
        folders = folders or entry.given("folder")
        if (why := never_shown(content, keys, constant)) is not None:
            dropped.append(f"{label}: {why}")
            continue
        if secondary and not selective:
            secondary = ()  # KoboldAI only looks at secondary keys of selective entries
        out.append(WorldEntry(keys=keys, content=content, secondary_keys=secondary,
                              always=constant, comment=comment))
    if folders or fields.data.get("wifolders_d"):
        dropped.append("world info folders (the entries are kept, without folders)")
    return out


def _options(raw: Any, actions: list[str], dropped: list[str]) -> list[list[str]]:
    """Each action's other versions from ``actions_metadata`` (retries, earlier edits)."""
    out: list[list[str]] = [[] for _ in actions]
    if not isinstance(raw, dict):  # absent, or the old list shape with nothing extra
        return out
    entries = sorted((int(k), v) for k, v in raw.items()
                     if isinstance(k, str) and k.isascii() and k.isdigit() and len(k) < 10)
    unused = 0
    # KoboldAI renumbers the entries 0, 1, 2... in key order, as here.
    for index, (_, entry) in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        texts = _alternatives(entry.get("Alternative Text"))
        if index >= len(actions) or entry.get("Selected Text") != actions[index]:
            unused += len(texts)
            continue
        out[index] = [t for i, t in enumerate(texts)
                      if t != actions[index] and t not in texts[:i]]
    if unused:
        dropped.append(f"{unused} generated options that belong to no action of the story")
    return out


def _alternatives(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        return []
    out = []
    for item in raw:
        text = item.get("Text") if isinstance(item, dict) else item
        if isinstance(text, str):
            out.append(clean(text))
    return out


def _turns(actions: list[str], options: list[list[str]]) -> list[Turn]:
    turns = []
    for text, others in zip(actions, options):
        action = adventure_action(text)
        turns.append(action or Turn(role="model", text=text, alternatives=[text, *others]))
    return turns


def adventure_action(text: str) -> Turn | None:
    """The player's turn for a chunk in KoboldAI's adventure-mode shape, else None."""
    match = _ACTION.fullmatch(text)
    if not match or not text.strip():
        return None
    body = match.group(1).strip()
    return Turn(role="player", text=text, kind="say" if _SAY.match(body) else "do", raw=body)


def _turns_from_extension(actions: list[str], options: list[list[str]],
                          extension: dict[str, Any]) -> list[Turn]:
    turns = []
    for text, others, info in zip(actions, options, extension["turns"]):
        if info["role"] == "player":
            turns.append(Turn(role="player", text=text, kind=info["kind"], raw=info["raw"],
                              speaker=info["speaker"]))
            continue
        chosen = min(info["chosen"], len(others))
        turns.append(Turn(role="model", text=text, speaker=info["speaker"],
                          alternatives=[*others[:chosen], text, *others[chosen:]],
                          chosen=chosen))
    return turns


def _extension(fields: Fields, actions: list[str], notes: list[str]) -> dict[str, Any] | None:
    """Our own extra data, if present and still true to the KoboldAI-visible story."""
    raw = fields.data.get(EXTENSION)
    if raw is None:
        return None
    checked = _check_extension(raw, len(actions))
    if checked is None or fields.data.get("memory") != kobold_memory(checked["memory"],
                                                                     checked["chat"]):
        notes.append(f"ignored the {EXTENSION} data in the file (it does not match the story; "
                     "edited elsewhere?)")
        return None
    return checked


def _check_extension(raw: Any, count: int) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or raw.get("format") != 1:
        return None
    mode, title, memory = raw.get("mode"), raw.get("title"), raw.get("memory")
    turns = raw.get("turns")
    if mode not in MODES or not isinstance(title, str) or not isinstance(memory, str):
        return None
    if not isinstance(turns, list) or len(turns) != count:
        return None
    out_turns = []
    for info in turns:
        if not isinstance(info, dict) or info.get("role") not in ("player", "model"):
            return None
        kind_, raw_text, speaker = info.get("kind"), info.get("raw", ""), info.get("speaker", "")
        chosen = info.get("chosen", 0)
        if kind_ is not None and kind_ not in ACTION_KINDS:
            return None
        if not isinstance(raw_text, str) or not isinstance(speaker, str):
            return None
        if type(chosen) is not int or chosen < 0:
            return None
        out_turns.append({"role": info["role"], "kind": kind_, "raw": clean(raw_text),
                          "speaker": clean(speaker), "chosen": chosen})
    chat = _check_chat(raw.get("chat")) if mode == "chat" else None
    if mode == "chat" and chat is None:
        return None
    return {"mode": mode, "title": clean(title), "memory": clean(memory), "chat": chat,
            "turns": out_turns}


def _check_chat(raw: Any) -> ChatSpec | None:
    if not isinstance(raw, dict):
        return None
    values = {key: raw.get(key, "You" if key == "player" else "") for key in _CHAT_FIELDS}
    others, alternates = raw.get("others", []), raw.get("alternate_greetings", [])
    if not all(isinstance(v, str) for v in values.values()) or not values["character"]:
        return None
    for texts in (others, alternates):
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return None
    return ChatSpec(**{k: clean(v) for k, v in values.items()},
                    others=tuple(clean(o) for o in others),
                    alternate_greetings=tuple(clean(g) for g in alternates))


# -- export -------------------------------------------------------------------------------

def kobold_memory(memory: str, chat: ChatSpec | None) -> str:
    """KoboldAI's memory for a game: in a chat, the persona and example lines come first
    (KoboldAI has no place of its own for them), as our prompt builder pins them."""
    if chat is None:
        return memory
    parts = (chat.persona.strip(), chat.example_dialogue.strip(), memory.strip())
    return "\n\n".join(part for part in parts if part)


def to_kobold(state: StoryState) -> tuple[dict[str, Any], list[str]]:
    """The game as a KoboldAI story document, and what KoboldAI's format cannot hold."""
    notes: list[str] = []
    turns = state.turns
    has_opening = bool(turns) and turns[0].role == "opening"
    prompt = turns[0].text if has_opening else ""
    rest = turns[1:] if has_opening else turns
    chat = state.chat if state.mode == "chat" else None
    note = state.authors_note
    metadata = {str(i): {"Selected Text": turn.text, "Alternative Text": [
        {"Text": text, "Pinned": False, "Previous Selection": True, "Edited": False}
        for j, text in enumerate(turn.alternatives) if j != turn.chosen and text != turn.text]}
        for i, turn in enumerate(rest)}
    doc: dict[str, Any] = {
        "gamestarted": True,
        "prompt": prompt,
        "memory": kobold_memory(state.memory, chat),
        "authorsnote": note,
        # KoboldAI wraps the note in its template; a note that is already bracketed (as ours
        # may be) goes in as it is.
        "anotetemplate": "<|>" if note.lstrip().startswith("[") else DEFAULT_TEMPLATE,
        "actions": [turn.text for turn in rest],
        "actions_metadata": metadata,
        "worldinfo": [_world_entry(i, entry, notes) for i, entry in enumerate(state.world)],
        "wifolders_d": {},
        "wifolders_l": [],
        EXTENSION: {
            "format": 1, "title": state.title, "mode": state.mode, "memory": state.memory,
            "chat": chat.to_dict() if chat else None,
            "turns": [{"role": "player" if t.role == "player" else "model", "kind": t.kind,
                       "raw": t.raw, "speaker": t.speaker, "chosen": t.chosen} for t in rest],
        },
    }
    if chat is not None:
        notes.append("the chat's persona and example dialogue are written into KoboldAI's "
                     "memory")
    if state.redo:
        notes.append("undone turns (redo) are not part of KoboldAI's format")
    if state.sampling:
        notes.append("this game's own generation settings are not part of KoboldAI's story "
                     "format")
    return doc, notes


def _world_entry(index: int, entry: WorldEntry, notes: list[str]) -> dict[str, Any]:
    for key in (*entry.keys, *entry.secondary_keys):
        if "," in key:
            notes.append(f"world info key {key[:40]!r} has a comma: KoboldAI reads it as "
                         "several keys")
    return {"key": ", ".join(entry.keys), "keysecondary": ", ".join(entry.secondary_keys),
            "content": entry.content, "comment": entry.comment, "folder": None,
            "selective": bool(entry.secondary_keys), "constant": entry.always, "uid": index}


def export_kobold(state: StoryState) -> tuple[str, list[str]]:
    """The KoboldAI story JSON text (ASCII, as KoboldAI writes it) and the notes."""
    doc, notes = to_kobold(state)
    # ensure_ascii: KoboldAI opens files in the platform's encoding (cp1252 on Windows), and
    # \\u escapes also carry lone surrogates safely.
    return json.dumps(doc, indent=3, ensure_ascii=True) + "\n", notes
