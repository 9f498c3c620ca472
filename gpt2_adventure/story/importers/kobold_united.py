"""KoboldAI United's own story format (``"file_version": 2``, ``story.json``): import.

The shape, as KoboldAI United writes it (``koboldai_settings.py``: ``story_settings.to_json``
writes every story setting; the action register and the world info write themselves)::

    {"file_version": 2, "story_name": "...", "prompt": "...", "memory": "...",
     "authornote": "...", "authornotetemplate": "[Author's note: <|>]",
     "adventure": false, "chatmode": false, "storymode": 0, "chatname": "You",
     "botname": "Bot",
     "actions": {"action_count": 1, "actions": {
         "0": {"Selected Text": "...", "Origin": "ai", "Time": 1700000000,
               "Original Text": "...", "Selected Text Length": 0, "Probabilities": [],
               "Options": [{"text": "...", "Pinned": false, "Previous Selection": true,
                            "Edited": false, "Probabilities": []}]}, ...}},
     "worldinfo_v2": {"folders": {"root": [0], "Places": [1]},
                      "entries": {"0": {"uid": 0, "title": "...", "key": ["..."],
                                        "keysecondary": [], "folder": "root",
                                        "constant": false, "content": "...",
                                        "manual_text": "...", "comment": "", "type": "wi",
                                        "use_wpp": false, "wpp": {...}, ...}}},
     "lua_edited": "base64:gASV...", "notes": "", "biases": {}, ...,
     "worldinfo": [...], "wifolders_d": {...}, ...}   # copies for the old UI

The story is the prompt followed by the selected text of every action in id order, except
the one after ``action_count`` (generated options not yet chosen); an action United records
as the player's (``"Origin": "user"``; older saves: KoboldAI's adventure-mode ``> `` shape,
or the chat shape ``\\nYou: line\\nBot:``) is a player turn. An action's other options
(retries, pinned and earlier selections, the text before an edit) become its alternatives.

Any value KoboldAI United could not write as JSON it writes as ``"base64:"`` followed by a
Python pickle, and its loader unpickles it: a story file can carry code. Nothing here ever
unpickles (no pickle, marshal or eval at all): such values are skipped and named in the
dropped list.
"""

from __future__ import annotations

import re
from typing import Any

from gpt2_adventure import units
from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.importers.common import (
    ImportProblem,
    clean,
    import_fields,
    kind,
    need_object,
)
from gpt2_adventure.story.importers.imported import ImportedStory
from gpt2_adventure.story.importers.kobold import (
    adventure_action,
    comma_keys,
    never_shown,
    note_with_template,
)
from gpt2_adventure.story.model import ChatSpec, Mode, Turn, WorldEntry

FORMAT = "a KoboldAI United story"
PICKLED = "base64:"
DEFAULT_NAME = "New Game"  # United's name for a story nobody named
# Story settings with no equivalent here, named when they hold something.
_NO_EQUIVALENT = {"notes": "story notes", "auto_memory": "automatic memory",
                  "biases": "phrase biases", "stop_sequence": "stop sequences",
                  "genres": "genres", "picture": "the story picture",
                  "revisions": "earlier revisions", "commentary_enabled": "commentary"}
_MAX_NAMES = 6
_INTEGER = re.compile(r"-?[0-9]{1,9}")


# -- import -------------------------------------------------------------------------------

