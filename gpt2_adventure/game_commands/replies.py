"""Commands that have GPT-2 write: ``/do``, ``/say``, ``/story``, ``/retry``, ``/continue``."""

from __future__ import annotations

from gpt2_adventure.game_commands.host import Handler, OpenGame
from gpt2_adventure.game_commands.outcomes import Outcome
from gpt2_adventure.story.commands import CommandError, usage
from gpt2_adventure.story.events import SessionError
from gpt2_adventure.story.model import ActionKind


def acting(kind: ActionKind) -> Handler:
    """``/do TEXT``, ``/say TEXT``, ``/story [TEXT]``: an action of that kind (only the
    story's own words may be empty: the model goes on)."""
    def act(game: OpenGame, arg: str) -> Outcome:
        if not arg and kind != "story":
            raise CommandError(usage(kind))
        return game.act(arg, kind)

    return act


def retry(game: OpenGame, arg: str) -> Outcome:
    s = game.session
    if not s.state.turns or s.state.turns[-1].role != "model":
        raise SessionError("there is no reply to retry")
    return game.stream(s.retry, writes="alternative")


def continue_(game: OpenGame, arg: str) -> Outcome:
    turns = game.state.turns  # more of the last reply; after the player's turn, a new one
    extends = bool(turns) and turns[-1].role == "model"
    return game.stream(game.session.continue_, writes="extend" if extends else "new")
