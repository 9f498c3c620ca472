"""Paths: save, export and seed names never write outside the folders they belong to (only an
explicit path the player types does), and links are not followed out of the data folder.

Every test snapshots the whole temporary tree around the data folder and checks afterwards
that nothing outside the allowed folder was created, changed or removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.errors import UserError
from gpt2_adventure.game import Game, Info
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed, write_template
from gpt2_adventure.story.session import Session
from tests.support.fake_backend import FakeBackend
from tests.support.reliability_proc import run

HOSTILE_NAMES = ["../x", "..", ".", "a/../../x", "/tmp/x", "~/x", "x\\..\\y", "..\\x",
                 "autosave/../../x", "autosave/..", ".hidden", "x/", "/", "\\", "C:\\x",
                 "a\x00b", "x\n../y", "CON", "nul.txt", "x.json", "e\u202exe", "%2e%2e/x",
                 "\u2024\u2024/x", "．．/x", "x" * 300]


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file, folder and link under ``root``: kind and size (links: where they point)."""
    found: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                found[str(path)] = ("link:" + os.readlink(path), 0)
            elif path.is_dir():
                found[str(path)] = ("dir", 0)
            else:
                found[str(path)] = ("file", path.stat().st_size)
    return found


def changed_outside(before: dict, after: dict, allowed: Path) -> list[str]:
    """Paths created, changed or removed outside ``allowed`` (and outside the allowed one's
    own ancestors being created)."""
    out = []
    for path in set(before) | set(after):
        if before.get(path) == after.get(path):
            continue
        p = Path(path)
        if p == allowed or allowed in p.parents or p in allowed.parents:
            continue
        out.append(path)
    return sorted(out)


def make_game(paths: AppPaths, replies: tuple[str, ...] = (" Fine.",) * 20) -> Game:
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
    return Game(Session(state, FakeBackend(list(replies)), Sampling(max_tokens=20)),
                SaveStore(paths), warn=WARNINGS.append).open()


WARNINGS: list[str] = []


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, AppPaths]:
    """The temporary tree: the data folder, a sentinel folder beside it, and a working dir."""
    paths = AppPaths.from_env()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "precious.txt").write_text("keep me", encoding="utf-8")
    (tmp_path / "cwd").mkdir()
    WARNINGS.clear()
    return tmp_path, paths


def test_hostile_save_names_are_refused_and_write_nothing(world: tuple[Path, AppPaths],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    root, paths = world
    monkeypatch.chdir(root / "cwd")
    game = make_game(paths)
    store = game.store
    before = snapshot(root)
    for name in HOSTILE_NAMES:
        with pytest.raises(UserError):
            store.save(game.state, name)
        outcome = game.handle(f"/save {name}")
        assert isinstance(outcome, Info)
        if outcome.error:
            continue
        # Accepted: then it is a plain name, stored as a file right in the saves folder.
        saved = Path(outcome.lines[0].removeprefix("saved: "))
        assert saved.parent == paths.saves_dir, (name, saved)
    game.close()
    assert changed_outside(before, snapshot(root), paths.saves_dir) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.text(min_size=1, max_size=40) | st.sampled_from(HOSTILE_NAMES))
