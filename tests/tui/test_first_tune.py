"""Tuning on first use in the TUI (Pilot, the tiny model, a fresh cache): the status line
shows its progress, Esc skips it, and the game opens either way."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from gpt2_adventure.engine import first_use
from gpt2_adventure.engine.tuning import load_tuning
from gpt2_adventure.tui.app import AdventureApp
from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.widgets.meter import StatusBar
from tests.tui.helpers import make_launch, until


def tuning_file() -> Path:
    return Path(os.environ["GPT2_ADVENTURE_CACHE_DIR"]) / "tuning.json"


def real_app(model: Path) -> AdventureApp:
    # One thread, set as a player would: the app's own event loop shares this process, and
    # two llama.cpp threads on a 2-core machine with a third thread busy crawl (the loop then
    # starves for seconds), which says nothing about the TUI. The rest is measured.
    launch = make_launch(model=str(model))
    launch.settings = dataclasses.replace(
        launch.settings, model=dataclasses.replace(launch.settings.model, auto_tune=True,
                                                   threads=1))
    app = AdventureApp(launch)  # the real loader, which tunes first
    app.told = []  # type: ignore[attr-defined]
    shown = app.notify

    def notify(message: str, **options: object) -> None:
        app.told.append(message)  # type: ignore[attr-defined]
        shown(message, **options)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    return app


def notes(app: AdventureApp) -> list[str]:
    """Every notification the app showed (a shown one may have timed out since)."""
    return app.told  # type: ignore[attr-defined, no-any-return]


def status(app: AdventureApp) -> str:
    return str(app.screen.query_one(StatusBar).render())


def seen(app: AdventureApp) -> str:
    """What the player sees, for a wait that fails."""
    return f"status {status(app)!r}, messages {notes(app)!r}, screen {app.screen!r}"


async def test_the_progress_shows_and_esc_skips_to_the_defaults(
        tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Long enough to be seen and skipped: many rounds, a budget far away.
    monkeypatch.setattr(first_use, "QUICK_SMALL", dataclasses.replace(
        first_use.QUICK_SMALL, rounds=400, budget_seconds=120.0))
    app = real_app(tiny_gguf)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "tuning the speed settings" in status(app)
                    and "%" in status(app))
        assert "Esc skips" in status(app)
        assert isinstance(app.screen, GameScreen) and app.game is None
        await pilot.press("escape")
        await until(pilot, lambda: app.game is not None, seen=lambda: seen(app))
        assert "tuning" not in status(app)
        # The summary comes as a message of its own, not always before the game opens.
        await until(pilot, lambda: any(note.startswith("speed tuning skipped")
                                       for note in notes(app)))
    assert not tuning_file().exists()  # a skip stores nothing


async def test_a_tuning_that_ends_is_stored_and_said(tiny_gguf: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_use, "QUICK_SMALL", dataclasses.replace(
        first_use.QUICK_SMALL, prompt_tokens=24, turn_tokens=8, cold_tokens=32,
        n_batches=(8, 32), rounds=1, budget_seconds=20.0))
    app = real_app(tiny_gguf)
    async with app.run_test(size=(120, 30)) as pilot:
        # The budget ends the tuning however slow the machine; the wait allows for it twice.
        await until(pilot, lambda: app.game is not None, seconds=90, seen=lambda: seen(app))
        await until(pilot, lambda: any(note.startswith("tuned in") for note in notes(app)))
        backend = app.game.session.backend
    stored = load_tuning(tuning_file(), tiny_gguf)
    assert stored is not None and stored.threads == backend.threads  # type: ignore[attr-defined]
