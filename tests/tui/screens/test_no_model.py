"""No model could be loaded: the dialog offers a download, the Models screen, and playing a
GPT-2 .gguf file the player has, typed as a path (checked; a bad one is a clear message)."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import Button, Input, Static

from gpt2_adventure.errors import UserError
from gpt2_adventure.launch import Launch
from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.screens.no_model import NoModel
from gpt2_adventure.tui.widgets.meter import StatusBar
from tests.support.fake_backend import FakeBackend
from tests.tui.helpers import REPLIES, make_app, screen_text, settle, until, wait_idle


def _factory(asked: list[str | None]):  # noqa: ANN202
    def load(launch: Launch) -> FakeBackend:
        asked.append(launch.model)
        if launch.model is None:  # what the loader says with no model installed
            raise UserError("model gpt2 is not installed",
                            hint="pull it with `gpt2-adventure models pull gpt2`, or play a "
                                 "GGUF file you already have with --model PATH")
        return FakeBackend(list(REPLIES))
    return load


async def test_a_gguf_file_of_the_players_plays_from_the_no_model_dialog(
        tiny_gguf_q8: Path, tmp_path: Path) -> None:
    asked: list[str | None] = []
    mine = tmp_path / "gpt2.Q8_0.gguf"
    shutil.copy(tiny_gguf_q8, mine)
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    app = make_app(backend=_factory(asked))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, NoModel))
        await settle(pilot)
        first = app.game_screen
        dialog = app.screen
        shown = screen_text(app)
        assert "--model" not in shown and "type its path below" in shown
        labels = [str(b.label) for b in dialog.query(Button)]
        assert "Download gpt2 now" in labels and "Models" in labels
        status = str(app.game_screen.query_one(StatusBar).render())
        assert status.startswith("no model: ") and status.endswith(".gguf file")
        # A bad path: said in the dialog, which stays.
        path = dialog.query_one("#path", Input)
        path.value = str(bad)
        path.focus()
        await pilot.press("enter")
        await settle(pilot)
        problem = str(dialog.query_one("#problem", Static).render())
        assert "not a GGUF file" in problem and str(bad) in problem
        assert app.screen is dialog
        path.value = str(tmp_path / "missing.gguf")
        await pilot.click("#play-file")
        await settle(pilot)
        assert "not found" in str(dialog.query_one("#problem", Static).render())
        # A good one: the story opens with it.
        path.value = str(mine)
        path.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, GameScreen) and app.screen is not first)
        await wait_idle(pilot, app.screen)
        assert app.screen.game is not None
        assert asked == [None, str(mine)] and app.launch.model == str(mine)
