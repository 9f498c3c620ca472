"""The FTS5 index of a story: kept in line with the turns, searched by rank, rebuilt from
the save whenever it is missing, stale, damaged or another game's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.story.recall import index as index_module
from gpt2_adventure.story.recall.index import RecallIndex, fts5_available
from gpt2_adventure.story.recall.passages import sentences
from gpt2_adventure.story.recall.query import Query, build_query
from gpt2_adventure.story.recall.recall import Recall
from tests.story.recall.stories import FACTS, planted_story


def texts_of(state: StoryState) -> list[str]:
    return [t.text for t in state.turns]


def brannoc(index: RecallIndex, before: int = 10_000) -> list[str]:
    """What the index finds about Brannoc (besides the player's "You talk to Brannoc.")."""
    return [p.text for p in index.search(Query(("brannoc",), names=frozenset({"brannoc"})),
                                         before) if p.text != "You talk to Brannoc."]


def test_fts5_is_compiled_into_this_python() -> None:
    assert fts5_available()  # the fallback is for other builds; this one must have it


def test_sentences_split_a_turn_without_the_action_mark() -> None:
    assert sentences("\n> You open the door.\n") == ["You open the door."]
    assert sentences(' "Stop!" he cries. She waits… Then:\nnothing') == [
        '"Stop!"', "he cries.", "She waits…", "Then:", "nothing"]


def test_the_index_follows_appends_edits_and_undos() -> None:
    state = planted_story(30)
    index = RecallIndex(state.id)
    texts = texts_of(state)
    assert index.sync(texts) == len(texts)
    assert brannoc(index) == [FACTS["Brannoc"]]
    assert brannoc(index, before=2) == []  # only turns before the bound
    texts.append(" Brannoc waves from the forge.")
    assert index.sync(texts) == 1  # only the new turn
    assert len(brannoc(index)) == 2
    texts[2] = " The smith is called Tam."  # an edit far back
    assert index.sync(texts) == 1
    assert brannoc(index) == ["Brannoc waves from the forge."]
    del texts[-1]  # an undo
    assert index.sync(texts) == 0
    assert brannoc(index) == []
    assert index.turns == len(texts)


def test_a_stale_file_is_brought_in_line_and_another_games_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "game.recall.sqlite"
    state = planted_story(30)
    texts = texts_of(state)
    first = RecallIndex(state.id, path)
    first.sync(texts[:20])
    first.close()
    again = RecallIndex(state.id, path)
    assert again.turns == 20
    assert again.sync(texts) == len(texts) - 20  # only what the file did not hold
    assert brannoc(again) == [FACTS["Brannoc"]]
    again.close()
    other = RecallIndex("another game", path)
    assert other.turns == 0 and brannoc(other) == []


def test_a_damaged_file_is_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "game.recall.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    state = planted_story(30)
    index = RecallIndex(state.id, path)
    index.sync(texts_of(state))
    assert brannoc(index) == [FACTS["Brannoc"]]
    index.close()
    with sqlite3.connect(path) as db:  # a real index now
        assert db.execute("SELECT count(*) FROM turns").fetchone()[0] == len(state.turns)


def test_common_words_single_nothing_out() -> None:
    state = planted_story(60)
    index = RecallIndex(state.id)
    index.sync(texts_of(state))
    assert index.search(build_query("You walk along the river", []), 10_000) == []
    found = index.search(build_query("You ask about the silver key", []), 10_000)
    assert [p.turn for p in found] == [2]


def test_recall_switches_index_with_the_game_and_keeps_files_per_game(tmp_path: Path) -> None:
    recall = Recall(tmp_path)
    one, two = planted_story(20, seed=1), planted_story(20, seed=2)
    two.turns[2] = Turn(role="model", text=" Brannoc sold his forge to a stranger.")
    query = build_query("You ask about Brannoc", [])
    assert FACTS["Brannoc"] in [p.text for p in recall.find(one, query, 40)]
    found = [p.text for p in recall.find(two, query, 40)]
    assert "Brannoc sold his forge to a stranger." in found and FACTS["Brannoc"] not in found
    recall.close()
    assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == sorted(
        f"{s.id}.recall.sqlite" for s in (one, two))


def test_without_fts5_recall_is_off_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fts5(self: RecallIndex, db: sqlite3.Connection) -> sqlite3.Connection:
        raise index_module.RecallUnavailable("this Python's SQLite has no FTS5")

    monkeypatch.setattr(RecallIndex, "_prepare", no_fts5)
    recall = Recall()
    state = planted_story(20)
    assert recall.find(state, build_query("You ask about Brannoc", []), 40) == []
    assert recall.problem == "recall is off: this Python's SQLite has no FTS5"


def test_an_unwritable_folder_keeps_the_index_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    recall = Recall(blocker / "autosave")
    state = planted_story(20)
    assert 2 in [p.turn for p in recall.find(state, build_query("Brannoc?", []), 40)]
    assert recall.problem is not None and "kept in memory" in recall.problem


def test_the_index_file_is_private_and_a_link_in_its_place_is_not_followed(
        tmp_path: Path) -> None:
    import os
    import stat

    state = planted_story(20)
    recall = Recall(tmp_path / "autosave")
    recall.prepare(state)
    recall.close()
    [made] = (tmp_path / "autosave").glob("*.recall.sqlite")
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    made.unlink()
    elsewhere = tmp_path / "elsewhere.sqlite"
    os.symlink(elsewhere, made)
    recall = Recall(tmp_path / "autosave")
    assert 2 in [p.turn for p in recall.find(state, build_query("Brannoc?", []), 40)]
    assert not elsewhere.exists() and made.is_symlink()
    assert recall.problem is not None and "kept in memory" in recall.problem


def test_an_index_that_fails_mid_game_gives_way_to_one_in_memory(tmp_path: Path) -> None:
    state = planted_story(20)
    recall = Recall(tmp_path)
    recall.prepare(state)
    index = recall._index
    assert index is not None
    index._db.close()  # as if the file had gone bad under it
    assert 2 in [p.turn for p in recall.find(state, build_query("Brannoc?", []), 40)]
    assert recall.problem is not None and "kept in memory" in recall.problem


def test_a_name_typed_in_lower_case_is_still_a_name() -> None:
    state = planted_story(30)
    # Brannoc comes up again and again: too common for a word, not for a name.
    for i in range(9):
        state.turns.append(Turn(role="model", text=f" You see that Brannoc works {i}."))
    index = RecallIndex(state.id)
    index.sync(texts_of(state))
    for typed in ("You ask about Brannoc", "you ask about brannoc"):
        found = [p.text for p in index.search(build_query(typed, []), 10_000)]
        assert FACTS["Brannoc"] in found, typed
    # A common word that the story never writes as a name stays too common.
    for i in range(20):
        state.turns.append(Turn(role="model", text=f" The anvil rings {i}."))
    index.sync(texts_of(state))
    assert index.search(build_query("you look at the anvil", []), 10_000) == []
