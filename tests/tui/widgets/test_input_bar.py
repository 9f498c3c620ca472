"""The input bar: Tab completes a command before it switches Do/Say/Story; the hints fit the
mode; a story that stops mid-sentence says that Enter alone lets GPT-2 go on."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Label

from gpt2_adventure.tui.widgets.input_bar import InputBar
from tests.support.fake_backend import FakeBackend
from tests.tui.helpers import playing, screen_text, settle


def _hint(bar: InputBar) -> str:
    return str(bar.query_one("#help", Label).render())


@pytest.mark.parametrize(("typed", "completed"), [("/re", "/retry"), ("/ED", "/edit "),
                                                  ("/mem", "/memory"), ("/wo", "/world ")])
async def test_tab_completes_the_suggested_command_and_keeps_the_kind(typed: str,
                                                                      completed: str) -> None:
    async with playing() as (_app, pilot, screen):
        bar = screen.query_one(InputBar)
        line = screen.query_one("#line", Input)
        line.value = typed
        line.cursor_position = len(typed)
        await settle(pilot)
        await pilot.press("tab")
        await settle(pilot)
        assert line.value == completed
        assert line.cursor_position == len(completed)
        assert bar.kind == "do"
        # With nothing left to complete, Tab switches the kind as usual.
        line.value = ""
        await pilot.press("tab")
        assert bar.kind == "say"


async def test_a_chat_advertises_no_do_say_story() -> None:
    async with playing(mode="chat", story="tavern-keeper") as (app, pilot, screen):
        bar = screen.query_one(InputBar)
        shown = screen_text(app)
        for word in ("Do/Say", "Do / Say", "Story"):
            assert word not in _hint(bar)
            assert word not in shown.splitlines()[-1]  # the footer
        line = screen.query_one("#line", Input)
        line.value = "/he"
        line.cursor_position = 3
        await pilot.press("tab")
        assert line.value == "/help "


async def test_an_adventure_says_what_tab_does() -> None:
    async with playing() as (app, _pilot, screen):
        assert "Tab: Do / Say / Story" in _hint(screen.query_one(InputBar))


async def test_an_opening_that_stops_mid_sentence_says_enter_lets_gpt2_go_on() -> None:
    backend = FakeBackend([" a sword in the stone.", " It is cold."])
    async with playing(backend=backend) as (_app, pilot, screen):
        line = screen.query_one("#line", Input)
        assert screen.game.state.turns[-1].text.rstrip().endswith("you see")
        assert "Enter" in line.placeholder and "GPT-2" in line.placeholder
        await pilot.press("enter")  # Enter alone: GPT-2 finishes the sentence
        for _ in range(100):
            await pilot.pause(0.01)
            if screen.stream is None and screen.game.state.turns[-1].text.endswith("stone."):
                break
        await settle(pilot)
        assert screen.game.state.turns[-1].text == " a sword in the stone."
        assert line.placeholder.startswith("What do you do?")
