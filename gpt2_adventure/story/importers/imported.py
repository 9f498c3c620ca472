"""What an importer makes of a file before anything is written, and what writing it did.

A saved game from another program becomes an ``ImportedStory``: plain text, exactly as the
other program stored it. It turns into a ``StoryState`` (a save) or, with ``--as seed``, a
``Seed`` whose texts are escaped templates (literal ``{``/``}`` doubled).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from gpt2_adventure.story.model import ChatSpec, Mode, Seed, StoryState, Turn, WorldEntry
from gpt2_adventure.story.seeds.fill import escape
from gpt2_adventure.units import count

ItemKind = Literal["seed", "save"]


@dataclass
class ImportedStory:
    """A game in progress read from another program; texts are plain text, not templates."""

    title: str
    mode: Mode
    opening: str
    memory: str = ""
    authors_note: str = ""
    world: list[WorldEntry] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)  # after the opening
    chat: ChatSpec | None = None

    def to_state(self) -> StoryState:
        return StoryState(mode=self.mode, title=self.title, memory=self.memory,
                          authors_note=self.authors_note, world=list(self.world),
                          turns=[Turn(role="opening", text=self.opening), *self.turns],
                          chat=self.chat if self.mode == "chat" else None)

    def to_seed(self, seed_id: str, description: str) -> tuple[Seed, list[str]]:
        """The story's start as a seed, and what a seed cannot hold."""
        dropped = []
        if self.turns:
            dropped.append(f"{count(len(self.turns), 'turn')} after the opening (a seed is how "
                           "a game starts; import without --as seed to keep the game)")
        chat = self.chat if self.mode == "chat" else None
        if chat is not None:
            chat = ChatSpec(character=escape(chat.character), persona=escape(chat.persona),
                            example_dialogue=escape(chat.example_dialogue),
                            greeting=escape(chat.greeting), player=escape(chat.player),
                            others=tuple(escape(o) for o in chat.others))
        mode: Mode = self.mode if chat is not None or self.mode != "chat" else "story"
        world = tuple(replace(w, keys=tuple(escape(k) for k in w.keys),
                              secondary_keys=tuple(escape(k) for k in w.secondary_keys),
                              content=escape(w.content)) for w in self.world)
        seed = Seed(id=seed_id, title=self.title, mode=mode, openings=(escape(self.opening),),
                    description=description, memory=escape(self.memory),
                    authors_note=escape(self.authors_note), world=world, chat=chat)
        return seed, dropped


@dataclass
class Conversion:
    """A file converted in memory: the seeds and saves it would create, and what was lost."""

    source: str  # the file, as shown in messages
    format: str  # e.g. "an AI Dungeon 2 save"
    seeds: list[Seed] = field(default_factory=list)
    saves: list[tuple[str, StoryState]] = field(default_factory=list)  # (name wanted, game)
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Item:
    """One seed or save that an import created (or skipped)."""

    kind: ItemKind
    name: str
    path: Path


@dataclass
class ImportResult:
    """What importing one file did."""

    source: str
    format: str
    created: list[Item] = field(default_factory=list)
    skipped: list[Item] = field(default_factory=list)  # seeds that already existed
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
