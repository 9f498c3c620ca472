"""A save name belongs to one game: in the TUI, saving over another game's save asks first,
and Ctrl+S never writes over another game's save."""

from __future__ import annotations

import pytest

from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.screens.save_name import ReplaceSave
from tests.tui.helpers import playing, send, settle, until


def other_game(store: SaveStore, name: str) -> StoryState:
    state = StoryState(mode="adventure", title="Another Tale",
                       turns=[Turn("opening", "You wake in a barn.")])
    store.save(state, name)
    return state


async def test_ctrl_s_saves_beside_another_games_save_of_the_same_story() -> None:
    async with playing() as (app, pilot, screen):
        assert screen.game is not None
        store = SaveStore(app.launch.paths)
        title = screen.game.state.title
        other = other_game(store, title)  # e.g. the same story played before
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ReplaceSave)  # nothing to ask: a free name
        assert store.load(title).id == other.id  # the other game's save is still there
        assert store.load(f"{title} 2").id == screen.game.state.id


@pytest.mark.parametrize(("button", "holds_castle", "castle_2"), [
    ("choice-cancel", "other", False),
    ("choice-replace", "this", False),
    ("choice-beside", "other", True),
])
async def test_saving_over_another_games_save_asks(button: str, holds_castle: str,
                                                   castle_2: bool) -> None:
    async with playing() as (app, pilot, screen):
        assert isinstance(screen, GameScreen) and screen.game is not None
        store = SaveStore(app.launch.paths)
        other = other_game(store, "castle")
        await send(pilot, screen, "/save castle")
        await until(pilot, lambda: isinstance(app.screen, ReplaceSave))
        body = "\n".join(str(s.render()) for s in app.screen.query("Static"))
        assert "Another Tale" in body and "castle 2" in body
        assert store.load("castle").id == other.id  # nothing written while it asks
        await pilot.click(f"#{button}")
        await until(pilot, lambda: app.screen is screen)
        await settle(pilot)
        expected = other.id if holds_castle == "other" else screen.game.state.id
        assert store.load("castle").id == expected
        assert (store.saves_dir / "castle 2.json").exists() is castle_2


async def test_escape_saves_nothing() -> None:
    async with playing() as (app, pilot, screen):
        store = SaveStore(app.launch.paths)
        other = other_game(store, "castle")
        await send(pilot, screen, "/save castle")
        await until(pilot, lambda: isinstance(app.screen, ReplaceSave))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        assert store.load("castle").id == other.id
        assert [p.name for p in store.saves_dir.glob("*.json")] == ["castle.json"]
