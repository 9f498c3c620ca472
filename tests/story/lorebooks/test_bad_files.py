"""Broken and hostile lorebooks: one clear error naming the file (and the field), never a
traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpt2_adventure.story.importers.common import ImportProblem
from gpt2_adventure.story.lorebooks import common
from gpt2_adventure.story.lorebooks.read import read_lorebook
from tests.story.lorebooks import st_entry, write


@pytest.mark.parametrize(("doc", "fragment"), [
    ({"entries": {"0": st_entry(0, key=[1], content="x")}},
     "entries.0.key[0] should be text, not a number"),
    ({"entries": {"0": st_entry(0, key=["a"], content=["x"])}},
     "entries.0.content should be text, not a list"),
    ({"entries": {"0": st_entry(0, key=["a"], content="x", constant="yes")}},
     "entries.0.constant should be true or false, not text"),
    ({"entries": {"0": "an entry"}}, "entries.0 should be an object, not text"),
    ([{"key": 5, "content": "x"}], "[0].key should be text, not a number"),
    ([{"key": "a", "content": "x"}, 7], "[1] should be an object, not a number"),
    ({"worldinfo": [{"key": "a", "content": "x", "widisabled": 1}]},
     "worldinfo[0].widisabled should be true or false, not a number"),
    ({"entries": [{"keys": "a", "content": "x"}]},
     "entries[0].keys should be a list of text, not text"),
    ({"spec": "lorebook_v3", "data": []}, "data should be an object, not a list"),
    ({"spec": "lorebook_v3", "data": {"entries": [{"keys": ["a"], "content": 1}]}},
     "data.entries[0].content should be text, not a number"),
    ({"spec": "chara_card_v2", "data": {"name": "x"}}, "not a lorebook (it holds a character "
                                                         "card)"),
    ({"prompt": "x", "actions": []}, "not a lorebook (it holds a story)"),
    ([1, 2], "not a lorebook (it holds a list)"),
])
def test_bad_documents(tmp_path: Path, doc: object, fragment: str) -> None:
    path = write(tmp_path, doc)
    with pytest.raises(ImportProblem) as caught:
        read_lorebook(path)
    assert fragment in caught.value.message
    assert caught.value.where is not None and str(path) in caught.value.where
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("content", "fragment"), [
    (b"", "not valid JSON"), (b"{nope", "not valid JSON"), (b"\x00\x01\x02", "binary"),
    (b"[" * 100_000, "nested too deeply"), (b'{"entries": {"0": NaN}}', "value it should not"),
])
def test_bad_bytes(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "lore.json"
    path.write_bytes(content)
    with pytest.raises(ImportProblem, match=fragment):
        read_lorebook(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImportProblem, match="no such file"):
        read_lorebook(tmp_path / "missing.json")
    with pytest.raises(ImportProblem, match="folder"):
        read_lorebook(tmp_path)


def test_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    many = {"entries": {str(i): {"key": ["k"], "content": "c"}
                        for i in range(common.MAX_ENTRIES + 1)}}
    with pytest.raises(ImportProblem, match="too many entries"):
        read_lorebook(write(tmp_path, many))
    long = {"entries": {"0": {"key": ["k"], "content": "x" * (common.MAX_TEXT_CHARS + 1)}}}
    with pytest.raises(ImportProblem, match=r"entries.0.content is too long"):
        read_lorebook(write(tmp_path, long))
    kobold = [{"key": "k", "content": "c"}] * (common.MAX_ENTRIES + 1)
    with pytest.raises(ImportProblem, match="too many entries"):
        read_lorebook(write(tmp_path, kobold))
    monkeypatch.setattr("gpt2_adventure.story.lorebooks.read.MAX_LOREBOOK_BYTES", 100)
    with pytest.raises(ImportProblem, match="too large"):
        read_lorebook(write(tmp_path, {"entries": {"0": {"content": "x" * 200}}}))


def test_text_is_kept_literal_and_cleaned(tmp_path: Path) -> None:
    doc = {"entries": {"0": {"key": ["{k}"], "content": "{v} \x1b[31m\u0000 \ud800 [b]x[/b]"}}}
    path = tmp_path / "lore.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    entry = read_lorebook(path).entries[0]
    assert entry.keys == ("{k}",)
    assert entry.content == "{v} \x1b[31m \ufffd [b]x[/b]"  # NUL gone, lone surrogate replaced
