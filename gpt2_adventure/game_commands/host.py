"""What a command's handler may use of the open game, and the handlers' shape.

``game.Game`` is the one ``OpenGame`` (mypy checks it against this protocol where the table
hands it to a handler); the protocol keeps the handlers from importing ``game.py``, which
imports them, and says in one place what a command may touch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.game_commands.outcomes import Outcome, Stream, Writes
from gpt2_adventure.story.commands import CommandError, usage
from gpt2_adventure.story.events import Event
from gpt2_adventure.story.model import ActionKind, StoryState, Turn
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.session import Session


class OpenGame(Protocol):
    session: Session
    store: SaveStore
    save_name: str | None  # the name this game was last saved or loaded as

    @property
    def state(self) -> StoryState: ...

    def stream(self, start: Callable[[CancelToken], Iterator[Event]],
               action: Turn | None = None, writes: Writes = "new") -> Stream:
        """Hand out a reply to run (``Game.stop`` and ``Game.close`` cancel it)."""
        ...

    def act(self, text: str, kind: ActionKind) -> Stream: ...

    def ready_note(self) -> str: ...

    def replace_story(self, state: StoryState) -> None:
        """Play ``state`` in this game from now on (a load)."""
        ...

    def restore_model_state(self) -> bool: ...


Handler = Callable[[OpenGame, str], Outcome]


def number(arg: str, name: str) -> int:
    """A number counted from 1 (a turn, a memory line, a reply, a world entry)."""
    if not arg.strip().isdigit():
        raise CommandError(usage(name))
    number = int(arg.strip())
    if number < 1:  # 0 - 1 would be Python's "the last one"
        raise CommandError(f"/{name} {number}: the numbers start at 1 ({usage(name)})")
    return number
