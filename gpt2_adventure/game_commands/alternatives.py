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
    last = s.state.turns[-1] if s.state.turns else None
    if last is not None and last.role == "model" and len(last.alternatives) < 2 \
            and last.ahead:
        s.pick(len(last.alternatives) + 1)  # nothing to flip to yet: show a ready one
    else:
        s.alternative(step)
    return Reloaded([alternatives_line(game)], last_turn(game))


def pick(game: OpenGame, arg: str) -> Outcome:
    game.session.pick(number(arg, "pick"))
    return Reloaded([alternatives_line(game)], last_turn(game))


def last_turn(game: OpenGame) -> range:
    """The one turn a flip changes: the last."""
    turns = len(game.state.turns)
    return range(turns - 1, turns)


def alternatives_line(game: OpenGame) -> str:
    last = game.state.turns[-1]
    ready = game.ready_note()
    return (f"alternative {last.chosen + 1} of {len(last.alternatives)}"
            + (f" · {ready} (/pick {len(last.alternatives) + 1})" if ready else ""))
