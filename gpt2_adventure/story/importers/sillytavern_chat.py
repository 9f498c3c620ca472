"""SillyTavern chat logs (``chats/<character>/<name>.jsonl``), in and out.

A log is JSON Lines: a header, then one message a line::

    {"user_name": "You", "character_name": "Aqua", "create_date": 1674559896839,
     "chat_metadata": {"note_prompt": "...", "note_interval": 1, "note_position": 1,
                       "note_depth": 4, "world_info": "Axel"}}
    {"name": "Aqua", "is_user": false, "is_system": false, "send_date": 1674563371558,
     "mes": "Are you new here?", "swipes": ["Are you new here?", "Hello!"], "swipe_id": 0,
     "swipe_info": [...], "extra": {}}

In: each message is a turn, written as the model saw it (``\\nName: text``); a message's
swipes are its alternatives with the chosen one shown; ``is_system`` messages are hidden
from the AI in SillyTavern (``/hide``) and left out here, counted on a ``dropped:`` line;
narrator messages (``extra.type == "narrator"``) are prose without a name. The author's note
is ``chat_metadata.note_prompt``. A group chat (several characters) makes each speaker a
voice. The character card, when given (or found beside the log by the character's name),
gives the persona, example dialogue, scene and lore.

Out: a chat game as a log SillyTavern loads, swipes included. What SillyTavern has no place
for (the scene above the first message, memory, persona, the title) rides along in
``chat_metadata.gpt2_adventure``, which SillyTavern keeps, so importing it back gives the same
game.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.importers.common import (
    ImportProblem,
    clean,
    import_fields,
    kind,
    load_json,
)
from gpt2_adventure.story.importers.imported import ImportedStory
from gpt2_adventure.story.model import NO_SCENE, ChatSpec, Seed, StoryState, Turn

FORMAT = "a SillyTavern chat"
HEADER_KEYS = ("user_name", "character_name", "create_date", "chat_metadata")
EXTENSION = "gpt2_adventure"
MAX_MESSAGES = 100_000
MAX_SWIPES = 1_000
DEFAULT_NOTE = {"note_interval": 1, "note_position": 1, "note_depth": 4}
_QUIET_METADATA = {"note_prompt", *DEFAULT_NOTE, EXTENSION, "chat_id_hash", "tainted",
                   "lastInContextMessageId", "timedWorldInfo", "integrity"}
_NAME_LIMIT = 100


def is_header(doc: object) -> bool:
    return isinstance(doc, dict) and sum(key in doc for key in HEADER_KEYS) >= 2


@dataclass
class Chat:
    """A parsed log: the header and the messages, each with its line number."""

    header: dict[str, Any]
    messages: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def parse_log(text: str, where: str) -> Chat:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise ImportProblem("the chat log is empty", where)
    if len(lines) > MAX_MESSAGES + 1:
        raise ImportProblem(f"the chat has too many messages ({len(lines) - 1:,}; at most "
                            f"{MAX_MESSAGES:,})", where)
    header = _load_line(lines[0][1], where, lines[0][0])
    if not is_header(header):
        raise ImportProblem("the first line is not a SillyTavern chat header (user_name, "
                            "character_name, chat_metadata)", f"{where}:{lines[0][0]}")
    chat = Chat(header)
    for number, line in lines[1:]:
        message = _load_line(line, where, number)
        if not isinstance(message, dict):
            raise ImportProblem(f"a message should be an object, not {kind(message)}",
                                f"{where}:{number}")
        chat.messages.append((number, message))
    return chat


def _load_line(line: str, where: str, number: int) -> Any:
    """One line's JSON; an error names the file, the line and the column."""
    try:
        return load_json(line, where)
    except ImportProblem as problem:
        column = str(problem.where).rsplit(":", 1)[-1] if problem.where else ""
        place = f"{where}:{number}:{column}" if column.isdigit() else f"{where}:{number}"
        raise ImportProblem(problem.message, place) from None


def character_name(chat: Chat) -> str:
    name = chat.header.get("character_name")
    return _name(name) if isinstance(name, str) else ""


def _name(text: str) -> str:
    """A speaker's label: one line, no ':' (it marks who speaks)."""
    return " ".join(clean(text).replace(":", " ").split())[:_NAME_LIMIT]


