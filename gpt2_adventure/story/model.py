"""The story's data: seeds (how a game starts) and the state of a game in progress.

Plain dataclasses with ``to_dict``/``from_dict`` so saves, seeds and cards share one shape.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Mode = Literal["adventure", "story", "chat"]
MODES: tuple[str, ...] = ("adventure", "story", "chat")
ActionKind = Literal["do", "say", "story"]
ACTION_KINDS: tuple[str, ...] = ("do", "say", "story")
# The opening of a chat that starts on the character's greeting, with no scene above it.
NO_SCENE = ""


@dataclass(frozen=True)
class WorldEntry:
    """Lore shown to the model when one of its keys appears in recent text (or always)."""

    keys: tuple[str, ...]
    content: str
    secondary_keys: tuple[str, ...] = ()  # if given, one of these must appear too
    always: bool = False
    comment: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"keys": list(self.keys), "content": self.content,
                "secondary_keys": list(self.secondary_keys), "always": self.always,
                "comment": self.comment}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorldEntry:
        return cls(keys=tuple(data.get("keys", ())), content=data["content"],
                   secondary_keys=tuple(data.get("secondary_keys", ())),
                   always=bool(data.get("always", False)), comment=data.get("comment", ""))


@dataclass(frozen=True)
class Placeholder:
    """A blank in the seed the player fills in at the start, e.g. ``{name}``."""

    name: str
    question: str
    default: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "question": self.question, "default": self.default}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Placeholder:
        return cls(name=data["name"], question=data.get("question", data["name"]),
                   default=data.get("default", ""))


@dataclass(frozen=True)
class ChatSpec:
    """Who speaks in a chat seed. ``others`` are extra voices (a forum thread, a party)."""

    character: str
    persona: str = ""
    example_dialogue: str = ""  # lines like "Name: text"
    greeting: str = ""  # the character's first message: the chat's first reply
    player: str = "You"
    others: tuple[str, ...] = ()
    alternate_greetings: tuple[str, ...] = ()  # other first messages (alternatives of it)

    @property
    def speakers(self) -> tuple[str, ...]:
        return (self.character, *self.others)

    def to_dict(self) -> dict[str, Any]:
        return {"character": self.character, "persona": self.persona,
                "example_dialogue": self.example_dialogue, "greeting": self.greeting,
                "player": self.player, "others": list(self.others),
                **({"alternate_greetings": list(self.alternate_greetings)}
                   if self.alternate_greetings else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatSpec:
        return cls(character=data["character"], persona=data.get("persona", ""),
                   example_dialogue=data.get("example_dialogue", ""),
                   greeting=data.get("greeting", ""), player=data.get("player", "You"),
                   others=tuple(data.get("others", ())),
                   alternate_greetings=tuple(data.get("alternate_greetings", ())))


@dataclass(frozen=True)
class Seed:
    """How a game starts. Loaded from TOML (stories/*.toml), a character card or an importer."""

    id: str  # file stem: what --story NAME matches
    title: str
    mode: Mode
    openings: tuple[str, ...]  # one is picked at random; may contain {placeholders}
    genre: str = ""
    description: str = ""
    placeholders: tuple[Placeholder, ...] = ()
    memory: str = ""
    authors_note: str = ""
    world: tuple[WorldEntry, ...] = ()
    sampling: dict[str, Any] = field(default_factory=dict)  # Sampling field overrides
    chat: ChatSpec | None = None
    source: Path | None = None  # where it was loaded from (not saved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "mode": self.mode,
            "openings": list(self.openings), "genre": self.genre,
            "description": self.description,
            "placeholders": [p.to_dict() for p in self.placeholders],
            "memory": self.memory, "authors_note": self.authors_note,
            "world": [w.to_dict() for w in self.world], "sampling": dict(self.sampling),
            "chat": self.chat.to_dict() if self.chat else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Seed:
        chat = data.get("chat")
        return cls(
            id=data["id"], title=data["title"], mode=data["mode"],
            openings=tuple(data["openings"]), genre=data.get("genre", ""),
            description=data.get("description", ""),
            placeholders=tuple(Placeholder.from_dict(p) for p in data.get("placeholders", ())),
            memory=data.get("memory", ""), authors_note=data.get("authors_note", ""),
            world=tuple(WorldEntry.from_dict(w) for w in data.get("world", ())),
            sampling=dict(data.get("sampling", {})),
            chat=ChatSpec.from_dict(chat) if chat else None,
        )


Role = Literal["opening", "player", "model"]


class Turn:
    """One piece of the transcript.

    ``text`` is exactly what the model sees for this turn (for a player turn: the formatted
    action, e.g. ``"\\n> You open the door.\\n"``). A model turn keeps its alternatives
    (retries) and which one is shown; its ``text`` is the chosen one, ``alternatives[chosen]``
    (a property: setting it rewrites that alternative). A turn without alternatives (the
    player's, the opening, an imported reply) holds its text itself. ``ahead`` holds replies
    written ahead for it that the player has not been shown yet: not part of the story (no
    transcript or export prints them) until one is shown as an alternative
    (``story/choices.py``).
    """

    def __init__(self, role: Role, text: str, kind: ActionKind | None = None, raw: str = "",
                 speaker: str = "", alternatives: list[str] | None = None, chosen: int = 0,
                 ahead: list[str] | None = None) -> None:
        """``text`` is what the story shows: with ``alternatives``, it is the chosen one's
        (a save whose text differs from its chosen alternative keeps the text it showed)."""
        self.role: Role = role
        self.kind: ActionKind | None = kind  # player turns: do / say / story
        self.raw = raw  # player turns: what the player typed
        self.speaker = speaker  # chat turns: who speaks
        self.alternatives: list[str] = list(alternatives or ())
        self.ahead: list[str] = list(ahead or ())
        if self.alternatives and not 0 <= chosen < len(self.alternatives):
            raise ValueError(f"chosen is {chosen} but the turn has "
                             f"{len(self.alternatives)} alternative(s)")
        self.chosen = chosen if self.alternatives else 0
        self._own = ""  # the text of a turn without alternatives
        self.text = text

    @property
    def text(self) -> str:
        return self.alternatives[self.chosen] if self.alternatives else self._own

    @text.setter
    def text(self, value: str) -> None:
        if self.alternatives:
            self.alternatives[self.chosen] = value
        else:
            self._own = value

    def _key(self) -> tuple[object, ...]:
        return (self.role, self.text, self.kind, self.raw, self.speaker, self.alternatives,
                self.chosen, self.ahead)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Turn) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as a dataclass)

    def __repr__(self) -> str:
        return (f"Turn(role={self.role!r}, text={self.text!r}, kind={self.kind!r}, "
                f"raw={self.raw!r}, speaker={self.speaker!r}, alternatives={self.alternatives!r}, "
                f"chosen={self.chosen!r}, ahead={self.ahead!r})")

    def choose(self, index: int) -> None:
        self.chosen = index % len(self.alternatives)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"role": self.role, "text": self.text}
        if self.kind:
            data["kind"] = self.kind
        if self.raw:
            data["raw"] = self.raw
        if self.speaker:
            data["speaker"] = self.speaker
        if self.alternatives:
            data["alternatives"] = list(self.alternatives)
            data["chosen"] = self.chosen
        if self.ahead:
            data["ahead"] = list(self.ahead)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        return cls(role=data["role"], text=data["text"], kind=data.get("kind"),
                   raw=data.get("raw", ""), speaker=data.get("speaker", ""),
                   alternatives=list(data.get("alternatives", ())),
                   chosen=int(data.get("chosen", 0)), ahead=list(data.get("ahead", ())))


@dataclass
class StoryState:
    """Everything a save holds: the game as the player left it."""

    mode: Mode
    title: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)  # one per game, kept by saves
    seed_id: str = ""
    memory: str = ""
    authors_note: str = ""
    world: list[WorldEntry] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    redo: list[list[Turn]] = field(default_factory=list)  # undone steps, newest last
    chat: ChatSpec | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # placeholder answers
    model: str = ""  # the model it was played with (informational)
    # Automatic lore (story/autolore.py): names the player dropped (saved), and the entries
    # the story's names make, derived from the turns (not saved; empty ones keep a place).
    dropped_lore: list[str] = field(default_factory=list)
    lore: list[WorldEntry] = field(default_factory=list, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "title": self.title, "id": self.id, "seed_id": self.seed_id,
            "memory": self.memory, "authors_note": self.authors_note,
            "world": [w.to_dict() for w in self.world],
            "turns": [t.to_dict() for t in self.turns],
            "redo": [[t.to_dict() for t in step] for step in self.redo],
            "chat": self.chat.to_dict() if self.chat else None,
            "sampling": dict(self.sampling), "values": dict(self.values), "model": self.model,
            "dropped_lore": list(self.dropped_lore),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoryState:
        chat = data.get("chat")
        return cls(
            mode=data["mode"], title=data["title"], id=data.get("id") or uuid.uuid4().hex,
            seed_id=data.get("seed_id", ""),
            memory=data.get("memory", ""), authors_note=data.get("authors_note", ""),
            world=[WorldEntry.from_dict(w) for w in data.get("world", ())],
            turns=[Turn.from_dict(t) for t in data.get("turns", ())],
            redo=[[Turn.from_dict(t) for t in step] for step in data.get("redo", ())],
            chat=ChatSpec.from_dict(chat) if chat else None,
            sampling=dict(data.get("sampling", {})), values=dict(data.get("values", {})),
            model=data.get("model", ""), dropped_lore=list(data.get("dropped_lore", ())),
        )
