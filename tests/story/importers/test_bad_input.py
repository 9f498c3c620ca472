"""Files from the wild: each is a clear error naming the file, or a conversion that lists what
it dropped; never a traceback, never a half-written seed or save."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.importers import import_file
from gpt2_adventure.story.saves.store import SaveStore
from tests.story.importers import files_under

KOBOLD = {"gamestarted": True, "prompt": "Ünïcode prompt", "memory": "", "authorsnote": "",
          "actions": [" más"]}


@pytest.fixture
def paths() -> AppPaths:
    return AppPaths.from_env()


def refused(path: Path, paths: AppPaths, *words: str) -> UserError:
    with pytest.raises(UserError) as info:
        import_file(path, paths)
    error = info.value
    assert error.where is not None and error.where.startswith(str(path)), error
    for word in words:
        assert word in error.message, error.message
    assert files_under(paths.data_dir) == []  # nothing written, not even a folder's worth
    return error


@pytest.mark.parametrize(("content", "words"), [
    (b"[1, 2, 3]", "holds a list, not an object"),
    (b"null", "holds null, not an object"),
    (b'{"gamestarted": true}', "the story is empty"),
    (b'{"story_start": null}', "story_start is missing"),
    (b'{"prompt": 42, "actions": []}', "prompt should be text, not a number"),
    (b'{"prompt": "x", "actions": [null, 1]}', "actions[1] should be text, not a number"),
    (b'{"context": "c", "actions": {"0": "a"}, "results": []}', "actions should be a list"),
    (b'{"prompt": "x", "actions": [], "worldinfo": [], "memory": 1e999}', "memory should be"),
    (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    (b'{"prompt": NaN, "actions": []}', "not allowed"),
    (b'{"prompt": "x", "actions": [], "n": ' + b"9" * 5000 + b"}", "has a value"),
    (b"{\x00\x00}", "binary"),
])
def test_bad_json(tmp_path: Path, paths: AppPaths, content: bytes, words: str) -> None:
    path = tmp_path / "story.json"
    path.write_bytes(content)
    refused(path, paths, words)


@pytest.mark.parametrize(("content", "words"), [
    ("- fantasy\n- mystery\n", "the YAML holds a list, not a mapping"),
    ("settings: [a, b]\n", "settings should be a mapping"),
    ("settings: !!python/object/apply:os.system ['echo pwned']\n", "tags like !!python"),
    ("settings: !!python/name:os.system\n", "tags like !!python"),
    ("settings:\n  fantasy:\n    characters: {knight: {prompts: [p]}}\n", "no setting"),
    ("settings: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    ("settings: {a: 2019-99-99}\n", "a value that cannot be read"),
    ("settings:\n\t- bad indentation\n", "not valid YAML"),
])
def test_bad_yaml(tmp_path: Path, paths: AppPaths, content: str, words: str) -> None:
    path = tmp_path / "story_data.yaml"
    path.write_text(content, encoding="utf-8")
    refused(path, paths, words)


def test_huge_file_is_refused_quickly(tmp_path: Path, paths: AppPaths) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as out:
        out.truncate(100 * 1024 * 1024)  # sparse: costs nothing to make
    start = time.monotonic()
    refused(path, paths, "too large")
    assert time.monotonic() - start < 1.0


def test_bom_is_fine(tmp_path: Path, paths: AppPaths) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(KOBOLD, ensure_ascii=False).encode())
    result = import_file(path, paths)
    assert result.notes == []
    assert SaveStore(paths).load("bom").turns[0].text == "Ünïcode prompt"


def test_latin1_json_is_read_with_a_note(tmp_path: Path, paths: AppPaths) -> None:
    path = tmp_path / "latin.json"
    path.write_bytes(json.dumps(KOBOLD, ensure_ascii=False).encode("latin-1"))
    result = import_file(path, paths)
    assert any("not UTF-8" in note for note in result.notes)
    assert SaveStore(paths).load("latin").turns[1].text == " más"


def test_lone_surrogates_do_not_break_seeds_or_saves(tmp_path: Path, paths: AppPaths) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"prompt": "a\\ud800b", "actions": ["\\udfff"]}', encoding="utf-8")
    import_file(path, paths)
    assert SaveStore(paths).load("s").turns[0].text == "a\ufffdb"
    import_file(path, paths, "seed")
    assert (paths.stories_dir / "kobold-s.toml").read_text(encoding="utf-8")


def test_odd_paths(tmp_path: Path, paths: AppPaths) -> None:
    refused(tmp_path / "missing.json", paths, "no such file")
    folder = tmp_path / "folder.json"
    folder.mkdir()
    refused(folder, paths, "folder")
    unknown = tmp_path / "notes.md"
    unknown.write_text("# notes\n", encoding="utf-8")
    refused(unknown, paths, "not a format gpt2-adventure imports")


def test_a_save_that_cannot_be_written_leaves_nothing(tmp_path: Path, paths: AppPaths) -> None:
    paths.data_dir.mkdir(parents=True)
    (paths.data_dir / "saves").write_text("a file where the saves folder should be")
    path = tmp_path / "k.json"
    path.write_text(json.dumps(KOBOLD), encoding="utf-8")
    with pytest.raises(UserError, match="cannot write the save"):
        import_file(path, paths)
    assert files_under(paths.data_dir) == [paths.data_dir / "saves"]
