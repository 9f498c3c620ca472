"""How `--help` shows options: a flag takes no value, so it shows no type.

Typer's rich help prints a type beside every option, ``<bool>`` beside flags such as
``--json`` and ``--help`` too, which reads as if the flag wanted a value. Every command group
of the CLI is a ``Group``: it clears the type of its flags and of its commands' flags (the
help option included) before Typer formats the help.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from typer.core import TyperGroup


def bare_flags(params: Iterable[Any]) -> None:
    """Give every flag among ``params`` an empty metavar (what the help shows as its type)."""
    for param in params:
        if getattr(param, "is_flag", False) and not getattr(param, "metavar", None):
            param.metavar = ""


class Group(TyperGroup):
    """A Typer command group whose help, and its commands' help, shows flags bare."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        bare_flags(params)
        return params

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, Group):
            bare_flags(command.get_params(ctx))  # creates the help option, as its help will
        return command
