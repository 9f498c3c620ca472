"""The numbers /edit N, /pin N, /forget N and /world remove N take, shown while the player
types those commands: turn numbers beside the story, memory and world lines under the input."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from gpt2_adventure.tui.widgets.transcript import Transcript
from tests.tui.helpers import playing, screen_text, send, settle


def _rows(screen) -> list[str]:  # noqa: ANN001
    transcript = screen.query_one(Transcript)
    return [transcript.render_line(y).text.rstrip() for y in range(transcript.size.height)]


async def _type(pilot, screen, text: str) -> None:  # noqa: ANN001
    line = screen.query_one("#line", Input)
    line.value = text
    line.cursor_position = len(text)
    await settle(pilot)


@pytest.mark.parametrize("command", ["/edit ", "/e", "/pin ", "/PIN"])
async def test_turn_numbers_show_beside_the_story_while_edit_or_pin_is_typed(command: str
                                                                             ) -> None:
    async with playing((100, 40)) as (_app, pilot, screen):
        await send(pilot, screen, "open the door")
        await send(pilot, screen, "look around")
        plain = _rows(screen)
        assert not any(row.lstrip().startswith(("1 ", "2 ", "3 ")) for row in plain)
        await _type(pilot, screen, command)
        rows = _rows(screen)
        turns = screen.game.state.turns
        for number, turn in enumerate(turns, start=1):
            first_words = " ".join(turn.text.split()[:3])
            row = next(r for r in rows if first_words in r)
            assert row.split()[0] == str(number), (number, row)
        # The number shown is the one the command takes.
        await _type(pilot, screen, "")
        assert _rows(screen) == plain  # gone once the command is
        number = next(r for r in rows if "You look around." in r).split()[0]
        await send(pilot, screen, f"/edit {number} > You look up.")
        assert turns[int(number) - 1].text.strip() == "> You look up."


async def test_memory_lines_show_numbered_while_forget_is_typed() -> None:
    async with playing((100, 40)) as (app, pilot, screen):
        memory = screen.game.session.memory_lines()
        await _type(pilot, screen, "/forget ")
        shown = screen_text(app)
        for number, line in enumerate(memory, start=1):
            assert f"{number}. {line[:30]}" in shown
        await _type(pilot, screen, "look")
        assert f"1. {memory[0][:30]}" not in screen_text(app)


async def test_world_entries_show_numbered_while_world_remove_is_typed() -> None:
    async with playing((100, 40)) as (app, pilot, screen):
        world = screen.game.state.world
        await _type(pilot, screen, "/world remove ")
        shown = screen_text(app)
        for number, entry in enumerate(world, start=1):
            assert f"{number}. [{', '.join(entry.keys)}]" in shown
