"""Safe reading shared by the importers: caps, encodings, JSON/YAML, names, no-clobber writes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.importers import common
from gpt2_adventure.story.importers.common import (
    decode_text,
    first_sentence,
    load_json,
    load_yaml,
    read_bytes,
    save_name,
    seed_id,
    write_new,
)
from gpt2_adventure.story.saves.store import check_name


def test_decode_utf8_with_and_without_bom() -> None:
    assert decode_text("Café ✓".encode(), "f") == ("Café ✓", [])
    assert decode_text(b"\xef\xbb\xbf" + "Café".encode(), "f") == ("Café", [])


def test_decode_utf16_with_bom() -> None:
    assert decode_text("Ünïcode\n".encode("utf-16"), "f") == ("Ünïcode\n", [])


def test_decode_falls_back_to_windows_1252_and_says_so() -> None:
    text, notes = decode_text("“Café”".encode("cp1252"), "f")
    assert text == "“Café”"
    assert notes and "Windows-1252" in notes[0]


def test_decode_falls_back_to_latin1_for_bytes_1252_lacks() -> None:
    text, notes = decode_text(b"caf\xe9 \x81", "f")  # 0x81 is undefined in Windows-1252
    assert text == "café \x81" and "Latin-1" in notes[0]


def test_decode_refuses_binary() -> None:
    with pytest.raises(UserError, match="binary"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\xff", "f.png")


def test_read_bytes_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file") as info:
        read_bytes(tmp_path / "nope.json")
    assert info.value.where == str(tmp_path / "nope.json")
    with pytest.raises(UserError, match="folder"):
        read_bytes(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_read_bytes_refuses_a_fifo_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="not a regular file"):
        read_bytes(fifo)


def test_read_bytes_caps_the_size_quickly(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as out:  # sparse: 60 MB that costs nothing to make
        out.truncate(60 * 1024 * 1024)
    start = time.monotonic()
    with pytest.raises(UserError, match="too large"):
        read_bytes(big)
    assert time.monotonic() - start < 1.0


def test_json_errors() -> None:
    with pytest.raises(UserError, match="not valid JSON") as info:
        load_json('{\n "a": 1,\n oops}', "x.json")
    assert info.value.where == "x.json:3:2"
    with pytest.raises(UserError, match="not allowed"):
        load_json('{"a": NaN}', "x.json")
    with pytest.raises(UserError, match="nested too deeply"):
        load_json("[" * 100_000 + "]" * 100_000, "x.json")


def test_yaml_is_read_with_the_safe_loader_only(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = f"settings: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(UserError, match="tags like !!python are refused") as info:
        load_yaml(evil, "story_data.yaml")
    assert info.value.where == "story_data.yaml:1:11"
    assert not marker.exists()


def test_yaml_errors_are_clear() -> None:
    with pytest.raises(UserError, match="not valid YAML"):
        load_yaml("settings: [unclosed\n", "s.yaml")
    with pytest.raises(UserError, match="nested too deeply"):
        load_yaml("[" * 5000 + "]" * 5000, "s.yaml")
    with pytest.raises(UserError, match="too large"):
        load_yaml("a: b\n" * (common.MAX_YAML_BYTES // 5 + 1), "s.yaml")


@pytest.mark.parametrize(("stem", "expected"), [
    ("story6b3e-uuid", "story6b3e-uuid"),
    ("my/odd:name*?", "my-odd-name"),
    ("..hidden..", "hidden"),
    ("CON", "CON story"),
    ("", "imported story"),
    ("x.json", "x"),
    ("\x1b[31mred", "31mred"),
])
def test_save_names_pass_check_name(stem: str, expected: str) -> None:
    name = save_name(stem)
    assert name == expected
    assert check_name(name) == name


def test_seed_ids() -> None:
    assert seed_id("aid2", "fantasy", "Knight") == "aid2-fantasy-knight"
    assert seed_id("aid2", "Ünïcode wörld", "a b") == "aid2-unicode-world-a-b"
    hashed = seed_id("aid2", "魔法", "x")
    assert hashed.startswith("aid2-") and hashed.endswith("-x") and len(hashed) == 15


def test_first_sentence() -> None:
    assert first_sentence("You are Bob, a knight.  You see a dragon.") == "You are Bob, a knight."
    long = first_sentence("word " * 40)
    assert long.endswith("…") and len(long) <= 61


def test_write_new_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "seed.toml"
    assert write_new(target, b"first")
    assert not write_new(target, b"second")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["seed.toml"]  # no temp files left
