"""Recall in an open game: the index lives beside the autosave and belongs to the open game;
a save without its index (or with a stale one) opens and recalls; so does an imported long
story; ``/settings`` turns recall off and on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpt2_adventure.config import MemorySettings, Settings
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game import Game, Info, Stream
from gpt2_adventure.game_commands.outcomes import OpenSettings
from gpt2_adventure.launch import Launch, open_game
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.story.recall.recall import INDEX_SUFFIX
from gpt2_adventure.story.saves.store import SaveStore, autosave_slot
from tests.story.recall.stories import FACTS, planted_story
from tests.support.evaluated import prompt_evaluated
from tests.support.fake_backend import FakeBackend


def launch(**memory: object) -> Launch:
    return Launch(paths=AppPaths.from_env(),
                  settings=Settings(memory=MemorySettings(**memory)))  # type: ignore[arg-type]


def start(state: StoryState, **memory: object) -> Game:
    backend = FakeBackend([" Nobody answers."] * 20, n_ctx=512)
    return open_game(launch(**memory), backend, state, Sampling(max_tokens=30))


def index_file(state: StoryState) -> Path:
    return AppPaths.from_env().saves_dir / "autosave" / f"{autosave_slot(state.id)}{INDEX_SUFFIX}"


def last_prompt(game: Game, line: str) -> str:
    outcome = game.handle(line)
    assert isinstance(outcome, Stream), outcome
    list(outcome.events)
    backend = game.session.backend
    assert isinstance(backend, FakeBackend)
    return backend.detokenize(backend.prompts[-1])


def reopen(state: StoryState, **memory: object) -> Game:
    saved = SaveStore(AppPaths.from_env()).load(f"autosave/{autosave_slot(state.id)}")
    return start(saved, **memory)


def test_the_index_is_made_beside_the_autosave_and_closed_with_the_game() -> None:
    state = planted_story(120)
    game = start(state)
    assert index_file(state).is_file()  # indexed on opening, not at the first prompt
    assert FACTS["Brannoc"] in last_prompt(game, "You ask the guard about Brannoc")
    game.close()
    recall = game.session.builder.recall
    assert recall is not None and recall._index is None


def test_a_save_without_its_index_opens_and_the_index_comes_back() -> None:
    state = planted_story(120)
    start(state).close()
    index_file(state).unlink()
    game = reopen(state)
    try:
        assert index_file(state).is_file()
        assert FACTS["Quillon"] in last_prompt(game, "You ask about Quillon")
    finally:
        game.close()


def test_a_stale_index_is_brought_in_line_with_the_save() -> None:
    state = planted_story(120)
    start(state).close()
    # The save changes behind the index's back (another copy of the game, an older index).
    store = SaveStore(AppPaths.from_env())
    saved = store.load(f"autosave/{autosave_slot(state.id)}")
    saved.turns[2] = Turn(role="model", text=" Brannoc the smith threw the silver key into "
                                             "the well.")
    store.autosave(saved)
    game = reopen(state)
    try:
        shown = last_prompt(game, "You ask the guard about Brannoc")
        assert "threw the silver key into the well." in shown
        assert FACTS["Brannoc"] not in shown
    finally:
        game.close()


def test_an_imported_long_kobold_story_recalls() -> None:
    from gpt2_adventure.story.importers import import_file

    actions = [" Old Maerwen the ferrywoman buried her late husband's compass under the "
               "lighthouse steps."]
    for i in range(300):
        actions += [f"\n\n> You walk along the shore {i}\n", f" The tide comes in, step {i}."]
    doc = {"gamestarted": True, "prompt": "You come to the fishing town.", "memory": "",
           "authorsnote": "", "actions": actions}
    home = AppPaths.from_env().data_dir
    home.mkdir(parents=True, exist_ok=True)
    source = home / "Long tide.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    import_file(source, AppPaths.from_env())
    state = SaveStore(AppPaths.from_env()).load("Long tide")
    assert len(state.turns) == 602
    game = start(state)
    try:
        shown = last_prompt(game, "You ask about Maerwen")
        assert "compass under the lighthouse steps." in shown
        assert game.session.last_prompt is not None
        assert game.session.last_prompt.first_visible_turn > 500
    finally:
        game.close()


def test_settings_turn_recall_off_and_on() -> None:
    state = planted_story(120)
    game = start(state, recall=False, auto_lore=False)  # recall alone: lore tells it too
    try:
        assert FACTS["Brannoc"] not in last_prompt(game, "You ask the guard about Brannoc")
        shown = game.handle("/settings")
        assert isinstance(shown, OpenSettings)  # a front end without the screen shows these
        assert "recall = false" in shown.fallback.lines
        assert "recall_share = 0.12" in shown.fallback.lines
        assert game.handle("/settings recall on").lines == ["recall = true"]  # type: ignore[union-attr]
        assert FACTS["Ysolde"] in last_prompt(game, "You ask the guard about Ysolde")
        refused = game.handle("/settings recall_share 0.9")
        assert isinstance(refused, Info) and refused.error
        assert "recall_share must be between 0 and 0.5" in refused.lines[0]
    finally:
        game.close()


@pytest.mark.parametrize("share", [0.0, 0.5])
def test_the_recall_share_setting_reaches_the_prompt(share: float) -> None:
    game = start(planted_story(120), recall_share=share, auto_lore=False)
    try:
        shown = last_prompt(game, "You ask the guard about Brannoc")
        assert (FACTS["Brannoc"] in shown) is (share > 0)
    finally:
        game.close()


def test_a_resumed_game_keeps_its_recalled_passages_where_the_model_saw_them(
        tiny_gguf: Path) -> None:
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.story.events import Done

    def play(game: Game, line: str) -> Done:
        outcome = game.handle(line)
        assert isinstance(outcome, Stream), outcome
        done = list(outcome.events)[-1]
        assert isinstance(done, Done)
        return done

    sampling = Sampling(max_tokens=12, temperature=0.8)
    state = planted_story(150)
    backend = LlamaBackend(tiny_gguf, threads=2, seed=2)
    game = open_game(launch(), backend, state, sampling)
    for line in ("You ask about Brannoc", "You rest", "You eat", "You sing", "You sleep"):
        play(game, line)
    assert FACTS["Brannoc"] in backend.detokenize(game.session.last_prompt.tokens)  # type: ignore[union-attr]
    game.close()
    backend.close()

    backend = LlamaBackend(tiny_gguf, threads=2, seed=3)
    saved = SaveStore(AppPaths.from_env()).load(f"autosave/{autosave_slot(state.id)}")
    game = open_game(launch(), backend, saved, sampling)
    try:
        stats = play(game, "You wait").stats
        assert stats is not None and stats.prompt_tokens > 300
        assert prompt_evaluated(game.session, stats) < 30  # the action alone
        assert FACTS["Brannoc"] in backend.detokenize(game.session.last_prompt.tokens)  # type: ignore[union-attr]
    finally:
        game.close()
        backend.close()
