"""What the screens look like, at 80x24 and 120x40, with a scripted backend."""

from __future__ import annotations

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.tui.screens.game import GameScreen
from tests.support.fake_backend import FakeBackend
from tests.tui.helpers import make_app
from tests.tui.screens.test_context import save_long_story

SIZES = [(80, 24), (120, 40)]


async def _idle(pilot) -> None:  # noqa: ANN001
    for _ in range(200):
        await pilot.pause(0.01)
        screen = pilot.app.screen
        if not isinstance(screen, GameScreen) or (screen.game is not None
                                                   and screen.stream is None):
            break
    await _steady(pilot)


async def _steady(pilot) -> None:  # noqa: ANN001
    # A blinking cursor shows or not by when the picture is taken (on a busy machine, more
    # than the blink's 0.5 s after the last key): keep it shown.
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    for _ in range(5):
        await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_title(snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001
    assert snap_compare(make_app(mode="title"), terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_seed_browser(snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001
    assert snap_compare(make_app(mode="title"), press=["enter"], terminal_size=size,
                        run_before=_idle)


@pytest.mark.parametrize("size", SIZES)
def test_game_after_a_turn(snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001
    async def play(pilot) -> None:  # noqa: ANN001
        await _idle(pilot)
        await pilot.press(*"open the door", "enter")
        await _idle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=play)


@pytest.mark.parametrize("size", SIZES)
def test_chat(snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001
    async def chat(pilot) -> None:  # noqa: ANN001
        await _idle(pilot)
        await pilot.press(*"Any rooms free tonight?", "enter")
        await _idle(pilot)

    app = make_app(mode="chat", story="tavern-keeper",
                   backend=None)
    assert snap_compare(app, terminal_size=size, run_before=chat)


@pytest.mark.parametrize("size", SIZES)
def test_settings(snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001
    async def open_settings(pilot) -> None:  # noqa: ANN001
        await _idle(pilot)
        pilot.app.open_settings()
        await _idle(pilot)

    assert snap_compare(make_app(mode="title"), terminal_size=size, run_before=open_settings)


@pytest.mark.parametrize("size", SIZES)
def test_error_no_model(snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001
    def missing(launch: object) -> None:
        raise UserError("model gpt2 is not installed",  # as engine/models/store.py says it
                        hint="pull it with `gpt2-adventure models pull gpt2`, or play a GGUF "
                             "file you already have with --model PATH")

    async def wait(pilot) -> None:  # noqa: ANN001
        for _ in range(30):
            await pilot.pause(0.01)
        await _steady(pilot)

    assert snap_compare(make_app(backend=missing), terminal_size=size, run_before=wait)


@pytest.mark.parametrize("size", SIZES)
def test_context_view(snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001
    async def look(pilot) -> None:  # noqa: ANN001
        await _idle(pilot)
        await pilot.press(*"/context ask about Brannoc", "enter")
        await _idle(pilot)
        await pilot.press("end")  # the end of the prompt: the recalled passage, the action
        await _idle(pilot)

    save_long_story()
    app = make_app(backend=FakeBackend([" He nods."], n_ctx=512), load="long")
    assert snap_compare(app, terminal_size=size, run_before=look)
