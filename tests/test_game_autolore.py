"""Automatic lore in an open game: listed and marked by ``/world``, kept or dropped for good
(a dropped name stays dropped across save and load), in the prompt when its name comes up,
and ``[memory] auto_lore`` / ``/settings auto_lore`` turn it off."""

from __future__ import annotations

import json

import pytest

from gpt2_adventure.config import MemorySettings, Settings
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.errors import UserError
from gpt2_adventure.game import Game, Info
from gpt2_adventure.game_commands.outcomes import OpenSettings
from gpt2_adventure.launch import Launch, open_game
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.model import StoryState, WorldEntry
from gpt2_adventure.story.saves.store import SaveStore, autosave_slot
from tests.story.recall.stories import FACTS, planted_story
from tests.support.fake_backend import FakeBackend
from tests.test_game_recall import last_prompt


def start(state: StoryState, **memory: object) -> Game:
    settings = Settings(memory=MemorySettings(**{"recall": False, **memory}))  # type: ignore[arg-type]
    backend = FakeBackend([" Nobody answers."] * 20, n_ctx=512)
    return open_game(Launch(paths=AppPaths.from_env(), settings=settings), backend, state,
                     Sampling(max_tokens=30))


def lines(outcome: object) -> list[str]:
    assert isinstance(outcome, Info) and not outcome.error, outcome
    return outcome.lines


def autosaved(state: StoryState) -> StoryState:
    return SaveStore(AppPaths.from_env()).load(f"autosave/{autosave_slot(state.id)}")


@pytest.fixture
def game() -> Game:
    state = planted_story(120)
    state.world = [WorldEntry(keys=("Harrow",), content="Harrow is a town of thieves.")]
    game = start(state)
    yield game
    game.close()


def test_world_lists_the_automatic_entries_after_the_games_own_marked(game: Game) -> None:
    assert lines(game.handle("/world")) == [
        "1. [Harrow] Harrow is a town of thieves.",
        f"2. [Brannoc] (auto) {FACTS['Brannoc']}",
        f"3. [Ysolde] (auto) {FACTS['Ysolde']}",
        f"4. [Quillon] (auto) {FACTS['Quillon']}"]


def test_a_fact_of_an_automatic_entry_reaches_the_prompt_when_its_name_comes_up(
        game: Game) -> None:
    assert FACTS["Brannoc"] not in last_prompt(game, "You look around")
    shown = last_prompt(game, "You ask the guard about Brannoc")
    assert FACTS["Brannoc"] in shown and FACTS["Ysolde"] not in shown


def test_keep_makes_an_automatic_entry_the_players_own(game: Game) -> None:
    assert lines(game.handle("/world keep 3")) == [f"kept as world info 2: {FACTS['Ysolde']}"]
    assert game.state.world[1] == WorldEntry(keys=("Ysolde",), content=FACTS["Ysolde"])
    listed = lines(game.handle("/world"))
    assert listed[1] == f"2. [Ysolde] {FACTS['Ysolde']}"  # no longer automatic, no twin
    assert sum("Ysolde" in line for line in listed) == 1
    assert autosaved(game.state).world == game.state.world
    refused = game.handle("/world keep 1")
    assert isinstance(refused, Info) and refused.error
    assert refused.lines == ["world entry 1 is not an automatic one"]


def test_a_removed_automatic_entry_stays_removed_after_save_and_load(game: Game) -> None:
    assert lines(game.handle("/world remove 2")) == [f"removed world info: {FACTS['Brannoc']}"]
    last_prompt(game, "You tell Brannoc the old anvil is gone")  # named again: no entry
    listed = lines(game.handle("/world"))
    assert not any("Brannoc" in line for line in listed) and len(listed) == 3
    lines(game.handle("/save lore test"))
    game.close()
    for state in (autosaved(game.state), SaveStore(AppPaths.from_env()).load("lore test")):
        assert state.dropped_lore == ["Brannoc"]
        again = start(state)
        try:
            assert not any("Brannoc" in line for line in lines(again.handle("/world")))
        finally:
            again.close()


def test_settings_turn_automatic_lore_off_and_on(game: Game) -> None:
    shown = game.handle("/settings")
    assert isinstance(shown, OpenSettings) and "auto_lore = true" in shown.fallback.lines
    assert lines(game.handle("/settings auto_lore off")) == ["auto_lore = false"]
    assert FACTS["Brannoc"] not in last_prompt(game, "You ask the guard about Brannoc")
    assert lines(game.handle("/world")) == ["1. [Harrow] Harrow is a town of thieves."]
    assert lines(game.handle("/settings auto_lore on")) == ["auto_lore = true"]
    last_prompt(game, "You wait")
    assert len(lines(game.handle("/world"))) == 4


def test_the_config_setting_turns_it_off() -> None:
    game = start(planted_story(120), auto_lore=False)
    try:
        assert game.state.lore == [] and lines(game.handle("/world")) == ["no world info"]
    finally:
        game.close()


def test_an_old_save_without_dropped_names_loads_and_a_bad_list_is_refused() -> None:
    store = SaveStore(AppPaths.from_env())
    store.save(planted_story(3), "old")
    path = store.saves_dir / "old.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["state"].pop("dropped_lore")
    doc["state"]["from_the_future"] = {"x": 1}  # unknown fields are left alone
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert store.load("old").dropped_lore == []
    doc["state"]["dropped_lore"] = "Brannoc"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(UserError, match="state.dropped_lore should be a list of text"):
        store.load("old")


def test_the_share_of_automatic_lore_is_a_setting() -> None:
    for share, shown in ((0.25, True), (0.0, False)):  # (0.25: 128 of its 512 tokens)
        game = start(planted_story(120), auto_lore_share=share)  # [memory] auto_lore_share
        try:
            assert game.session.builder.auto_lore_share == share
            assert (FACTS["Brannoc"] in last_prompt(game, "You ask the guard about Brannoc")) \
                is shown
        finally:
            game.close()
    game = start(planted_story(120))
    try:
        assert lines(game.handle("/settings auto_lore_share 0")) == ["auto_lore_share = 0.0"]
        assert game.session.builder.auto_lore_share == 0.0
        assert FACTS["Brannoc"] not in last_prompt(game, "You ask the guard about Brannoc")
    finally:
        game.close()
