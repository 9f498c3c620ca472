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
    launch = make_launch(model=str(model))
    launch.settings = dataclasses.replace(
        launch.settings, model=dataclasses.replace(launch.settings.model, auto_tune=True))
    return AdventureApp(launch)  # the real loader, which tunes first


def status(app: AdventureApp) -> str:
    return str(app.screen.query_one(StatusBar).render())


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
        await until(pilot, lambda: app.game is not None)
        assert "tuning" not in status(app)
        notes = [n.message for n in app._notifications]  # noqa: SLF001
        assert any(note.startswith("speed tuning skipped") for note in notes), notes
    assert not tuning_file().exists()  # a skip stores nothing


async def test_a_tuning_that_ends_is_stored_and_said(tiny_gguf: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_use, "QUICK_SMALL", dataclasses.replace(
        first_use.QUICK_SMALL, prompt_tokens=24, turn_tokens=8, cold_tokens=32,
        n_batches=(8, 32), rounds=1, budget_seconds=60.0))
    app = real_app(tiny_gguf)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.game is not None)
        notes = [n.message for n in app._notifications]  # noqa: SLF001
        assert any(note.startswith("tuned in") for note in notes), notes
        backend = app.game.session.backend
    stored = load_tuning(tuning_file(), tiny_gguf)
    assert stored is not None and stored.threads == backend.threads  # type: ignore[attr-defined]