def story_from_united(doc: object, where: str, title: str
                      ) -> tuple[ImportedStory, list[str], list[str]]:
    """(the story, what was dropped, notes)."""
    data = need_object(doc, where, "a KoboldAI United story")
    pickled = [key for key, value in data.items()
               if isinstance(value, str) and value.startswith(PICKLED)]
    # Never read: the reader below sees those fields as absent.
    fields = import_fields({k: v for k, v in data.items() if k not in pickled}, where)
    dropped: list[str] = []
    notes: list[str] = []
    if pickled:
        dropped.append(f"{_names(pickled)} (stored as Python pickles, which are never read: "
                       "a story file could run code through them)")
    prompt = fields.text("prompt")
    chat = _chat(fields)
    turns = _turns(fields, chat, dropped)
    if not prompt.strip():
        # What KoboldAI does on load: the first piece of the story becomes the prompt.
        first = next((i for i, t in enumerate(turns) if t.text.strip()), None)
        if first is None:
            raise ImportProblem("the story is empty (no prompt and no actions)", where)
        prompt = turns[first].text
        del turns[:first + 1]
        notes.append("the prompt was empty; the first piece of the story is the opening")
    mode: Mode = "story"
    if chat is not None:
        mode = "chat"
    elif (fields.data.get("adventure") is True or fields.data.get("storymode") == 1
          or any(t.kind in ("do", "say") for t in turns)):
        mode = "adventure"
    name = fields.text("story_name").strip()
    story = ImportedStory(
        title=name[:80] if name and name != DEFAULT_NAME else title, mode=mode,
        opening=prompt, memory=fields.text("memory"),
        authors_note=note_with_template(fields.text("authornote"),
                                        fields.text("authornotetemplate")),
        world=_world(fields, dropped), turns=turns, chat=chat)
    others = [label for key, label in _NO_EQUIVALENT.items() if fields.filled(key)]
    if any(isinstance(s, dict) and s.get("enabled") is True
           for s in _list(fields.data.get("substitutions"))):
        others.append("text substitutions")
    if others:
        dropped.append(f"{_names(others)} (KoboldAI United's; no equivalent here)")
    return story, dropped, notes


def _names(names: list[str]) -> str:
    shown = [clean(" ".join(n.split()))[:40] for n in names[:_MAX_NAMES]]
    more = f" and {len(names) - _MAX_NAMES} more" if len(names) > _MAX_NAMES else ""
    return ", ".join(shown) + more


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _chat(fields: Fields) -> ChatSpec | None:
    """The chat's two names when the story was played in United's chat mode."""
    data = fields.data
    if data.get("chatmode") is not True and data.get("storymode") != 2:
        return None
    player, bot = fields.text("chatname").strip(), fields.text("botname").strip()
    if not bot:
        return None  # nobody to talk to: the story is read as prose
    return ChatSpec(character=bot, player=player or "You")


# -- actions ------------------------------------------------------------------------------

def _number(fields: Fields, key: str) -> int | None:
    value = fields.data.get(key)
    if value is None:
        return None
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)  # United reads it with int()
    if type(value) is not int:
        fields.fail(key, f"should be a number, not {kind(value)}")
    return value


def _action_id(key: object) -> int | None:
    if isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 10:
        return int(key)
    return None


def _turns(fields: Fields, chat: ChatSpec | None, dropped: list[str]) -> list[Turn]:
    register = fields.obj("actions")
    if register is None:
        return []
    count = _number(register, "action_count")
    table = register.obj("actions")
    if table is None:
        return []
    entries: list[tuple[int, Any]] = []
    unnumbered = 0
    for key, value in table.data.items():
        number = _action_id(key)
        if number is None:
            unnumbered += 1
        else:
            entries.append((number, value))
    entries.sort(key=lambda e: e[0])
    pending = count + 1 if count is not None else None
    turns: list[Turn] = []
    lost_options = player_versions = 0
    for number, value in entries:
        action = table.sub(str(number), value)
        text = action.text("Selected Text")
        options = _options(action)
        if number == pending or not text:  # options not chosen yet, or an undone action
            lost_options += len(options)
            continue
        turn = _turn(text, action.data.get("Origin"), chat)
        if turn.role == "player":
            player_versions += len([o for o in options if o != text])
        else:
            turn.alternatives = [text, *(o for i, o in enumerate(options)
                                         if o != text and o not in options[:i])]
        turns.append(turn)
    if chat is not None:
        _move_chat_cues(turns, chat)
    if unnumbered:
        dropped.append(f"{units.count(unnumbered, 'action')} whose key is not a number")
    if lost_options:
        dropped.append(f"{lost_options} options of undone or unfinished actions (redo)")
    if player_versions:
        dropped.append(f"{player_versions} earlier versions of the player's actions")
    return turns


def _options(action: Fields) -> list[str]:
    out = []
    for item in _list(action.data.get("Options")):
        text = item.get("text") if isinstance(item, dict) else None
        if isinstance(text, str) and text:
            out.append(clean(text))
    return out


