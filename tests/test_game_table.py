"""The command table and ``story/commands.COMMANDS`` (each command's usage and help) cannot
drift apart: every command has exactly one handler, and no handler runs a command /help does
not know."""

from __future__ import annotations

from gpt2_adventure.game import COMMAND_TABLE
from gpt2_adventure.story.commands import ALIASES, COMMANDS


def test_every_command_has_exactly_one_handler() -> None:
    assert sorted(COMMAND_TABLE) == sorted(COMMANDS)


def test_the_table_lists_the_commands_in_the_order_help_shows_them() -> None:
    assert list(COMMAND_TABLE) == list(COMMANDS)


def test_every_alias_reaches_a_handler() -> None:
    assert {name for name in ALIASES.values() if name not in COMMAND_TABLE} == set()
