"""Flags of play, chat and write that change the game's settings: --candidates; play and write
share one declaration of their options."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from gpt2_adventure.cli import app
from tests.cli.test_app import assert_clean_error, run


@pytest.mark.parametrize("command", ["play", "chat", "write"])
def test_candidates_reaches_the_game(command: str, launched: list[Any]) -> None:
    result = CliRunner().invoke(app, [command, "--plain", "--candidates", "4"])
    assert result.exit_code == 0, result.output
    assert launched[-1].settings.sampling.candidates == 4


def test_the_flag_wins_over_the_config_file_and_leaves_the_rest(launched: list[Any]) -> None:
    config = Path(os.environ["GPT2_ADVENTURE_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[sampling]\ncandidates = 3\ntemperature = 0.5\n")
    runner = CliRunner()
    assert runner.invoke(app, ["play", "--plain"]).exit_code == 0
    assert launched[-1].settings.sampling.candidates == 3
    assert runner.invoke(app, ["play", "--plain", "--candidates", "1"]).exit_code == 0
    sampling = launched[-1].settings.sampling
    assert (sampling.candidates, sampling.temperature) == (1, 0.5)
    assert config.read_text() == "[sampling]\ncandidates = 3\ntemperature = 0.5\n"  # not saved


@pytest.mark.parametrize("value", ["0", "6"])
def test_out_of_range_is_one_line_and_exit_2(value: str) -> None:
    assert_clean_error(run("play", "--plain", "--candidates", value),
                       f"--candidates must be 1..5, got {value}", "command line")


def test_chat_and_write_check_it_too(launched: list[Any]) -> None:
    for command in ("chat", "write"):
        result = CliRunner().invoke(app, [command, "--plain", "--candidates", "9"])
        assert result.exit_code != 0 and not launched
        assert "--candidates must be 1..5, got 9" in str(result.exception)


def test_play_and_write_take_the_same_options_each_in_its_own_mode(launched: list[Any]) -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]  # a group
    play, write = commands["play"], commands["write"]
    assert [p.opts for p in play.params] == [p.opts for p in write.params]
    assert ["--continue"] in [p.opts for p in play.params]
    assert play.help == "Play a text adventure (default story: knight)."
    assert write.help == ("Write a story together with GPT-2, turn by turn (default story: "
                          "fairy-tale).")
    for command in ("play", "write"):
        result = CliRunner().invoke(app, [command, "--plain", "--name", "Ada"])
        assert result.exit_code == 0, result.output
        assert (launched[-1].mode, launched[-1].name) == (command, "Ada")
