"""The Models screen: pull by repository (a fake Hub on 127.0.0.1), offline errors, and
playing a pulled model (the open story goes on with it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from gpt2_adventure.engine.models.store import installed
from gpt2_adventure.launch import Launch
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.tui.app import AdventureApp
from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.screens.models import ModelsScreen
from tests.support.fake_backend import FakeBackend
from tests.support.fake_hub import FakeHub
from tests.tui.helpers import REPLIES, make_app, settle, until, wait_idle

REPO = "someone/tiny-story-gpt2-GGUF"


@pytest.fixture
def hub(tiny_gguf_q8: Path, tiny_checkpoint: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    from gpt2_adventure.engine.models.convert import convert_checkpoint

    f16 = convert_checkpoint(tiny_checkpoint, tmp_path / "f16.gguf", "f16")
    with FakeHub() as hub:
        hub.add_repo(REPO, {"tiny-story.Q8_0.gguf": tiny_gguf_q8.read_bytes(),
                            "tiny-story.f16.gguf": f16.read_bytes(),
                            "README.md": b"a tiny story model"})
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        yield hub


def _state(screen: ModelsScreen) -> str:
    return str(screen.query_one("#state", Static).render())


def _rows(screen: ModelsScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(row.key.value) for row in table.rows.values()]


async def _open_models(app: AdventureApp, pilot: Pilot) -> ModelsScreen:
    app.open_models()
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ModelsScreen)
    return screen


def _select_row(screen: ModelsScreen, name: str) -> None:
    table = screen.query_one(DataTable)
    table.move_cursor(row=_rows(screen).index(name))


async def test_pull_a_repository_with_a_quant_then_it_is_listed(hub: FakeHub) -> None:
    app = make_app(mode="title", story=None)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_models(app, pilot)
        screen.query_one("#quant", Select).value = "F16"  # not the default Q8_0
        repo = screen.query_one("#repo", Input)
        repo.value = REPO
        repo.focus()
        await pilot.press("enter")
        await until(pilot, lambda: not screen.query_one("#pull").disabled)
        assert "installed" in _state(screen), _state(screen)
        assert REPO in _rows(screen)
        assert [(m.name, m.quant) for m in installed(app.launch.paths)] == [(REPO, "F16")]


async def test_offline_pull_says_so_and_keeps_the_screen(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    app = make_app(mode="title", story=None)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_models(app, pilot)
        screen.query_one("#repo", Input).value = REPO
        await pilot.click("#pull")
        await until(pilot, lambda: "no network" in _state(screen))
        assert app.screen is screen and not screen.query_one("#pull").disabled


def _install(paths: AppPaths, name: str, source: Path) -> Path:
    target = paths.models_dir / name / f"{name}.Q8_0.gguf"
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    return target


async def test_play_with_a_model_goes_on_with_the_open_story(tiny_gguf_q8: Path) -> None:
    asked: list[str | None] = []

    def factory(launch: Launch) -> FakeBackend:
        asked.append(launch.model)
        return FakeBackend(list(REPLIES))

    app = make_app(backend=factory)
    _install(app.launch.paths, "gpt2-medium", tiny_gguf_q8)
    async with app.run_test(size=(120, 36)) as pilot:
        first = app.screen
        assert isinstance(first, GameScreen)
        await wait_idle(pilot, first)
        story = first.game.state.id if first.game else None
        screen = await _open_models(app, pilot)
        _select_row(screen, "gpt2")
        await pilot.press("p")  # gpt2 is not installed here: refused, the screen stays
        await settle(pilot)
        assert app.screen is screen and "not installed" in _state(screen)
        _select_row(screen, "gpt2-medium")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, GameScreen) and app.screen is not first)
        second = app.screen
        assert isinstance(second, GameScreen)
        await wait_idle(pilot, second)
        assert second.game is not None and second.game.state.id == story
        assert asked == [None, "gpt2-medium"] and app.launch.model == "gpt2-medium"


async def test_remove_asks_first(tiny_gguf_q8: Path) -> None:
    from gpt2_adventure.tui.screens.dialogs import Choice

    app = make_app(mode="title", story=None)
    target = _install(app.launch.paths, "gpt2-medium", tiny_gguf_q8)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_models(app, pilot)
        _select_row(screen, "gpt2-medium")
        await pilot.click("#remove")
        await until(pilot, lambda: isinstance(app.screen, Choice))
        assert target.exists()  # nothing is deleted before the player says so
        await pilot.press("escape")  # Keep
        await until(pilot, lambda: app.screen is screen)
        assert target.exists()
        await pilot.click("#remove")
        await until(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.click("#choice-remove")
        await until(pilot, lambda: app.screen is screen and not target.exists())
        assert "removed" in _state(screen)


async def test_a_gguf_path_typed_on_the_models_screen_plays(tiny_gguf_q8: Path,
                                                           tmp_path: Path) -> None:
    asked: list[str | None] = []

    def factory(launch: Launch) -> FakeBackend:
        asked.append(launch.model)
        return FakeBackend(list(REPLIES))

    mine = tmp_path / "my model.gguf"
    shutil.copy(tiny_gguf_q8, mine)
    app = make_app(backend=factory)
    async with app.run_test(size=(120, 36)) as pilot:
        first = app.screen
        await wait_idle(pilot, first)
        screen = await _open_models(app, pilot)
        repo = screen.query_one("#repo", Input)
        repo.value = str(mine)
        repo.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, GameScreen) and app.screen is not first)
        await wait_idle(pilot, app.screen)
        assert asked == [None, str(mine)] and app.launch.model == str(mine)
        assert installed(app.launch.paths) == []  # played where it is, not copied


@pytest.mark.parametrize(("content", "says"), [(None, "not found"),
                                               (b"not a model at all", "not a GGUF file")])
async def test_a_bad_gguf_path_is_a_clear_message(tmp_path: Path, content: bytes | None,
                                                  says: str) -> None:
    path = tmp_path / "broken.gguf"
    if content is not None:
        path.write_bytes(content)
    app = make_app(mode="title", story=None)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_models(app, pilot)
        repo = screen.query_one("#repo", Input)
        repo.value = str(path)
        repo.focus()
        await pilot.press("enter")
        await until(pilot, lambda: says in _state(screen))
        assert app.screen is screen and app.launch.model is None
        assert "repository" not in _state(screen)
