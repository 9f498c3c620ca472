"""What the screens may ask of the app, typed: ``AdventureApp`` (tui/app.py) is the one.

The screens cannot import tui/app.py (it imports them), so they see the app through this
class, as ``app = getters.app(GameApp)``.
"""

from __future__ import annotations

from textual.app import App
from textual.screen import Screen

from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.game import Game
from gpt2_adventure.launch import Launch
from gpt2_adventure.story.model import Seed, StoryState


class GameApp(App[None]):
    """The app owns the open game (``game``, one at a time) and the screen showing it."""

    launch: Launch
    game: Game | None
    game_screen: Screen[None] | None

    def start_seed(self, seed: Seed) -> None:
        raise NotImplementedError

    def open_state(self, state: StoryState) -> None:
        raise NotImplementedError

    def open_game(self, screen: Screen[None], state: StoryState, backend: Backend) -> None:
        raise NotImplementedError

    def close_game(self) -> None:
        raise NotImplementedError

    def request_backend(self, screen: Screen[None]) -> None:
        raise NotImplementedError

    def pull_default(self, screen: Screen[None]) -> None:
        raise NotImplementedError

    def skip_tuning(self) -> bool:
        """Stop tuning on first use if it runs; whether it did."""
        return False

    def open_models(self) -> None:
        raise NotImplementedError

    def use_model(self, spec: str) -> None:
        raise NotImplementedError

    def open_settings(self) -> None:
        raise NotImplementedError

    def open_load(self) -> None:
        raise NotImplementedError

    def action_quit_game(self) -> None:
        raise NotImplementedError
