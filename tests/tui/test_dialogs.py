"""The game's dialogs: the story shows, dimmed, behind them; each is titled for what it shows."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from gpt2_adventure.tui.screens.dialogs import Choice, EditTurn
from tests.support.fake_backend import FakeBackend
from tests.tui.helpers import playing, screen_text, send, settle, until


def _title(choice: Choice) -> str:
    return str(choice.query_one(".title", Static).render())


@pytest.mark.parametrize("line", ["/memory", "/world", "/edit", "/help", "ESC"])
async def test_the_story_shows_dimmed_behind_a_dialog(line: str) -> None:
    backend = FakeBackend([" one two three four five six seven eight nine ten."] * 3,
                          hold_after=4)
    async with playing(backend=backend) as (app, pilot, screen):
        title = screen.game.state.title
        assert title in screen_text(app).splitlines()[0]
        if line == "ESC":  # "keep what GPT-2 wrote so far?"
            screen.query_one("#line", Input).value = "wait"
            await pilot.press("enter")
            await until(pilot, backend.holding.is_set)
            await pilot.press("escape")
        else:
            if line == "/memory":  # more than three lines: a dialog, not a notification
                await send(pilot, screen, "/remember The dragon is called Vharzul.")
            await send(pilot, screen, line)
        await until(pilot, lambda: isinstance(app.screen, (Choice, EditTurn)))
        await settle(pilot)
        assert title in screen_text(app).splitlines()[0]  # above the dialog: the story's title
        background = app.screen.styles.background
        assert 0 < background.a < 1  # dimmed, not hidden
        if isinstance(app.screen, Choice):  # and titled for what it shows
            assert _title(app.screen) != "gpt2-adventure"
        if line == "ESC":
            assert _title(app.screen) == "GPT-2 stopped mid-reply"


@pytest.mark.parametrize(("line", "title"), [("/memory", "Memory"), ("/world", "World info"),
                                             ("/help", "Commands")])
async def test_a_commands_answer_is_titled_after_the_command(line: str, title: str) -> None:
    async with playing() as (app, pilot, screen):
        if line == "/memory":
            await send(pilot, screen, "/remember The dragon is called Vharzul.")
        await send(pilot, screen, line)
        assert isinstance(app.screen, Choice)
        assert _title(app.screen) == title


async def test_f1_is_titled_and_shows_the_keys() -> None:
    async with playing() as (app, pilot, _screen):
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, Choice))
        assert _title(app.screen) == "Keys and commands"
        assert "Ctrl+R" in screen_text(app)
