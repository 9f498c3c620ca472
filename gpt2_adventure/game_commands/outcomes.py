"""What a typed line comes to (``Game.handle``): the typed outcomes both front ends act on.
Each one that opens a screen or a dialog carries what a line-only front end prints instead."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.story.events import Event, Target
from gpt2_adventure.story.inspect import Seen
from gpt2_adventure.story.model import Turn

Writes = Target  # what a reply becomes (story/events.py)


@dataclass
class Stream:
    """Run these events (a reply is being written). It says what it will change, so that a
    front end neither compares the story before and after nor guesses: ``writes`` what the
    reply becomes, ``from_turn`` the first turn it adds or rewrites (an index into the story
    as it is when the stream is handed out; the turns before it stay as they are)."""

    events: Iterator[Event]
    cancel: CancelToken
    action: Turn | None = None  # the player's turn it answers, to show while it is written
    writes: Writes = "new"
    from_turn: int = 0


@dataclass
class Info:
    lines: list[str]
    error: bool = False


@dataclass
class Quit:
    pass


@dataclass
class Reloaded:
    """The story was replaced (load) or rewritten (undo, edit, another alternative...): draw
    again the turns in ``changed``, indexes into the story as it is now (None: all of it,
    another story). Every other turn is as it was, but for turns taken away at the end (undo):
    a front end drops what it shows past the story's end."""

    lines: list[str]
    changed: range | None = None


@dataclass
class OpenSettings:
    """``/settings`` alone: open the settings screen (a front end without one shows
    ``fallback``, the current values)."""

    fallback: Info


@dataclass
class OpenLoad:
    """``/load`` alone: let the player pick a save (a front end without a save browser shows
    ``fallback``, how to name one)."""

    fallback: Info


@dataclass
class AskEdit:
    """``/edit`` alone: let the player rewrite turn ``index`` (0-based), starting from its
    ``text``, and pass the result to ``Game.edit`` (a front end without dialogs shows
    ``fallback``, how to give the text on the line)."""

    index: int
    text: str
    fallback: Info


@dataclass
class AskReplace:
    """``/save NAME`` where NAME holds another game's save: ask whether to replace it
    (``/save --replace NAME``) or to save beside it as ``free``; a front end without dialogs
    shows ``fallback``, the refusal and how to force it."""

    name: str
    free: str
    other: str  # that save, described: its title, turns and time
    fallback: Info


@dataclass
class ShowContext:
    """``/context [ACTION]``: the next reply's prompt, part by part (``story/inspect.py``);
    a front end without a view for it prints ``fallback``, the same as lines."""

    seen: Seen
    fallback: Info


Outcome = (Stream | Info | Quit | Reloaded | OpenSettings | OpenLoad | AskEdit | AskReplace
           | ShowContext)
