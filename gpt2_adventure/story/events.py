"""What a reply in the making tells whoever drives it: ``Piece`` (new text), ``Restart`` (a
loop was caught; forget the streamed text, a re-roll follows), ``LoreInserted`` (world info
the reply named was put before it, and it goes on with it in view) and, last, ``Done``; and
what a cancelled reply leaves behind (``Pending``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gpt2_adventure.engine.backend import GenerationStats
from gpt2_adventure.errors import UserError
from gpt2_adventure.story.model import Turn

# What a reply becomes: a new turn (after the player's, if any), another alternative of the
# last reply (retry), or more of it (continue).
Target = Literal["new", "alternative", "extend"]


class SessionError(UserError):
    """An action that makes no sense now (nothing to undo, no reply to retry...)."""


@dataclass
class Piece:
    text: str


@dataclass
class Restart:
    reason: str


@dataclass
class LoreInserted:
    """The reply so far named world entries the prompt lacked: they were inserted where the
    reply began and it goes on with them in view (``story/midreply.py``). ``keys``: the key
    of each that the reply wrote; ``at``: how many characters of the reply came before."""

    keys: tuple[str, ...]
    at: int


@dataclass
class Done:
    text: str  # the reply as it joined the story (or the partial one, when cancelled)
    finish_reason: str
    cancelled: bool = False
    rerolls: int = 0
    stats: GenerationStats | None = None


Event = Piece | Restart | Done | LoreInserted


@dataclass
class Pending:
    """A cancelled generation, kept aside until the player keeps or drops it."""

    action: Turn | None  # the player's turn that asked for it (act), if any
    text: str
    target: Target
