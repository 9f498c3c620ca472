"""Bad option values, missing arguments, unknown commands and options: one `error:` line (and
at most one `hint:`), exit code 2, never Typer's boxed usage message; and `--help` without
types on flags."""

from __future__ import annotations

import sys

import pytest
import typer

from gpt2_adventure.cli import app, main

BOX = ("╭", "│", "╰", "Usage:", "Try '")


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
             *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["gpt2-adventure", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.mark.parametrize(("args", "words"), [
    (["play", "--threads", "0"], ["--threads", "at least 1", "'0'"]),
    (["chat", "--threads", "many"], ["--threads", "whole number", "'many'"]),
    (["write", "--seed", "x"], ["--seed", "whole number"]),
    (["generate", "x", "--temperature", "-1"], ["--temperature", "at least 0", "'-1'"]),
    (["generate", "x", "--top-p=2"], ["--top-p", "at most 1", "'2'"]),
    (["generate", "Hello", "world"], ["extra argument", "world", "quotes"]),
    (["bench", "--prompt-tokens", "99999"], ["--prompt-tokens", "at most 1000"]),
    (["stories", "check"], ["no command 'check'", "gpt2-adventure stories validate"]),
    (["stories", "chek"], ["no command 'chek'", "gpt2-adventure stories validate"]),
    (["stories", "new"], ["gpt2-adventure stories new", "NAME"]),
    (["saves", "show"], ["gpt2-adventure saves show", "NAME"]),
    (["saves", "rm", "x"], ["gpt2-adventure saves delete"]),
    (["saves", "export", "x", "--format"], ["--format needs a value", "saves export"]),
    (["models", "pull"], ["gpt2-adventure models pull", "NAME"]),
    (["models", "uninstall", "gpt2"], ["gpt2-adventure models remove"]),
    (["import"], ["gpt2-adventure import", "FILES"]),
    (["import", "x.json", "--in", "knight"], ["no option --in", "--into"]),
    (["backend", "chek"], ["gpt2-adventure backend check"]),
    (["config", "shwo"], ["gpt2-adventure config show"]),
    (["modles", "list"], ["gpt2-adventure models"]),
    (["generate", "x", "--max-token", "3"], ["no option --max-token", "--max-tokens"]),
    (["nonsense"], ["no command 'nonsense'", "play, chat, write"]),
])
def test_usage_errors_are_one_line_and_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        args: list[str], words: list[str]) -> None:
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: ") and len(lines) <= 2, err
    assert len(lines) == 1 or lines[1].startswith("hint: "), err
    assert not any(mark in err for mark in BOX), err
    assert "Traceback" not in err and out == ""
    for word in words:
        assert word in err, err


def test_a_group_on_its_own_prints_its_help(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(monkeypatch, capsys, "saves")
    assert code == 2 and "delete" in out and "export" in out


def _commands(command: typer.core.TyperGroup, path: list[str]) -> list[list[str]]:
    found = [path]
    for name, sub in command.commands.items():
        found += _commands(sub, [*path, name]) if hasattr(sub, "commands") else [[*path, name]]
    return found


def test_help_shows_no_type_beside_flags(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    every = _commands(typer.main.get_command(app), [])
    assert ["saves", "export"] in every and ["models", "remove"] in every
    for path in every:
        code, out, _ = run_main(monkeypatch, capsys, *path, "--help")
        assert code == 0, path
        assert "--help" in out, path
        assert "<bool>" not in out, (path, out)
    _, out, _ = run_main(monkeypatch, capsys, "generate", "--help")
    assert "<int" in out  # options that take a value still show what they take
