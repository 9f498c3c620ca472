"""The context meter and the status line follow every change to what GPT-2 sees, at once."""

from __future__ import annotations

import re

import pytest

from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.widgets.meter import ContextMeter, StatusBar
from tests.tui.helpers import playing, send


def _meter(screen: GameScreen) -> str:
    return str(screen.query_one(ContextMeter).render())


def _used(screen: GameScreen) -> int:
    found = re.search(r"context (\d+)/\d+", str(screen.query_one(StatusBar).render()))
    assert found, "the status line shows no context"
    return int(found.group(1))


def _part(screen: GameScreen, label: str) -> int:
    found = re.search(rf"{label} (\d+)", _meter(screen))
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize(("setup", "line", "part", "grows"), [
    ("", "/remember The dragon fears cold iron and the songs of children.", "memory", True),
    ("", "/note -", "note", False),
    ("", "/world add lantern = A brass lantern that never goes out.", "world", None),
    ("/world add sword, blade = An old sword called Dawn. It hums near dragons.",
     "/world remove 5", "world", None),
])
async def test_the_meter_and_status_line_follow_a_command_at_once(
        setup: str, line: str, part: str, grows: bool | None) -> None:
    async with playing() as (app, pilot, screen):
        if setup:
            await send(pilot, screen, setup)
        if part == "world":  # world info shows when its key is in the recent story
            await send(pilot, screen, "look at the sword and the lantern")
        before, used = _part(screen, part), _used(screen)
        await send(pilot, screen, line)
        # What the game itself would now send to GPT-2:
        expected = screen.game.session.preview()
        assert _used(screen) == expected.used != used
        after = _part(screen, part)
        assert after == expected.parts.get("pinned" if part == "memory" else part, 0)
        if grows is not None:
            assert (after > before) if grows else (after < before)
