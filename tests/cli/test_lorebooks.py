"""Lorebooks on the command line: `import FILE --into`, `saves export --format lorebook`,
`stories import-card --lorebook` and `chat --lorebook`."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from gpt2_adventure.cli import app
from gpt2_adventure.launch import pick_seed
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.resources import stories_dir
from gpt2_adventure.story.lorebooks.read import read_lorebook
from gpt2_adventure.story.model import ChatSpec, WorldEntry
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import fill_seed, find_seed
from tests.story.lorebooks import (
    kobold_lite_world,
    sillytavern_world,
    v2_book,
    v3_lorebook,
    write,
)
from tests.support.cli_runner import run_cli
from tests.support.peer_formats import (
    agnai_memory_book,
    aid_story_cards,
    aid_world_info,
    novelai_lorebook,
    novelai_story,
)


def invoke(*args: str) -> tuple[int, str, str]:
    return run_cli(app, *args)


def one_line_error(code: int, stderr: str, *words: str) -> None:
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and len(lines) <= 2 and "Traceback" not in stderr
    for word in words:
        assert word in stderr, stderr


def nothing_written() -> None:
    paths = AppPaths.from_env()
    assert not paths.stories_dir.exists() or not any(paths.stories_dir.iterdir())


def chat_save(name: str = "inn") -> SaveStore:
    paths = AppPaths.from_env()
    state = new_state(find_seed(paths, "tavern-keeper"), {"name": "Anna"}, random.Random(1))
    state.chat = ChatSpec(character="Mira", player="Tom")
    store = SaveStore(paths)
    store.save(state, name)
    return store


@pytest.mark.parametrize("doc", [sillytavern_world(), kobold_lite_world(), v2_book(),
                                 v3_lorebook(), {"worldinfo": kobold_lite_world()}])
def test_a_lorebook_alone_is_not_a_story(tmp_path: Path, doc: object) -> None:
    code, out, err = invoke("import", str(write(tmp_path, doc)))
    one_line_error(code, err, "this is a lorebook", "hint:", "--into")
    assert out == ""
    nothing_written()


def test_into_a_bundled_seed_and_again(tmp_path: Path) -> None:
    lore = write(tmp_path, sillytavern_world(), "larion.json")
    code, out, err = invoke("import", str(lore), "--into", "knight")
    assert code == 0, err
    target = AppPaths.from_env().stories_dir / "knight.toml"
    lines = out.splitlines()
    assert lines[0] == f"{lore}: a SillyTavern World Info file (5 entries)"
    assert lines[1].startswith("note: some entries use {{char}}/{{user}}")
    assert lines[2] == (f"created seed knight: {target} (a copy of the bundled seed, which "
                        "stays as it was)")
    assert lines[3] == f"added 5 world entries to seed knight: {target}"
    assert 'dropped: disabled entries dropped: entry 2 "Off"' in lines
    assert len(find_seed(AppPaths.from_env(), "knight").world) == len(
        find_seed(AppPaths.from_env(), str(stories_dir() / "knight.toml")).world) + 5
    code, out, _ = invoke("import", str(lore), "--into", "knight")
    assert code == 0
    assert f"added 0 world entries to seed knight: {target}" in out
    assert "skipped 5 already there (the same keys and content)" in out
    assert "created" not in out


def test_into_a_save(tmp_path: Path) -> None:
    store = chat_save()
    lore = write(tmp_path, v2_book())
    code, out, err = invoke("import", str(lore), "--into", "inn")
    assert code == 0, err
    assert f"added 2 world entries to save inn: {store.saves_dir / 'inn.json'}" in out
    assert "dropped: lorebook settings ignored: scan_depth, token_budget" in out
    assert WorldEntry(("anvil",), "Mira's anvil is old.", comment="Anvil") in store.load(
        "inn").world


def test_into_an_open_game_is_refused(tmp_path: Path) -> None:
    store = chat_save()
    before = (store.saves_dir / "inn.json").read_bytes()
    with store.hold(store.load("inn").id):
        code, _, err = invoke("import", str(write(tmp_path, v2_book())), "--into", "inn")
    one_line_error(code, err, "already open")
    assert (store.saves_dir / "inn.json").read_bytes() == before


def test_bad_files_fail_alone_and_write_nothing(tmp_path: Path) -> None:
    bad = write(tmp_path, {"entries": {"7": {"key": ["a"], "content": 5}}}, "bad.json")
    story = write(tmp_path, {"gamestarted": True, "prompt": "Hi", "actions": []}, "story.json")
    good = write(tmp_path, kobold_lite_world(), "good.json")
    code, out, err = invoke("import", str(bad), "--into", "knight")
    one_line_error(code, err, str(bad), "entries.7.content should be text, not a number")
    nothing_written()
    code, out, err = invoke("import", str(bad), str(story), str(good), "--into", "knight")
    assert code == 2
    assert "not a lorebook (it holds a story)" in err and str(story) in err
    assert "added 4 world entries to seed knight" in out  # the good one still went in


def test_into_needs_a_known_target_and_no_as(tmp_path: Path) -> None:
    lore = write(tmp_path, v2_book())
    code, _, err = invoke("import", str(lore), "--into", "nowhere")
    one_line_error(code, err, "no story seed or saved game named 'nowhere'")
    code, _, err = invoke("import", str(lore), "--into", "knight", "--as", "seed")
    one_line_error(code, err, "choose --as or --into")
    nothing_written()


def test_saves_export_lorebook_round_trip(tmp_path: Path) -> None:
    store = chat_save()
    lore = write(tmp_path, sillytavern_world())
    assert invoke("import", str(lore), "--into", "inn")[0] == 0
    world = store.load("inn").world
    code, out, err = invoke("saves", "export", "inn", "--format", "lorebook")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["name"] == store.load("inn").title and len(doc["entries"]) == len(world)
    target = tmp_path / "out.json"
    code, out, _ = invoke("saves", "export", "inn", "-f", "lorebook", "--out", str(target))
    assert code == 0 and out.strip() == f"wrote {target}"
    assert read_lorebook(target).entries == world


def test_import_card_with_a_lorebook(tmp_path: Path) -> None:
    card = write(tmp_path, {"spec": "chara_card_v2", "spec_version": "2.0", "data": {
        "name": "Brann", "first_mes": "Hi.", "extensions": {"world": "Brann's book"}}},
        "brann.json")
    code, out, err = invoke("stories", "import-card", str(card), "--name", "plain")
    assert code == 0, err
    assert 'separate lorebook ("Brann\'s book")' in out  # no lorebook given: say so
    lore = write(tmp_path, v2_book(), "book.json")
    code, out, err = invoke("stories", "import-card", str(card), "--lorebook", str(lore))
    assert code == 0, err
    assert "separate lorebook" not in out  # given: no nagging
    assert f"added 2 world entries from {lore} (a character book" in out
    assert 'dropped: disabled lorebook entries dropped: entries[2] "Off"' in out
    seed = fill_seed(find_seed(AppPaths.from_env(), "brann"), {})
    assert seed.world[0] == WorldEntry(("forge",), "The forge burns.", ("fire",),
                                       comment="Forge")
    assert seed.world[1].content == "Brann's anvil is old."


def test_import_card_with_a_bad_lorebook_writes_nothing(tmp_path: Path) -> None:
    card = write(tmp_path, {"name": "Brann", "first_mes": "Hi."}, "brann.json")
    bad = write(tmp_path, {"entries": "none"}, "bad.json")
    code, _, err = invoke("stories", "import-card", str(card), "--lorebook", str(bad))
    one_line_error(code, err, str(bad))
    nothing_written()


def test_chat_with_a_card_and_a_lorebook(tmp_path: Path, launched: list[Any]) -> None:
    card = write(tmp_path, {"name": "Brann", "first_mes": "Hi."}, "brann.json")
    lore = write(tmp_path, v2_book(), "book.json")
    code, _, err = invoke("chat", "--plain", "--character", str(card), "--lorebook", str(lore))
    assert code == 0, err
    launch = launched[-1]
    assert launch.lorebook == lore
    seed = pick_seed(launch)
    assert [w.content for w in seed.world] == ["The forge burns.", "Brann's anvil is old."]


def test_chat_lorebook_and_load_do_not_mix(tmp_path: Path, launched: list[Any]) -> None:
    code, _, err = invoke("chat", "--plain", "--load", "inn", "--lorebook",
                          str(write(tmp_path, v2_book())))
    one_line_error(code, err, "drop --lorebook", "/world import")
    assert launched == []


# -- NovelAI (issue 25, item 2) ------------------------------------------------------------

def test_novelai_lorebook_and_story_into_a_seed(tmp_path: Path) -> None:
    lore = write(tmp_path, novelai_lorebook(), "Ripple.lorebook")
    code, out, err = invoke("import", str(lore), "--into", "knight")
    assert code == 0, err
    target = AppPaths.from_env().stories_dir / "knight.toml"
    assert out.splitlines()[0] == f"{lore}: a NovelAI lorebook (4 entries)"
    assert f"added 4 world entries to seed knight: {target}" in out
    assert 'dropped: disabled entries dropped: entry 3 "Off"' in out
    world = find_seed(AppPaths.from_env(), "knight").world
    assert WorldEntry(("harbor",), "[Ships sail at dawn.]", comment="Harbor") in world
    story = write(tmp_path, novelai_story(document="AAEC"), "tale.story")  # text unreadable
    code, out, err = invoke("import", str(story), "--into", "knight")
    assert code == 0, err
    assert out.splitlines()[0] == f"{story}: a NovelAI story (1 entry)"
    assert f"added 1 world entry to seed knight: {target}" in out


def test_novelai_story_imports_as_a_save(tmp_path: Path) -> None:
    story = write(tmp_path, novelai_story(), "tale.story")
    code, out, err = invoke("import", str(story))
    assert code == 0, err
    assert out.splitlines()[0] == f"{story}: a NovelAI story (the opening only, 1 world entry)"
    state = SaveStore(AppPaths.from_env()).load("tale")
    assert state.turns[0].text == "You stand at the gates of Whiterun." and len(state.world) == 1


def test_chat_with_a_novelai_lorebook(tmp_path: Path, launched: list[Any]) -> None:
    card = write(tmp_path, {"name": "Brann", "first_mes": "Hi."}, "brann.json")
    lore = write(tmp_path, novelai_lorebook(), "world.lorebook")
    code, _, err = invoke("chat", "--plain", "--character", str(card), "--lorebook", str(lore))
    assert code == 0, err
    seed = pick_seed(launched[-1])
    assert [w.comment for w in seed.world] == ["Rome Burning", "World", "Wyrm", "Harbor"]


# -- AI Dungeon (issue 25, item 3) ---------------------------------------------------------

def test_ai_dungeon_lore_into_a_save(tmp_path: Path) -> None:
    store = chat_save()
    cards = write(tmp_path, aid_story_cards(), "cards.json")
    info = write(tmp_path, aid_world_info(), "wi.json")
    code, out, err = invoke("import", str(cards), str(info), "--into", "inn")
    assert code == 0, err
    assert f"{cards}: AI Dungeon story cards" in out and f"{info}: AI Dungeon world info" in out
    assert "note: keys written as Enhanced World Info patterns" in out
    assert "dropped: card descriptions dropped" in out
    world = store.load("inn").world
    assert WorldEntry(("Ana", "the smith"), "Ana is the village smith.", comment="Ana") in world
    assert WorldEntry(("Katariah", "empress", "emperor", "the empress", "the emperor"),
                      "Katariah rules Tamriel.") in world


def test_agnai_memory_book_into_a_seed(tmp_path: Path) -> None:
    book = write(tmp_path, agnai_memory_book(), "larion.json")
    code, out, err = invoke("import", str(book), "--into", "knight")
    assert code == 0, err
    assert out.splitlines()[0] == f"{book}: an Agnai memory book (2 entries)"
    assert "added 2 world entries to seed knight" in out
    assert WorldEntry(("inn",), "The inn is loud.", comment="Inn") in find_seed(
        AppPaths.from_env(), "knight").world