def test_any_save_name_lands_in_the_saves_folder_or_is_refused(name: str,
                                                              tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    paths.saves_dir.mkdir(parents=True, exist_ok=True)
    store = SaveStore(paths)
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
    try:
        path = store.save(state, name)
    except UserError:
        return
    assert path.parent == paths.saves_dir and path.resolve().parent == paths.saves_dir.resolve()
    assert store.load(name).turns == state.turns  # the name finds what it saved
    store.delete(name)


def test_delete_never_reaches_outside(world: tuple[Path, AppPaths]) -> None:
    root, paths = world
    game = make_game(paths)
    game.handle("/save mine")
    game.close()
    store = SaveStore(paths)
    target = root / "outside" / "precious.txt"
    os.symlink(target, paths.saves_dir / "link.json")
    before = snapshot(root)
    for name in [*HOSTILE_NAMES, str(target), "../outside/precious.txt", "../../outside/precious"]:
        with contextlib.suppress(UserError):
            store.delete(name)
    store.delete("link")  # the link goes, never what it points to
    assert target.read_text(encoding="utf-8") == "keep me"
    assert changed_outside(before, snapshot(root), paths.saves_dir) == []
    assert store.load("mine").turns


def test_export_writes_only_the_path_the_player_gave(world: tuple[Path, AppPaths],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root, paths = world
    monkeypatch.chdir(root / "cwd")
    game = make_game(paths)
    target = root / "outside" / "precious.txt"
    os.symlink(target, root / "cwd" / "link.md")
    os.symlink(root / "outside" / "nothing-here.md", root / "cwd" / "dangling.md")
    before = snapshot(root)
    for line in ("/export md link.md", f"/export txt {target}", "/export md ../outside",
                 "/export md dangling.md", "/export md story.md", "/export txt story.md"):
        game.handle(line)
    game.close()
    assert target.read_text(encoding="utf-8") == "keep me"  # never followed or overwritten
    assert not (root / "outside" / "nothing-here.md").exists()
    after = snapshot(root)
    own = paths.saves_dir / "autosave"  # the game's own slot: written whole when it closes
    assert [p for p in changed_outside(before, after, root / "cwd")
            if not Path(p).is_relative_to(own)] == []
    assert (root / "cwd" / "story.md").is_file()
    assert after[str(root / "cwd" / "dangling.md")][0] == "file"  # the link was replaced


def test_saves_export_never_overwrites_without_force(world: tuple[Path, AppPaths]) -> None:
    root, paths = world
    make_game(paths).handle("/save mine")
    target = root / "outside" / "precious.txt"
    result = run("saves", "export", "mine", "--format", "md", "--out", str(target))
    assert result.returncode == 2 and "already exists" in result.stderr
    assert target.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("name", ["../x", "..", "a/b", "/tmp/x", "~/x", "x/../../y", ".x",
                                  "x" * 80, "a\x00b", "..x", "x..", "\u202e"])
def test_seed_names_cannot_leave_the_stories_folder(name: str,
                                                    world: tuple[Path, AppPaths]) -> None:
    root, paths = world
    before = snapshot(root)
    try:
        path = write_template(paths, name)
    except UserError:
        pass
    else:
        assert path.parent == paths.stories_dir, path
    assert changed_outside(before, snapshot(root), paths.stories_dir) == []


def test_a_card_named_like_a_path_becomes_a_seed_inside(world: tuple[Path, AppPaths]) -> None:
    root, paths = world
    card = root / "cwd" / "card.json"
    card.write_text(json.dumps({"name": "../../outside/evil", "description": "d",
                                "first_mes": "Hi."}), encoding="utf-8")
    before = snapshot(root)
    for extra in ((), ("--name", "../../outside/evil"), ("--name", "/tmp/evil")):
        result = run("stories", "import-card", str(card), *extra)
        assert result.returncode in (0, 2), result.stderr
        assert "Traceback" not in result.stderr
    assert changed_outside(before, snapshot(root), paths.stories_dir) == []
    assert [p.parent for p in paths.stories_dir.glob("*.toml")] == [paths.stories_dir]


def test_a_seed_file_that_is_a_link_is_not_overwritten(world: tuple[Path, AppPaths]) -> None:
    root, paths = world
    paths.stories_dir.mkdir(parents=True)
    os.symlink(root / "outside" / "precious.txt", paths.stories_dir / "mine.toml")
    os.symlink(root / "outside" / "new.toml", paths.stories_dir / "dangling.toml")
    for name in ("mine", "dangling"):
        with pytest.raises(UserError, match="already exists"):
            write_template(paths, name)
    assert (root / "outside" / "precious.txt").read_text(encoding="utf-8") == "keep me"
    assert not (root / "outside" / "new.toml").exists()


# -- links inside the data folder ----------------------------------------------------------


def test_a_saves_folder_that_is_a_link_is_used_as_it_is(world: tuple[Path, AppPaths]) -> None:
    """The player moved the saves (e.g. into a synced folder) and linked them back: saving
    works, and everything stays inside the folder the link names."""
    root, paths = world
    elsewhere = root / "synced-saves"
    elsewhere.mkdir()
    paths.data_dir.mkdir(parents=True)
    os.symlink(elsewhere, paths.saves_dir)
    before = snapshot(root)
    game = make_game(paths)
    for _ in game.handle("look").events:  # type: ignore[union-attr]
        pass
    game.handle("/save mine")
    game.close()
    assert not WARNINGS
    assert changed_outside(before, snapshot(root), elsewhere) == []
    assert SaveStore(paths).load("mine").turns and list(elsewhere.glob("autosave/*.json"))


def test_an_autosave_folder_linked_elsewhere_is_not_followed(
        world: tuple[Path, AppPaths]) -> None:
    root, paths = world
    paths.saves_dir.mkdir(parents=True)
    os.symlink(root / "outside", paths.saves_dir / "autosave")
    before = snapshot(root)
    game = make_game(paths)
    events = game.handle("look").events  # type: ignore[union-attr]
    for _ in events:
        pass
    game.close()
    assert WARNINGS and "outside the saves folder" in WARNINGS[0]  # the player is told
    assert changed_outside(before, snapshot(root), paths.saves_dir) == []
    assert game.state.turns[-1].role == "model"  # and plays on


def test_a_locks_folder_linked_elsewhere_is_not_followed(world: tuple[Path, AppPaths]) -> None:
    root, paths = world
    paths.saves_dir.mkdir(parents=True)
    os.symlink(root / "outside", paths.saves_dir / ".locks")
    before = snapshot(root)
    with pytest.raises(UserError, match="outside the saves folder"):
        make_game(paths)
    assert changed_outside(before, snapshot(root), paths.saves_dir) == []


def test_a_save_file_linked_elsewhere_is_neither_read_nor_overwritten(
        world: tuple[Path, AppPaths]) -> None:
    root, paths = world
    target = root / "outside" / "precious.txt"
    paths.saves_dir.mkdir(parents=True)
    os.symlink(target, paths.saves_dir / "mine.json")
    store = SaveStore(paths)
    with pytest.raises(UserError, match="outside the saves folder"):
        store.load("mine")
    [listed] = store.list()
    assert listed.error and "outside the saves folder" in listed.error
    game = make_game(paths)
    assert not game.handle("/save mine").error  # type: ignore[union-attr]
    game.close()
    assert target.read_text(encoding="utf-8") == "keep me"
    assert store.load("mine").turns  # a real file now; the link was kept aside
    assert [p.name for p in paths.saves_dir.glob("mine.link-*.json")]


def test_the_model_state_is_not_written_through_a_linked_autosave_folder(
        world: tuple[Path, AppPaths], tiny_gguf: Path) -> None:
    from gpt2_adventure.config import Settings
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.launch import Launch, open_game

    root, paths = world
    paths.saves_dir.mkdir(parents=True)
    os.symlink(root / "outside", paths.saves_dir / "autosave")
    before = snapshot(root)
    backend = LlamaBackend(tiny_gguf, n_ctx=128, threads=1, seed=1)
    try:
        launch = Launch(paths, Settings(), mode="play")
        state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
        game = open_game(launch, backend, state, Sampling(max_tokens=4), warn=WARNINGS.append)
        for _ in game.handle("look").events:  # type: ignore[union-attr]
            pass
        game.close()
    finally:
        backend.close()
    assert changed_outside(before, snapshot(root), paths.saves_dir) == []


def test_a_checkpoint_index_cannot_name_files_outside_its_folder(tmp_path: Path) -> None:
    """A downloaded checkpoint's index lists its shards: only files beside it are read."""
    from gpt2_adventure.engine.models.checkpoint import load_checkpoint
    from gpt2_adventure.errors import ModelFileError

    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2"}), encoding="utf-8")
    (folder / "tokenizer.json").write_text(json.dumps({"model": {
        "vocab": {"a": 0, "<|endoftext|>": 1}, "merges": []}}), encoding="utf-8")
    secret = tmp_path / "outside" / "secret.safetensors"
    secret.parent.mkdir()
    secret.write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    for shard in (str(secret), "../outside/secret.safetensors", "sub/../../outside/x", ".."):
        (folder / "model.safetensors.index.json").write_text(
            json.dumps({"weight_map": {"wte.weight": shard}}), encoding="utf-8")
        with pytest.raises(ModelFileError, match="not a file in this folder"):
            load_checkpoint(folder)
