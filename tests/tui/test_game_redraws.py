"""The game screen draws again only the turns the game says changed: an /alt the last turn, a
reply the turns it added, an edit that turn, an undo none (what it took goes), a load all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from rich.text import Text

from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.widgets import transcript as transcript_module
from gpt2_adventure.tui.widgets.transcript import Transcript
from tests.tui.helpers import playing, send


@contextmanager
def drawn(monkeypatch: pytest.MonkeyPatch, screen: GameScreen) -> Iterator[list[int]]:
    """The indexes of the story's turns the transcript draws (lays out anew) meanwhile."""
    found: list[int] = []
    real = transcript_module.turn_text

    def recording(turn: Turn, story: StoryState) -> Text:
        found.extend(i for i, t in enumerate(story.turns) if t is turn)
        return real(turn, story)

    with monkeypatch.context() as patch:
        patch.setattr(transcript_module, "turn_text", recording)
        yield found


def shown(screen: GameScreen) -> list[str]:
    return screen.query_one(Transcript).turn_texts()


def story(screen: GameScreen) -> list[str]:
    assert screen.game is not None
    return [t.text.strip() for t in screen.game.state.turns]


async def test_alt_draws_only_the_last_turn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    async with playing() as (_app, pilot, screen):
        for action in ("open the door", "look around"):
            await send(pilot, screen, action)
        await send(pilot, screen, "/retry")
        last = len(story(screen)) - 1
        with drawn(monkeypatch, screen) as turns:
            await send(pilot, screen, "/alt")
        assert turns == [last]
        assert shown(screen) == story(screen)


async def test_a_reply_draws_only_the_turns_it_adds(monkeypatch: pytest.MonkeyPatch) -> None:
    async with playing() as (_app, pilot, screen):
        await send(pilot, screen, "open the door")
        before = len(story(screen))  # the last of them a reply, which stays as it is
        with drawn(monkeypatch, screen) as turns:
            await send(pilot, screen, "look around")
        assert turns == [before, before + 1]
        assert shown(screen) == story(screen)
        with drawn(monkeypatch, screen) as turns:
            await send(pilot, screen, "/continue")  # more of the last reply
        assert turns == [before + 1]
        assert shown(screen) == story(screen)


async def test_edit_draws_that_turn_and_undo_none(monkeypatch: pytest.MonkeyPatch) -> None:
    async with playing() as (_app, pilot, screen):
        for action in ("open the door", "look around"):
            await send(pilot, screen, action)
        with drawn(monkeypatch, screen) as turns:
            await send(pilot, screen, "/edit 2 You open the door slowly.")
        assert turns == [1]
        assert "slowly" in shown(screen)[1] and shown(screen) == story(screen)
        with drawn(monkeypatch, screen) as turns:
            await send(pilot, screen, "/undo")
        assert turns == []
        assert shown(screen) == story(screen) and len(shown(screen)) == 3
        with drawn(monkeypatch, screen) as turns:
            await send(pilot, screen, "/redo")
        assert turns == [3, 4]
        assert shown(screen) == story(screen)


async def test_a_load_draws_the_whole_story(monkeypatch: pytest.MonkeyPatch) -> None:
    async with playing() as (_app, pilot, screen):
        await send(pilot, screen, "open the door")
        await send(pilot, screen, "/save mine")
        with drawn(monkeypatch, screen) as turns:
            await send(pilot, screen, "/load mine")
        assert turns == list(range(len(story(screen))))
        assert shown(screen) == story(screen)
