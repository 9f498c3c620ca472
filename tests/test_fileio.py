"""Reading a file the player named: a regular file up to a limit, or a reason why not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gpt2_adventure.fileio import FileRefused, read_regular_file


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


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert reason(fifo) == ("not_regular", "this is not a regular file")
