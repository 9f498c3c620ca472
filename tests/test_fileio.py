"""Reading a file the player named (a regular file up to a limit, or a reason why not), and
writing files atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gpt2_adventure.fileio import (
    FileRefused,
    atomic_create,
    atomic_path,
    atomic_write,
    read_regular_file,
)


def reason(path: Path, limit: int = 100) -> tuple[str, str]:
    with pytest.raises(FileRefused) as info:
        read_regular_file(path, limit, "save file")
    return info.value.reason, str(info.value)


def test_a_regular_file_up_to_the_limit_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "story.json"
    path.write_bytes(b"x" * 100)
    assert read_regular_file(path, 100) == b"x" * 100


def test_each_refusal_says_why(tmp_path: Path) -> None:
    assert reason(tmp_path / "missing.json") == ("missing", "no such save file")
    assert reason(tmp_path) == ("folder", "this is a folder, not a save file")
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 101)
    assert reason(big) == ("too_large", "the save file is too large (the limit is 100 bytes)")
    assert reason(big, 10) == ("too_large", "the save file is too large (the limit is 10 bytes)")


def test_a_name_with_a_nul_is_refused(tmp_path: Path) -> None:
    assert reason(tmp_path / "a\x00b.json") == (
        "missing", "no such save file (the name holds a NUL character)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert reason(fifo) == ("not_regular", "this is not a regular file")


# -- atomic writes ------------------------------------------------------------------------


def test_atomic_write_replaces_the_file_with_the_mode_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "save.json"
    path.write_bytes(b"old")
    atomic_write(path, b"new", mode=0o640, temp_prefix=".save-")
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["save.json"]  # no temp file left


def test_atomic_path_hands_a_temp_name_to_a_writer_and_renames_it(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    with atomic_path(path, mode=0o644, temp_prefix=".model.") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(f".model.{os.getpid()}-")
        assert tmp.is_file() and not path.exists()  # created, private, until the block ends
        tmp.write_bytes(b"weights")
    assert path.read_bytes() == b"weights" and path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["model.gguf"]


def test_atomic_path_without_a_mode_lets_the_writer_create_the_file(tmp_path: Path) -> None:
    path, plain = tmp_path / "model.gguf", tmp_path / "plain"
    plain.write_bytes(b"")  # what the umask gives a new file
    with atomic_path(path, mode=None) as tmp:
        assert not tmp.exists()
        tmp.write_bytes(b"weights")
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_an_error_in_the_block_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("the writer failed")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.gguf"]


def test_atomic_create_never_replaces_a_file(tmp_path: Path) -> None:
    path = tmp_path / "seed.toml"
    assert atomic_create(path, b"first", mode=0o644)
    assert not atomic_create(path, b"second")
    assert path.read_bytes() == b"first" and path.stat().st_mode & 0o777 == 0o644
    path.unlink()
    path.symlink_to(tmp_path / "nowhere")  # a dangling link is taken too
    assert not atomic_create(path, b"third")
    assert [p.name for p in tmp_path.iterdir()] == ["seed.toml"]
