"""Ctrl+Q while GPT-2 writes (issue 23): the autosave holds the action with its reply, or
neither, wherever in the reply the player quits; and the warm-up is out of the backend before
the app closes it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Input

from gpt2_adventure.engine.backend import ReplyStream
from gpt2_adventure.story.saves.store import SaveStore
from tests.support.fake_backend import FakeBackend
from tests.tui.helpers import make_app, make_launch, settle, until, wait_idle

LONG = " one two three four five six seven eight nine ten eleven twelve thirteen."


def saved_actions(state_id: str) -> list[tuple[str, str]]:
    turns = SaveStore(make_launch().paths).load(f"autosave/{state_id}").turns
    return [(t.role, t.raw) for t in turns]


@pytest.mark.parametrize("moment", [1, 5, 9])
async def test_ctrl_q_in_mid_reply_saves_the_story_as_it_was(moment: int) -> None:
    # The reply stops at ``moment`` pieces until it is cancelled, and then takes a moment to
    # come out of the backend (as llama.cpp finishing a chunk does).
    backend = FakeBackend([LONG] * 3, hold_after=moment)
    backend.stop_seconds = 0.3
    app = make_app(backend=backend)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        state = screen.game.state
        before = [(t.role, t.raw) for t in state.turns]
        line = screen.query_one("#line", Input)
        line.value = "open the door"
        await pilot.press("enter")
        await until(pilot, backend.holding.is_set)
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert saved_actions(state.id) == before


async def test_ctrl_q_as_the_reply_ends_saves_both_or_neither() -> None:
    backend = FakeBackend([LONG] * 3, hold_after=5)
    app = make_app(backend=backend)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        state = screen.game.state
        before = [(t.role, t.raw) for t in state.turns]
        line = screen.query_one("#line", Input)
        line.value = "open the door"
        await pilot.press("enter")
        await until(pilot, backend.holding.is_set)
        backend.release.set()
        await pilot.press("ctrl+q")
        await settle(pilot)
    after = saved_actions(state.id)
    assert after == before or (after[:-2] == before and after[-2][1] == "open the door"
                               and after[-1][0] == "model")


class Watched(FakeBackend):
    """Counts the streams inside it; ``close`` records how many were."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.inside = 0
        self.inside_at_close: int | None = None

    def stream(self, *args: object, **kw: object) -> ReplyStream:
        pieces = super().stream(*args, **kw)  # type: ignore[arg-type]

        def counted() -> Iterator[str]:
            self.inside += 1
            try:
                yield from pieces
            finally:
                self.inside -= 1

        return ReplyStream(counted(), pieces.stats)

    def close(self) -> None:
        self.inside_at_close = self.inside


async def test_ctrl_q_while_a_reply_is_written_ahead_closes_the_model_after_it() -> None:
    # The reply is short; the one written ahead (candidates 2) stops in the middle.
    backend = Watched([" Yes.", LONG], hold_after=5)
    backend.ahead, backend.stop_seconds = True, 0.3
    app = make_app(backend=backend)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        line = screen.query_one("#line", Input)
        line.value = "open the door"
        await pilot.press("enter")
        await until(pilot, backend.holding.is_set)
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert backend.inside_at_close == 0