@dataclass
class _Reading:
    where: str
    dropped: list[str] = field(default_factory=list)
    hidden: int = 0
    swipes: int = 0
    replaced: int = 0


def story_from_chat(chat: Chat, where: str, title: str, card: Seed | None = None
                    ) -> tuple[ImportedStory, list[str], list[str]]:
    """The chat as a game, what was dropped, and notes."""
    header = import_fields(chat.header, where)
    metadata = header.obj("chat_metadata")
    ours = metadata.obj(EXTENSION) if metadata is not None else None
    reading = _Reading(where)
    notes: list[str] = []
    character = character_name(chat)
    user = header.data.get("user_name")
    player = _name(user) if isinstance(user, str) and user != "unused" else ""
    turns, speakers, players = _turns(chat, reading, player)
    player = player or (players[0] if players else "You")
    if character in ("", "unused") or character not in speakers:
        character = speakers[0] if speakers else (character or "Character")
    others = tuple(s for s in speakers if s != character)
    if player.casefold() in {s.casefold() for s in (character, *others)}:
        notes.append(f"you and a character are both called {player!r}; you are 'User' here")
        player = "User"
    spec = ChatSpec(character=character, player=player, others=others)
    opening, memory, authors_note, world = NO_SCENE, "", "", []
    if card is not None and card.chat is not None:
        spec = replace(card.chat, character=character, player=player, others=others,
                       greeting="", alternate_greetings=())
        opening = card.openings[0] if card.openings else NO_SCENE
        memory, authors_note, world = card.memory, card.authors_note, list(card.world)
    if ours is not None:
        opening = ours.text("opening") or opening
        memory = ours.text("memory") or memory
        title = " ".join(ours.text("title").split())[:80] or title
        spec = replace(spec, persona=ours.text("persona") or spec.persona,
                       example_dialogue=ours.text("example_dialogue") or spec.example_dialogue)
    if metadata is not None:
        authors_note = metadata.text("note_prompt").strip() or authors_note
        reading.dropped += _metadata_dropped(metadata)
    if reading.hidden:
        reading.dropped.append(f"{reading.hidden} hidden message(s) (SillyTavern keeps them "
                               "out of the AI's view)")
    if reading.replaced:
        notes.append(f"{reading.replaced} message(s) differed from their chosen swipe; the "
                     "message shown was kept as the chosen one")
    story = ImportedStory(title=title, mode="chat", opening=opening, memory=memory,
                          authors_note=authors_note, world=world, turns=turns, chat=spec)
    return story, reading.dropped, notes


def label(story: ImportedStory) -> str:
    """``a SillyTavern chat`` or ``a SillyTavern group chat``."""
    spec = story.chat
    return "a SillyTavern group chat" if spec is not None and spec.others else FORMAT


def _turns(chat: Chat, reading: _Reading, player: str
           ) -> tuple[list[Turn], list[str], list[str]]:
    turns: list[Turn] = []
    speakers: list[str] = []
    players: list[str] = []
    for number, message in chat.messages:
        fields = import_fields(message, f"{reading.where}:{number}")
        if fields.flag("is_system", False):
            reading.hidden += 1
            continue
        mes = fields.text("mes")
        name = _name(fields.text("name"))
        extra = message.get("extra")
        if isinstance(extra, dict) and extra.get("type") == "narrator":
            turns.append(Turn(role="model", text="\n" + mes, alternatives=["\n" + mes]))
            continue
        if fields.flag("is_user", False):
            name = name or player or "You"
            if name not in players:
                players.append(name)
            turns.append(Turn(role="player", text=f"\n{name}: {mes}", kind="say", raw=mes,
                              speaker=name))
            continue
        name = name or "Character"
        if name not in speakers:
            speakers.append(name)
        turns.append(_reply(fields, name, mes, reading))
    return turns, speakers, players


