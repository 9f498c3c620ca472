"""Clover Edition: saves (context, memory, actions, results) and prompt .txt files."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.importers import import_file
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import fill_seed, find_seed
from tests.story.importers import files_under, write_json

SAVE = {
    "temp": 0.4, "top-p": 0.9, "top-keks": 20, "rep-pen": 1.2,
    "context": "You are Kira, a thief in Ülm.",
    "memory": ["The guard is bribed.", "Your sister is missing."],
    "actions": ["You stand in the market and see", "You steal the apple.", "",
                "The guard turns around.", 'You say "run!"'],
    "results": ["a fruit stall.", "The merchant shouts!", "nobody follows.",
                "He looks at you.", "You escape — 逃げろ."],
}


@pytest.fixture
def paths() -> AppPaths:
    return AppPaths.from_env()


def test_save_maps_context_memory_actions_and_results(tmp_path: Path, paths: AppPaths) -> None:
    result = import_file(write_json(tmp_path / "kira.json", SAVE), paths)
    [item] = result.created
    assert item.kind == "save" and item.name == "kira"
    state = SaveStore(paths).load("kira")
    assert state.title == "kira" and state.mode == "adventure"
    assert state.memory == ("You are Kira, a thief in Ülm.\nThe guard is bribed.\n"
                            "Your sister is missing.")
    assert [(t.role, t.text, t.kind) for t in state.turns] == [
        ("opening", "You stand in the market and see", None),
        ("model", " a fruit stall.", None),  # continues the sentence, as Clover printed it
        ("player", "\n> You steal the apple.\n", "do"),
        ("model", "The merchant shouts!", None),
        ("model", "\n\nnobody follows.", None),  # after "continue": Clover's blank line
        ("player", "\nThe guard turns around.", "story"),  # a story insert
        ("model", "\n\nHe looks at you.", None),
        ("player", '\n> You say "run!"\n', "say"),
        ("model", "You escape — 逃げろ.", None),
    ]
    assert [t.raw for t in state.turns if t.role == "player"] == [
        "You steal the apple.", "The guard turns around.", 'You say "run!"']
    assert any("temp, top-p, top-keks, rep-pen" in d for d in result.dropped)


def test_old_save_with_memory_as_text_and_no_prompt(tmp_path: Path, paths: AppPaths) -> None:
    doc = {"context": "You are in a cave.", "memory": "A bat sleeps above.",
           "actions": [""], "results": ["It is dark."]}
    result = import_file(write_json(tmp_path / "cave.json", doc), paths)
    state = SaveStore(paths).load(result.created[0].name)
    assert state.turns[0].text == "You are in a cave."
    assert state.memory == "You are in a cave.\nA bat sleeps above."
    assert [t.text for t in state.turns[1:]] == ["\n\nIt is dark."]


@pytest.mark.parametrize(("doc", "words"), [
    ({"context": "", "memory": [], "actions": [], "results": []}, "no context and no prompt"),
    ({"context": 5, "actions": [], "results": []}, "context should be text, not a number"),
    ({"context": "x", "memory": [1], "actions": [], "results": []},
     r"memory\[0\] should be text"),
])
def test_bad_saves(tmp_path: Path, paths: AppPaths, doc: dict, words: str) -> None:
    source = write_json(tmp_path / "bad.json", doc)
    with pytest.raises(UserError, match=words) as info:
        import_file(source, paths)
    assert info.value.where == str(source)
    assert files_under(paths.data_dir) == []


def test_prompt_file_becomes_a_seed(tmp_path: Path, paths: AppPaths) -> None:
    source = tmp_path / "Dragon_Rider.txt"
    source.write_bytes(b"You are a dragon rider of the {Sky} Guard.\r\n"
                       b"Your dragon lands on the tower.\r\nYou look down and see  \r\n\r\n")
    result = import_file(source, paths)
    [item] = result.created
    assert item.kind == "seed" and item.name == "clover-dragon-rider"
    seed = find_seed(paths, "clover-dragon-rider")
    assert seed.title == "Dragon Rider" and seed.mode == "adventure"
    filled = fill_seed(seed, {})
    assert filled.memory == "You are a dragon rider of the {Sky} Guard."
    assert filled.openings == ("Your dragon lands on the tower.\nYou look down and see",)


def test_one_line_prompt(tmp_path: Path, paths: AppPaths) -> None:
    source = tmp_path / "short.txt"
    source.write_text("You wake up in a cell.", encoding="utf-8")
    result = import_file(source, paths)
    seed = find_seed(paths, "clover-short")
    assert seed.openings == ("You wake up in a cell.",) and seed.memory == ""
    assert any("one line" in d for d in result.dropped)


def test_prompt_as_save(tmp_path: Path, paths: AppPaths) -> None:
    source = tmp_path / "castle.txt"
    source.write_text("You are a guard.\nThe castle is quiet.", encoding="utf-8")
    result = import_file(source, paths, "save")
    state = SaveStore(paths).load(result.created[0].name)
    assert [t.text for t in state.turns] == ["The castle is quiet."]
    assert state.memory == "You are a guard."


def test_latin1_prompt_is_read_with_a_note(tmp_path: Path, paths: AppPaths) -> None:
    source = tmp_path / "cafe.txt"
    source.write_bytes("Café du Nord.\nVous entrez; il fait très froid.".encode("latin-1"))
    result = import_file(source, paths)
    assert any("not UTF-8" in note for note in result.notes)
    assert fill_seed(find_seed(paths, "clover-cafe"), {}).openings == (
        "Vous entrez; il fait très froid.",)


def test_empty_prompt_file(tmp_path: Path, paths: AppPaths) -> None:
    source = tmp_path / "empty.txt"
    source.write_text(" \n\n", encoding="utf-8")
    with pytest.raises(UserError, match="empty"):
        import_file(source, paths)
