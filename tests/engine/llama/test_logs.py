"""Routing llama.cpp's log lines to our log file: a log that cannot be written is a clear
error, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpt2_adventure.engine.llama.logs import route_llama_logs
from gpt2_adventure.errors import UserError


def test_a_log_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "some-file"
    blocker.write_text("not a folder")
    log_file = blocker / "logs" / "gpt2-adventure.log"
    with pytest.raises(UserError) as caught:
        route_llama_logs(log_file)
    assert caught.value.where == str(log_file)
    assert caught.value.message.startswith("cannot write the log file: ")


def test_logs_go_to_the_file(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "gpt2-adventure.log"
    try:
        route_llama_logs(log_file)
        assert log_file.exists()
    finally:
        route_llama_logs(None)
