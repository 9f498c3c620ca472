"""A chat from a character card in the TUI: the scene, then the greeting once; Alt+→ flips to
the card's alternate greetings; the meter shows the card's parts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import Input

from gpt2_adventure.tui.app import AdventureApp
from gpt2_adventure.tui.screens.dialogs import Questions
from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.widgets.meter import ContextMeter
from gpt2_adventure.tui.widgets.transcript import Transcript
from tests.support.fake_backend import FakeBackend
from tests.support.png_cards import card_png
from tests.tui.helpers import (
    REPLIES,
    make_app,
    make_launch,
    screen_text,
    settle,
    until,
    wait_idle,
)

CARD = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {
    "name": "Mira", "description": "{{char}} is a cartographer who maps [bold]lost[/bold] "
    "places.\r\nShe talks fast.", "personality": "bright, restless",
    "scenario": "{{user}} steps into {{char}}'s map shop as the rain starts.",
    "first_mes": "*looks up from a half-drawn coastline* Oh! A customer. Do you need a map, "
                 "{{user}}?",
    "mes_example": "<START>\r\n{{user}}: Hi.\r\n{{char}}: Welcome!",
    "alternate_greetings": ["*waves an inky hand* Shut the door, the maps will get wet!"],
    "system_prompt": "You are Mira.",
    "character_book": {"entries": [{"keys": ["coast"], "content": "The coast is unmapped.",
                                    "enabled": True, "insertion_order": 0}]}}}


async def test_a_card_chat_shows_its_greeting_once_and_flips_to_alternates(
        tmp_path: Path) -> None:
    path = tmp_path / "mira.png"
    path.write_bytes(card_png(CARD))
    app = make_app(mode="chat", story=None, character=path)
    async with app.run_test(size=(110, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        turns = screen.query_one(Transcript).turn_texts()
        assert turns == ["You step into Mira's map shop as the rain starts.",
                         "Mira: *looks up from a half-drawn coastline* Oh! A customer. Do you "
                         "need a map, Anna?"]  # addressed: the name (--name), not "you"
        assert screen_text(app).count("half-drawn coastline") == 1
        meter = str(screen.query_one(ContextMeter).render())
        assert "persona" in meter and "examples" in meter and "chat" in meter
        assert "[bold]lost[/bold]" in screen_text(app)  # card text is data, never markup
        told = [n.message for n in app._notifications]  # noqa: SLF001 - the toasts shown
        assert any("system prompt ignored" in m for m in told), told  # what the card lost

        await pilot.press("alt+right")
        await until(pilot, lambda: "inky hand" in screen_text(app))
        assert screen.query_one(Transcript).turn_texts()[-1] == (
            "Mira: *waves an inky hand* Shut the door, the maps will get wet!")
        assert screen_text(app).count("half-drawn coastline") == 0
        await pilot.press("alt+left")
        await settle(pilot)
        assert screen_text(app).count("half-drawn coastline") == 1


async def test_a_card_that_calls_the_player_by_name_asks_for_it_first(tmp_path: Path) -> None:
    path = tmp_path / "mira.png"
    path.write_bytes(card_png(CARD))
    launch = replace(make_launch("chat", None, character=path), name=None)  # no --name
    app = AdventureApp(launch, lambda _: FakeBackend(list(REPLIES)))
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, Questions))
        assert "What does Mira call you?" in screen_text(app)
        app.screen.query_one(Input).value = "Tom"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, GameScreen))
        await wait_idle(pilot, app.screen)
        assert app.screen.query_one(Transcript).turn_texts()[1].endswith(
            "Do you need a map, Tom?")
