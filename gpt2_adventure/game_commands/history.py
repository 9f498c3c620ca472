"""Rewriting the story: ``/undo``, ``/redo`` and ``/edit`` (and ``edit_turn``, the one edit
path of both front ends, through ``Game.edit``)."""

from __future__ import annotations

import re

from gpt2_adventure.game_commands.host import OpenGame, number
from gpt2_adventure.game_commands.outcomes import AskEdit, Info, Outcome, Reloaded
from gpt2_adventure.story.commands import CommandError, usage
from gpt2_adventure.units import count


def undo(game: OpenGame, arg: str) -> Outcome:
    game.session.undo()
    end = len(game.state.turns)  # the turns taken away were the last: none left to draw
    return Reloaded(["undone"], range(end, end))


def redo(game: OpenGame, arg: str) -> Outcome:
    back = game.session.redo()
    end = len(game.state.turns)  # the turns brought back are the last
    return Reloaded(["redone"], range(end - len(back), end))


def edit(game: OpenGame, arg: str) -> Outcome:
    """``/edit [N] TEXT``; ``/edit`` or ``/edit N`` alone asks for the text (``AskEdit``)."""
    match = re.match(r"(\d+)\s+(.*)", arg, re.DOTALL)
    turns = game.state.turns
    if match:
        return edit_turn(game, number(match.group(1), "edit") - 1, match.group(2))
    if not arg.strip() or arg.strip().isdigit():  # "/edit" or "/edit N": ask for the text
        index = number(arg, "edit") - 1 if arg.strip() else len(turns) - 1
        if not 0 <= index < len(turns):
            raise CommandError(usage("edit") if not turns else
                               f"there is no turn {index + 1} (the story has "
                               f"{count(len(turns), 'turn')})")
        return AskEdit(index, turns[index].text, Info([usage("edit")], error=True))
    return edit_turn(game, len(turns) - 1, arg)


def edit_turn(game: OpenGame, index: int, text: str) -> Reloaded:
    """Rewrite turn ``index`` (0-based) as ``text``, keeping how the turn joined the story
    (its leading whitespace, its final newline)."""
    if not text.strip():
        raise CommandError(usage("edit"))
    turns = game.state.turns
    old = turns[index].text if 0 <= index < len(turns) else ""
    lead = old[: len(old) - len(old.lstrip())]
    game.store.touch(game.state, index)  # an earlier turn: the autosave's journal is told
    game.session.edit(index, lead + text.strip() + ("\n" if old.endswith("\n") else ""))
    return Reloaded([f"edited turn {index + 1}"], range(index, index + 1))