def _turn(text: str, origin: object, chat: ChatSpec | None) -> Turn:
    """United marks the actions it appends as the player's or the model's ("Origin"); the
    model's replies usually have no mark (they are chosen from generated options), and older
    saves have none at all: then the shape tells."""
    if chat is not None:
        match = _chat_line(chat).fullmatch(text)
        if origin == "user" or (match and origin != "ai"):
            line = match.group(1) if match else text.strip()
            return Turn(role="player", text=text, kind="say", raw=line, speaker=chat.player)
        return Turn(role="model", text=text, speaker=chat.character)
    action = adventure_action(text) if origin != "ai" else None
    if action is not None:
        return action
    if origin == "user":
        return Turn(role="player", text=text, kind="story", raw=text.strip())
    return Turn(role="model", text=text)


def _chat_line(chat: ChatSpec) -> re.Pattern[str]:
    """United's chat submission: ``\\n{chatname}: {line}\\n{botname}:``."""
    return re.compile(rf"\n{re.escape(chat.player)}: (.*)\n{re.escape(chat.character)}:",
                      re.DOTALL)


def _move_chat_cues(turns: list[Turn], chat: ChatSpec) -> None:
    """United ends the player's line with the bot's name (``\\nBot:``); here that name opens
    the reply instead (the story reads the same), and the game adds it before each reply."""
    cue = f"\n{chat.character}:"
    for index, turn in enumerate(turns):
        if turn.role != "player" or not turn.text.endswith(cue) or turn.text == cue:
            continue
        turn.text = turn.text[:-len(cue)]
        after = turns[index + 1] if index + 1 < len(turns) else None
        if after is not None and after.role == "model":
            if after.alternatives:  # (its text is the chosen one)
                after.alternatives = [cue + a for a in after.alternatives]
            else:
                after.text = cue + after.text


# -- world info ---------------------------------------------------------------------------

def _keys(entry: Fields, key: str) -> tuple[str, ...]:
    """United writes keys as a list; it also reads ``"a, b"`` (the old shape)."""
    value = entry.data.get(key)
    items = ([entry.text(key)] if isinstance(value, str) else entry.texts(key))
    return tuple(k for item in items for k in comma_keys(item))


def _world(fields: Fields, dropped: list[str]) -> list[WorldEntry]:
    try:
        world = fields.obj("worldinfo_v2")
        table = world.obj("entries") if world is not None else None
    except ImportProblem as problem:
        dropped.append(f"world info: {problem.message}")
        return []
    if world is None or table is None:  # (no entries table: no entries, and no folders)
        return []
    folders = world.data.get("folders")
    named = [str(f) for f in folders if f != "root"] if isinstance(folders, dict) else []
    out: list[WorldEntry] = []
    commentators = 0
    for index, (uid, value) in enumerate(table.data.items()):
        label = f"world info entry {index + 1}"
        try:
            entry = table.sub(str(uid), value)
            keys, secondary = _keys(entry, "key"), _keys(entry, "keysecondary")
            # United shows W++ entries as the text it made from them (content); others as
            # the text the player typed (manual_text), as its loader does.
            use_wpp = entry.flag("use_wpp")
            content = (entry.text("content") if use_wpp or not entry.given("manual_text")
                       else entry.text("manual_text"))
            title, comment = entry.text("title").strip(), entry.text("comment").strip()
            kind_ = entry.data.get("type")
            constant = entry.flag("constant") or kind_ in ("constant", "commentator")
        except ImportProblem as problem:
            dropped.append(f"{label}: {problem.message}")
            continue
        if kind_ == "commentator":
            commentators += 1  # United keeps these out of the story's context
            continue
        if (why := never_shown(content, keys, constant)) is not None:
            dropped.append(f"{label}: {why}")
            continue
        # The title names the entry (United's default is its first key); both go in the
        # comment, which is where a name is kept here. United reads secondary keys whenever
        # there are any (it sets "selective" from them on load).
        note = "; ".join(p for p in (title if title not in keys[:1] else "", comment) if p)
        out.append(WorldEntry(keys=keys, content=content, secondary_keys=secondary,
                              always=constant, comment=note))
    if commentators:
        dropped.append(f"{commentators} world info commentator entries")
    if named:
        dropped.append(f"world info folders {_names(named)} (the entries are kept, "
                       "without folders)")
    return out
