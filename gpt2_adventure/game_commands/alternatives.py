"""Flipping the last reply between its alternatives: ``/alt`` and ``/pick``."""

from __future__ import annotations

from gpt2_adventure.game_commands.host import OpenGame, number
from gpt2_adventure.game_commands.outcomes import Outcome, Reloaded
from gpt2_adventure.story.commands import CommandError

ALT_STEPS = {"": 1, "next": 1, "n": 1, "prev": -1, "previous": -1, "p": -1}


def alt(game: OpenGame, arg: str) -> Outcome:
    s = game.session
    step = ALT_STEPS.get(arg.lower())
    if step is None:
        raise CommandError(f"/alt takes next or prev (or nothing, for next), not "
                           f"{arg!r}")
    s.alternative(step)  # (nothing to flip to yet: it shows a ready one)
    return Reloaded([game.session.choices_line()], last_turn(game))


def pick(game: OpenGame, arg: str) -> Outcome:
    game.session.pick(number(arg, "pick"))
    return Reloaded([game.session.choices_line()], last_turn(game))


def last_turn(game: OpenGame) -> range:
    """The one turn a flip changes: the last."""
    turns = len(game.state.turns)
    return range(turns - 1, turns)
