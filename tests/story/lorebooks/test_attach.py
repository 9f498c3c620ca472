"""Adding a lorebook to a seed file, a saved game and a seed in memory: atomically, never
twice, macros with the story's names, and nothing written when anything is wrong."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.resources import stories_dir
from gpt2_adventure.story.importers.common import ImportProblem
from gpt2_adventure.story.lorebooks.attach import attach_file, seed_with_lorebook
from gpt2_adventure.story.model import ChatSpec, WorldEntry
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveInUseError, SaveStore
from gpt2_adventure.story.seeds.library import fill_seed, find_seed, load_seed
from tests.story.lorebooks import kobold_lite_world, sillytavern_world, v2_book, write

OWN_SEED = """# my own seed: comments stay
format = 1
title = "Mira's inn"
mode = "chat"
openings = ["Welcome!"]

[[world]]
keys = ["inn"]
content = "The inn is loud at night."

[chat]
character = "Mira"
player = "Tom"
"""


def own_seed(paths: AppPaths) -> Path:
    paths.stories_dir.mkdir(parents=True, exist_ok=True)
    path = paths.stories_dir / "mira.toml"
    path.write_text(OWN_SEED, encoding="utf-8")
    return path


def test_a_bundled_seed_gets_a_copy_and_stays_as_it_was(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    bundled = (stories_dir() / "knight.toml").read_bytes()
    before = find_seed(paths, "knight")
    attached = attach_file(write(tmp_path, sillytavern_world()), "knight", paths)
    assert attached.kind == "seed" and attached.copied and attached.added == 5
    assert attached.path == paths.stories_dir / "knight.toml"
    assert (stories_dir() / "knight.toml").read_bytes() == bundled
    seed = find_seed(paths, "knight")
    assert seed.source == attached.path  # the player's copy now wins
    assert seed.world[:len(before.world)] == before.world
    added = fill_seed(seed, {"name": "Anna"}).world[len(before.world):]
    assert added[0] == WorldEntry((), "The kingdom of Larion is at war.", always=True,
                                  comment="World")
    # Not a chat: no character to fill {{user}} with; kept literally (and noted).
    assert added[-1].content == "Vharzul is a red dragon who hates {{user}}."
    assert attached.book.notes
    # The copy is the bundled text plus [[world]] tables: its comments are still there.
    assert attached.path.read_text(encoding="utf-8").startswith(bundled.decode("utf-8"))


def test_an_own_chat_seed_is_changed_in_place_with_its_names(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    path = own_seed(paths)
    entry = {"key": ["{{char}}"], "content": "{{char}} pours ale for {{user}} {x}."}
    lore = write(tmp_path, {"entries": {"0": entry}})
    attached = attach_file(lore, "mira", paths)
    assert not attached.copied and attached.path == path and attached.added == 1
    text = path.read_text(encoding="utf-8")
    assert text.startswith(OWN_SEED)  # comments and layout kept
    seed = fill_seed(load_seed(path), {})
    assert seed.world[-1] == WorldEntry(("Mira",), "Mira pours ale for Tom {x}.")


def test_entries_already_there_are_not_added_twice(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    path = own_seed(paths)
    lore = write(tmp_path, kobold_lite_world())
    first = attach_file(lore, "mira", paths)
    assert (first.added, first.skipped) == (3, 1)  # the inn entry was in the seed
    text = path.read_text(encoding="utf-8")
    again = attach_file(lore, "mira", paths)
    assert (again.added, again.skipped) == (0, 4)
    assert path.read_text(encoding="utf-8") == text


def test_a_bad_lorebook_writes_nothing(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    path = own_seed(paths)
    bad = write(tmp_path, {"entries": {"0": {"key": ["a"], "content": 5}}})
    with pytest.raises(ImportProblem, match="entries.0.content"):
        attach_file(bad, "mira", paths)
    with pytest.raises(ImportProblem):
        attach_file(bad, "knight", paths)
    assert path.read_text(encoding="utf-8") == OWN_SEED
    assert not (paths.stories_dir / "knight.toml").exists()


def test_a_seed_file_whose_world_is_not_tables_is_refused(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    paths.stories_dir.mkdir(parents=True, exist_ok=True)
    path = paths.stories_dir / "inline.toml"
    text = ('format = 1\ntitle = "T"\nmode = "story"\nopenings = ["Go."]\n'
            'world = [{keys = ["a"], content = "A."}]\n')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportProblem, match="cannot add world entries to this seed file"):
        attach_file(write(tmp_path, kobold_lite_world()), str(path), paths)
    assert path.read_text(encoding="utf-8") == text


def chat_save(paths: AppPaths, name: str = "inn") -> tuple[SaveStore, str]:
    seed = find_seed(paths, "tavern-keeper")
    state = new_state(seed, {"name": "Anna"}, random.Random(1))
    state = replace(state, chat=ChatSpec(character="Mira", player="Tom"), mode="chat")
    store = SaveStore(paths)
    store.save(state, name)
    return store, state.id


def test_into_a_save_by_name_and_by_path(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    store, _ = chat_save(paths)
    before = len(store.load("inn").world)
    attached = attach_file(write(tmp_path, v2_book()), "inn", paths)
    assert attached.kind == "save" and attached.added == 2
    world = store.load("inn").world
    assert len(world) == before + 2
    assert world[-1] == WorldEntry(("anvil",), "Mira's anvil is old.", comment="Anvil")
    again = attach_file(write(tmp_path, v2_book()), str(store.saves_dir / "inn.json"), paths)
    assert (again.added, again.skipped) == (0, 2)
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes((store.saves_dir / "inn.json").read_bytes())
    attach_file(write(tmp_path, kobold_lite_world()), str(outside), paths)
    assert len(store.load(outside).world) == before + 2 + 4


def test_a_save_whose_game_is_open_is_refused(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    store, game_id = chat_save(paths)
    data = (store.saves_dir / "inn.json").read_bytes()
    with store.hold(game_id), pytest.raises(SaveInUseError):
        attach_file(write(tmp_path, v2_book()), "inn", paths)
    assert (store.saves_dir / "inn.json").read_bytes() == data


def test_unknown_and_ambiguous_targets(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    lore = write(tmp_path, v2_book())
    with pytest.raises(UserError, match="no story seed or saved game named 'nowhere'"):
        attach_file(lore, "nowhere", paths)
    chat_save(paths, "knight")
    with pytest.raises(UserError, match="both a story seed and a saved game"):
        attach_file(lore, "knight", paths)


def test_a_seed_in_memory_takes_its_names_as_templates(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    seed = find_seed(paths, "tavern-keeper")  # player = "{name}": known when the game starts
    assert seed.chat is not None and seed.chat.player == "{name}"
    seed = replace(seed, chat=replace(seed.chat, character="Brann {{x}}"))
    lore = write(tmp_path, {"entries": {"0": {"key": ["{{user}}"],
                                              "content": "{{char}} {y} greets {{user}}."}}})
    with_book, attached = seed_with_lorebook(seed, lore)
    assert attached.added == 1 and not attached.book.notes
    assert fill_seed(with_book, {"name": "Anna"}).world[-1] == WorldEntry(
        ("Anna",), "Brann {x} {y} greets Anna.")


def test_a_card_seed_says_you_as_prose(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    seed = replace(find_seed(paths, "tavern-keeper"), chat=ChatSpec("Brann", player="You"))
    lore = write(tmp_path, {"entries": {"0": {"key": ["k"],
                                              "content": "{{user}} is {{char}}'s guest."}}})
    with_book, _ = seed_with_lorebook(seed, lore)
    assert with_book.world[-1].content == "You are Brann's guest."


@pytest.mark.parametrize("asks", [True, False])
def test_a_card_seed_that_asks_the_name_uses_it_where_you_does_not_fit(
        tmp_path: Path, asks: bool) -> None:
    seed = replace(find_seed(AppPaths.from_env(), "tavern-keeper"),
                   chat=ChatSpec("Brann", player="You"), world=())
    if not asks:
        seed = replace(seed, placeholders=(), openings=("A tavern.",))
    lore = write(tmp_path, {"entries": {
        "0": {"key": ["ale"], "content": "Brann pours ale. \"Drink up, {{user}}!\""},
        "1": {"key": ["教堂"], "content": "{{user}}的教堂。"}}})
    with_book, _ = seed_with_lorebook(seed, lore)
    filled = fill_seed(with_book, {"name": "Lina"}).world
    if asks:  # a card that calls the player by name asks it: lore does the same
        assert [e.content for e in filled] == ["Brann pours ale. \"Drink up, Lina!\"",
                                               "Lina的教堂。"]
    else:  # nothing to call the player by: "you", as before
        assert [e.content for e in filled] == ["Brann pours ale. \"Drink up, you!\"",
                                               "You的教堂。"]


def test_nothing_new_for_a_bundled_seed_copies_nothing(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    empty = write(tmp_path, {"entries": {}})
    attached = attach_file(empty, "knight", paths)
    assert (attached.added, attached.copied) == (0, False)
    assert attached.path == stories_dir() / "knight.toml"
    assert not (paths.stories_dir / "knight.toml").exists()
