"""The [memory] lore_mid_reply setting in an open game: from the settings file through
``open_game``, and ``/settings lore_mid_reply on|off`` while playing."""

from __future__ import annotations

from gpt2_adventure.config import MemorySettings, Settings
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game import Game, Stream
from gpt2_adventure.game_commands.outcomes import OpenSettings
from gpt2_adventure.launch import Launch, open_game
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.events import LoreInserted
from gpt2_adventure.story.model import StoryState, Turn, WorldEntry
from tests.support.fake_backend import FakeBackend

LORE = "Bram the blacksmith hid the silver key."


def reply(prompt: str) -> str:
    return " He grins." if LORE in prompt else " You meet the blacksmith at the forge."


def start(**memory: object) -> Game:
    state = StoryState(mode="adventure", title="t",
                       world=[WorldEntry(keys=("blacksmith",), content=LORE)],
                       turns=[Turn(role="opening", text="You stand in a village square.")])
    launch = Launch(paths=AppPaths.from_env(),
                    settings=Settings(memory=MemorySettings(**memory)))  # type: ignore[arg-type]
    return open_game(launch, FakeBackend(reply), state, Sampling(max_tokens=30))


def inserted(game: Game, line: str) -> bool:
    outcome = game.handle(line)
    assert isinstance(outcome, Stream), outcome
    return any(isinstance(event, LoreInserted) for event in outcome.events)


def test_on_by_default() -> None:
    game = start()
    try:
        assert inserted(game, "look around")
    finally:
        game.close()


def test_the_setting_turns_it_off_and_slash_settings_on_again() -> None:
    game = start(lore_mid_reply=False)
    try:
        assert not inserted(game, "look around")
        shown = game.handle("/settings")
        assert isinstance(shown, OpenSettings)
        assert "lore_mid_reply = false" in shown.fallback.lines
        assert game.handle("/settings lore_mid_reply on").lines == [  # type: ignore[union-attr]
            "lore_mid_reply = true"]
        game.handle("/undo")
        assert inserted(game, "look around")
    finally:
        game.close()
