"""Asking before deleting (`saves delete`, `models remove`): y/N on a terminal, `--yes` to skip
the question, and a refusal when nobody can answer (stdin is not a terminal)."""

from __future__ import annotations

import sys

import typer

from gpt2_adventure.errors import UserError


def can_ask() -> bool:
    """Whether someone at a keyboard can answer a question (a test replaces this)."""
    return sys.stdin is not None and sys.stdin.isatty()


def confirm_delete(question: str, *, yes: bool, what: str, interactive: bool | None = None
                   ) -> None:
    """Return once deleting ``what`` is agreed: ``yes`` given, or "y" answered to
    ``question``. No answer possible: a UserError; "n" (the default): exit code 1."""
    from gpt2_adventure.safe_text import printable

    if yes:
        return
    if not (can_ask() if interactive is None else interactive):
        raise UserError(f"not deleting {what} without confirmation",
                        hint="pass --yes to delete without being asked")
    if not typer.confirm(printable(question)):
        raise typer.Exit(1)
