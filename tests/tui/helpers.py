"""Building the app for Pilot and snapshot tests: a scripted backend, isolated folders."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from textual.pilot import Pilot
from textual.widgets import Input

from gpt2_adventure.config import Settings, UISettings
from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.launch import Launch
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.tui.app import AdventureApp
from gpt2_adventure.tui.screens.game import GameScreen
from tests.support.fake_backend import FakeBackend

REPLIES = [" The door creaks open. Cold air rushes past you.",
           " A lantern flickers in the hall. Somewhere, water drips.",
           " The stairs wind down into darkness.",
           " You hear footsteps above."] * 5


def make_launch(mode: str = "play", story: str | None = "knight", **kw: object) -> Launch:
    settings = Settings(ui=UISettings(theme="textual-dark", text_width=88))
    return Launch(paths=AppPaths.from_env(), settings=settings, mode=mode,  # type: ignore[arg-type]
                  story=story, name="Anna", rng_seed=1, **kw)  # type: ignore[arg-type]


def make_app(mode: str = "play", story: str | None = "knight",
             backend: Backend | Callable[[Launch], Backend] | None = None,
             **kw: object) -> AdventureApp:
    if backend is None:
        backend = FakeBackend(list(REPLIES))
    factory = (lambda launch: backend) if isinstance(backend, Backend) else backend
    return AdventureApp(make_launch(mode, story, **kw), factory)  # type: ignore[arg-type]


def screen_text(app: AdventureApp) -> str:
    """What the terminal shows now, as plain text (one line per row): with the screens below
    a dialog where its background lets them through, as the app draws them."""
    from textual._context import visible_screen_stack

    visible_screen_stack.set(app._background_screens)  # noqa: SLF001
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())  # noqa: SLF001


async def settle(pilot: Pilot, rounds: int = 6) -> None:
    for _ in range(rounds):
        await pilot.pause()


async def wait_idle(pilot: Pilot, screen: GameScreen, limit: int = 200) -> None:
    """Until the game is open and GPT-2 is not writing."""
    for _ in range(limit):
        await pilot.pause(0.01)
        if screen.stream is None and screen.game is not None:
            break
    await settle(pilot)


async def until(pilot: Pilot, condition: Callable[[], bool], seconds: float = 60,
                seen: Callable[[], str] | None = None) -> None:
    """Let the app run until ``condition`` holds (a wait, not a race: however slow the
    machine); fails after ``seconds``, saying what ``seen`` describes (the status...)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true" + (
            f"; seen: {seen()}" if seen is not None else "")
        await pilot.pause(0.02)


async def send(pilot: Pilot, screen: GameScreen, text: str) -> None:
    line = screen.query_one("#line", Input)
    line.value = text
    line.focus()
    await pilot.press("enter")
    await wait_idle(pilot, screen)


@asynccontextmanager
async def playing(size: tuple[int, int] = (100, 30),
                  **kw: object) -> AsyncIterator[tuple[AdventureApp, Pilot, GameScreen]]:
    """A game open in the app (``make_app(**kw)``), its model ready."""
    app = make_app(**kw)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        yield app, pilot, screen
