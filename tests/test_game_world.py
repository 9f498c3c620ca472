"""`/world import FILE` and `/export lorebook FILE` in a game."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game import Game, Info
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.lorebooks.read import read_lorebook
from gpt2_adventure.story.model import ChatSpec, WorldEntry
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.story.lorebooks import kobold_lite_world, sillytavern_world, write
from tests.support.fake_backend import FakeBackend


def open_game(story: str) -> Game:
    paths = AppPaths.from_env()
    state = new_state(find_seed(paths, story), {"name": "Anna"}, random.Random(1))
    session = Session(state, FakeBackend([" Hm."]), Sampling(max_tokens=20))
    return Game(session, SaveStore(paths)).open()


@pytest.fixture
def game() -> Iterator[Game]:
    game = open_game("knight")
    yield game
    game.close()


def lines(outcome: object, error: bool = False) -> list[str]:
    assert isinstance(outcome, Info), outcome
    assert outcome.error is error, outcome.lines
    return outcome.lines


def test_world_import_adds_the_entries_once_and_autosaves(game: Game, tmp_path: Path) -> None:
    before = list(game.state.world)
    lore = write(tmp_path, sillytavern_world(), "larion.json")
    shown = lines(game.handle(f"/world import {lore}"))
    assert shown[0] == "added 5 world entries from larion.json (a SillyTavern World Info file)"
    assert shown[1].startswith("note: some entries use {{char}}/{{user}}")  # not a chat
    assert 'dropped: disabled entries dropped: entry 2 "Off"' in shown
    assert game.state.world[:len(before)] == before and len(game.state.world) == len(before) + 5
    assert game.state.world[len(before)] == WorldEntry(
        (), "The kingdom of Larion is at war.", always=True, comment="World")
    saved = SaveStore(AppPaths.from_env()).load(f"autosave/{game.state.id}")
    assert saved.world == game.state.world
    again = lines(game.handle(f"/world import {lore}"))
    assert again[:2] == ["added 0 world entries from larion.json (a SillyTavern World Info file)",
                         "skipped 5 already there"]
    assert len(game.state.world) == len(before) + 5


def test_world_import_in_a_chat_fills_the_names(tmp_path: Path) -> None:
    game = open_game("tavern-keeper")
    try:
        game.state.chat = ChatSpec(character="Mira", player="Tom")
        lore = write(tmp_path, {"entries": {"0": {"key": ["{{char}}"],
                                                  "content": "{{char}} likes {{user}}."}}})
        shown = lines(game.handle(f"/world import {lore}"))
        assert shown == ["added 1 world entry from lore.json (a SillyTavern World Info file)"]
        assert game.state.world[-1] == WorldEntry(("Mira",), "Mira likes Tom.")
    finally:
        game.close()


def test_world_import_errors_change_nothing(game: Game, tmp_path: Path) -> None:
    before = list(game.state.world)
    bad = write(tmp_path, {"entries": {"0": {"key": "a", "content": 1}}})
    shown = lines(game.handle(f"/world import {bad}"), error=True)
    assert len(shown) == 1 and "entries.0.content should be text" in shown[0]
    assert str(bad) in shown[0]
    assert "no such file" in lines(game.handle(f"/world import {tmp_path / 'x.json'}"),
                                   error=True)[0]
    assert "/world" in lines(game.handle("/world import"), error=True)[0]
    assert game.state.world == before


def test_export_lorebook_round_trip(game: Game, tmp_path: Path) -> None:
    lines(game.handle(f"/world import {write(tmp_path, kobold_lite_world())}"))
    target = tmp_path / "out.json"
    assert lines(game.handle(f"/export lorebook {target}")) == [f"exported: {target}"]
    doc = json.loads(target.read_text(encoding="ascii"))
    assert doc["name"] == game.state.title
    assert read_lorebook(target).entries == game.state.world
    assert "exists" in lines(game.handle(f"/export lorebook {target}"), error=True)[0]


def test_help_names_the_new_commands(game: Game) -> None:
    assert "import FILE" in lines(game.handle("/help world"))[0]
    assert "lorebook" in lines(game.handle("/help export"))[0]