def _reply(fields: Fields, name: str, mes: str, reading: _Reading) -> Turn:
    swipes = fields.texts("swipes", MAX_SWIPES) if fields.given("swipes") else []
    chosen = fields.data.get("swipe_id")
    if isinstance(chosen, bool) or not isinstance(chosen, int) or not swipes:
        chosen = 0
    chosen = min(max(chosen, 0), max(len(swipes) - 1, 0))
    if not swipes:
        swipes = [mes]
    elif swipes[chosen] != mes:
        swipes[chosen] = mes
        reading.replaced += 1
    reading.swipes += len(swipes) - 1
    alternatives = [f"\n{name}: {text}" for text in swipes]
    return Turn(role="model", text=alternatives[chosen], speaker=name,
                alternatives=alternatives, chosen=chosen)


def _metadata_dropped(metadata: Fields) -> list[str]:
    out = []
    for key, default in DEFAULT_NOTE.items():
        value = metadata.data.get(key)
        if value is not None and value != default and metadata.filled("note_prompt"):
            out.append(f"author's note {key.removeprefix('note_')} {value!r} (it goes "
                       "near the end of the story here)")
    world = metadata.data.get("world_info")
    if isinstance(world, str) and world.strip():
        out.append(f"the linked World Info {world.strip()[:60]!r} (add it with: "
                   "gpt2-adventure import FILE --into THIS_SAVE)")
    rest = sorted(str(k)[:40] for k, v in metadata.data.items()
                  if k not in _QUIET_METADATA and k != "world_info" and v not in (None, "", {},
                                                                                  []))
    if rest:
        out.append("chat metadata without an equivalent: " + ", ".join(rest))
    return out


# -- out ----------------------------------------------------------------------------------

def export_chat(state: StoryState, now_ms: int | None = None) -> tuple[str, list[str]]:
    """The game as a SillyTavern chat log (JSON Lines) and notes on what changed."""
    chat = state.chat
    if state.mode != "chat" or chat is None:
        raise UserError("only a chat exports as a SillyTavern chat (this game is a "
                        f"{state.mode})")
    stamp = int(time.time() * 1000) if now_ms is None else now_ms
    notes: list[str] = []
    opening = state.turns[0].text if state.turns and state.turns[0].role == "opening" else ""
    ours = {"format": 1, "title": state.title, "opening": opening, "memory": state.memory,
            "persona": chat.persona, "example_dialogue": chat.example_dialogue}
    metadata: dict[str, Any] = {"note_prompt": state.authors_note, **DEFAULT_NOTE,
                                EXTENSION: ours}
    header = {"user_name": chat.player, "character_name": chat.character,
              "create_date": stamp, "chat_metadata": metadata}
    lines = [header]
    for i, turn in enumerate(state.turns):
        if turn.role == "opening":
            continue
        lines.append(_message(turn, chat, stamp + i))
    if opening.strip():
        notes.append("the scene above the first message: SillyTavern shows it nowhere (it "
                     "is kept in chat_metadata.gpt2_adventure, so importing the chat back "
                     "restores it)")
    if state.world:
        notes.append("world info (not part of a chat: export it with --format lorebook)")
    text = "\n".join(json.dumps(line, ensure_ascii=True) for line in lines) + "\n"
    return text, notes


def _said(text: str, speaker: str) -> str:
    prefix = f"\n{speaker}: "
    if speaker and text.startswith(prefix):
        return text[len(prefix):]
    return text[1:] if text.startswith("\n") else text


def _message(turn: Turn, chat: ChatSpec, stamp: int) -> dict[str, Any]:
    if turn.role == "player":
        name = turn.speaker or chat.player
        return {"name": name, "is_user": True, "is_system": False, "send_date": stamp,
                "mes": _said(turn.text, name), "extra": {}}
    if not turn.speaker:  # prose without a name: a narrator message
        return {"name": "System", "is_user": False, "is_system": False, "send_date": stamp,
                "mes": _said(turn.text, ""), "extra": {"type": "narrator"}}
    swipes = [_said(text, turn.speaker) for text in (turn.alternatives or [turn.text])]
    chosen = turn.chosen if turn.alternatives else 0
    return {"name": turn.speaker, "is_user": False, "is_system": False, "send_date": stamp,
            "mes": swipes[chosen], "swipes": swipes, "swipe_id": chosen,
            "swipe_info": [{"send_date": stamp, "extra": {}} for _ in swipes], "extra": {}}
