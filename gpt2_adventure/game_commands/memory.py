"""What the model always sees besides the story: memory lines (``/remember``, ``/forget``,
``/pin``, ``/memory``) and the author's note (``/note``)."""

from __future__ import annotations

from gpt2_adventure.game_commands.host import OpenGame, number
from gpt2_adventure.game_commands.outcomes import Info, Outcome


def remember(game: OpenGame, arg: str) -> Outcome:
    game.session.remember(arg)
    return Info([f"remembered: {arg.strip()}"])


def forget(game: OpenGame, arg: str) -> Outcome:
    return Info([f"forgot: {game.session.forget(number(arg, 'forget') - 1)}"])


def pin(game: OpenGame, arg: str) -> Outcome:
    turn = number(arg, "pin")
    game.session.pin(turn - 1)
    return Info([f"pinned turn {turn} into memory"])


def memory(game: OpenGame, arg: str) -> Outcome:
    lines = game.session.memory_lines()
    return Info([f"{i + 1}. {line}" for i, line in enumerate(lines)] or ["memory is empty"])


def note(game: OpenGame, arg: str) -> Outcome:
    if not arg:
        note = game.state.authors_note
        return Info([f"author's note: {note}" if note else "no author's note"])
    game.session.set_note("" if arg == "-" else arg)
    return Info(["author's note cleared" if arg == "-" else f"author's note: {arg}"])
