"""Messages the worker threads post to the UI (posting is thread-safe; widgets are not)."""

from __future__ import annotations

from textual.message import Message
from textual.screen import Screen

from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.game import Game
from gpt2_adventure.story.events import Event


class Streamed(Message):
    """One story-engine event from the generation worker."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class AheadReady(Message):
    """A reply written ahead is done (posted from the warm-up worker, which holds the
    model meanwhile: never wait for the UI there)."""


class GenerationFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class BackendReady(Message):
    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend


class BackendFailed(Message):
    def __init__(self, error: str, hint: str | None, no_model: bool) -> None:
        super().__init__()
        self.error = error
        self.hint = hint
        self.no_model = no_model


class GameOpened(Message):
    """The opening worker has opened ``screen``'s game (to the app, which takes it)."""

    def __init__(self, screen: Screen[None], game: Game) -> None:
        super().__init__()
        self.screen = screen
        self.game = game


class GameFailed(Message):
    """The game could not be opened (to its screen)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class TuneProgress(Message):
    """Tuning on first use has got this far (to the app, which tells the waiting screens)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class TuneDone(Message):
    """What came of tuning on first use, in one line."""

    def __init__(self, summary: str) -> None:
        super().__init__()
        self.summary = summary
