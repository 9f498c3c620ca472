"""Lore in the same reply, in the TUI: a dim mark where the entry came into view."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Input

from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.widgets.transcript import Transcript
from tests.support.fake_backend import FakeBackend
from tests.tui.helpers import make_app, playing, send, settle, wait_idle

LORE = "Bram the blacksmith hid the silver key."


def reply(prompt: str) -> str:
    if LORE in prompt:
        return " and he hides something behind his back."
    return " You meet the blacksmith at his forge."


async def test_the_transcript_marks_where_lore_came_in() -> None:
    app = make_app(backend=FakeBackend(reply))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        await send(pilot, screen, f"/world add blacksmith = {LORE}")
        await send(pilot, screen, "look around")
        transcript = screen.query_one(Transcript)
        assert screen.game is not None
        assert screen.game.state.turns[-1].text == (
            " You meet the blacksmith and he hides something behind his back.")
        shown = "\n".join(transcript.lines())
        assert "You meet the blacksmith [lore: blacksmith] and he hides something" in shown
        assert LORE not in shown  # the entry itself is not part of the reply
        # Only the turn that brought it in is marked; the next is not.
        await send(pilot, screen, "wave")
        assert "\n".join(transcript.lines()).count("[lore:") == 1


async def test_no_mark_when_the_setting_is_off() -> None:
    app = make_app(backend=FakeBackend(reply))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        await send(pilot, screen, "/settings lore_mid_reply false")
        await send(pilot, screen, f"/world add blacksmith = {LORE}")
        await send(pilot, screen, "look around")
        assert "[lore:" not in "\n".join(screen.query_one(Transcript).lines())


async def test_the_settings_screen_turns_it_off_for_the_open_game(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from gpt2_adventure.tui.screens import settings as screen_module

    monkeypatch.setattr(screen_module, "say", lambda *_a, **_kw: None)
    async with playing(size=(100, 60)) as (app, pilot, _screen):
        builder = app.game.session.builder  # type: ignore[union-attr]
        assert builder.lore_mid_reply
        app.open_settings()
        await settle(pilot)
        app.screen.query_one("#memory-lore_mid_reply", Input).value = "off"
        app.screen.action_save()
        await settle(pilot)
        assert not builder.lore_mid_reply
    config = Path(os.environ["GPT2_ADVENTURE_CONFIG_DIR"]) / "config.toml"
    assert "lore_mid_reply = false" in config.read_text(encoding="utf-8")
