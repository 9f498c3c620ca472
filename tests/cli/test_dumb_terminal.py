"""`TERM=dumb` (a terminal that cannot draw) never starts the full-screen interface: the game
is played in plain mode, with one note on stderr saying why."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from gpt2_adventure.cli import app, play, terminal


@pytest.fixture
def at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin and stdout are a terminal; starting the full-screen interface fails the test."""
    monkeypatch.setattr(terminal, "on_terminal", lambda: True)

    def no_tui(launch: Any) -> int:
        raise AssertionError("the full-screen interface was started")

    monkeypatch.setattr(play, "_run_tui", no_tui)
    import gpt2_adventure.tui.app as tui_app

    monkeypatch.setattr(tui_app, "run_tui", no_tui)


@pytest.mark.parametrize("command", [["play"], ["chat"], ["write"], []])
def test_term_dumb_plays_in_plain_mode_with_a_note(
        command: list[str], at_a_terminal: None, launched: list[Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert len(launched) == 1 and launched[0].mode == (command[0] if command else "play")
    [note] = result.stderr.splitlines()
    assert note.startswith("note: TERM=dumb") and "plain mode" in note


def test_another_terminal_gets_the_full_screen_interface(
        at_a_terminal: None, launched: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    with pytest.raises(AssertionError, match="full-screen interface was started"):
        CliRunner().invoke(app, ["play"], catch_exceptions=False)
    assert launched == []
