"""Messages the worker threads post to the UI (posting is thread-safe; widgets are not).

Each is a dataclass, as Textual's own messages are: ``Message.__post_init__`` sets up what
its ``__init__`` would."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.screen import Screen

from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.game import Game
from gpt2_adventure.story.events import Event


@dataclass
class Streamed(Message):
    """One story-engine event from the generation worker."""

    event: Event


class AheadReady(Message):
    """A reply written ahead is done (posted from the warm-up worker, which holds the
    model meanwhile: never wait for the UI there)."""


@dataclass
class GenerationFailed(Message):
    error: str


@dataclass
class BackendReady(Message):
    backend: Backend


@dataclass
class BackendFailed(Message):
    error: str
    hint: str | None
    no_model: bool


@dataclass
class GameOpened(Message):
    """The opening worker has opened ``screen``'s game (to the app, which takes it)."""

    screen: Screen[None]
    game: Game


@dataclass
class GameFailed(Message):
    """The game could not be opened (to its screen)."""

    error: str


@dataclass
class TuneProgress(Message):
    """Tuning on first use has got this far (to the app, which tells the waiting screens)."""

    text: str


@dataclass
class TuneDone(Message):
    """What came of tuning on first use, in one line."""

    summary: str
