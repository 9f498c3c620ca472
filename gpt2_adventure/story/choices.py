"""The last reply's choices: the alternatives shown, the replies written ahead, what they answer.

After a reply, the player may want another: retry, ``/alt``, ``/pick``. Two lists hold them,
both on the reply's ``Turn`` (saves keep both): ``alternatives`` (shown; ``chosen`` is the one
in the story, and ``Turn.text`` is it) and ``ahead`` (written while the player read, not shown
yet). ``Choices`` is their one owner while the game runs: which reply the ones written ahead
belong to, the prompt they answer, the backend's ``Handle`` on each one's KV cache (so the next
turn continues the one shown), their staleness, and their order: best first, by a cheap
score (``story/quality/score.py``: no loop, no repeat of an earlier turn, the action taken up,
a whole sentence, a sensible length), so that retry and ``/alt`` show the best one first and
``/alt`` tells how the one shown ranks. Its operations:

- ``start`` (a new reply: the ones written ahead will answer its prompt), ``drop`` (the story
  changed under them), ``forget`` (another story loaded);
- ``job`` lays out what to write ahead, ``post`` (the only call from a worker) hands in one
  written, ``collect`` takes them in, best first;
- ``show`` (a ready one joins the shown alternatives: retry, ``/pick``), ``flip`` (``/alt``),
  ``pick``, ``ready``, ``summary`` (``/alt``'s line).

Threads: everything but ``post`` runs on the session's owner (``Session`` calls it from
methods that hold it, ``story/owner.py``). ``post`` comes from the warm-up's worker, so what it
hands in waits in ``_Inbox``, the one part under a lock, until the owner collects it; a count
that only goes up (``generation``) tells a late reply to a story that has since changed from a
fresh one. (This module was ``story/ahead.py``, the inbox and a list of ints kept aligned by
hand with ``Turn.ahead``; now each ready reply carries its own handle.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gpt2_adventure.engine.backend import Handle
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.events import SessionError
from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.story.quality.score import Score, best_first, score_reply
from gpt2_adventure.story.turns import reply_turn

RECENT = 3  # replies before the last one that the loop check compares with
EARLIER = 20  # turns before the last action that its replies are scored against


@dataclass
class AheadJob:
    """What to write ahead for one reply; laid out by the session's owner, run on a worker."""

    turn: Turn  # the reply they are alternatives of
    prompt: list[int]
    sampling: Sampling
    stops: list[str]
    count: int
    keep: tuple[Handle, ...]  # the backend's holds on replies already written ahead
    recent: list[str]  # the replies before it, for the loop check
    whole: bool  # cut to whole sentences (not in story mode)
    generation: int


@dataclass
class _Ready:
    """One reply written ahead, not shown yet."""

    text: str  # as the turn will hold it
    handle: Handle | None  # None: no cache holds it (read from a save, or a server wrote it)


@dataclass
class _Posted:
    generation: int
    cleaned: str
    handle: Handle | None


class _Inbox:
    """Replies a worker has written and the owner has not taken in yet: the one part of the
    choices touched from two threads, so it is under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[_Posted] = []
        self._generation = 0

    @property
    def generation(self) -> int:
        with self._lock:
            return self._generation

    def stale(self) -> None:
        """Whatever is on its way answers a story that is gone: throw it away when it comes."""
        with self._lock:
            self._generation += 1
            self._items.clear()

    def post(self, generation: int, cleaned: str, handle: Handle | None) -> None:
        with self._lock:
            if generation == self._generation:
                self._items.append(_Posted(generation, cleaned, handle))

    def take(self) -> list[_Posted]:
        with self._lock:
            items = [i for i in self._items if i.generation == self._generation]
            self._items = []
        return items


def _last_reply(turns: Sequence[Turn]) -> Turn | None:
    return turns[-1] if turns and turns[-1].role == "model" else None


class Choices:
    """The choices for the last reply (see the module's docstring). ``use`` is called when a
    ready reply that a backend cache holds is shown: the session then lets the backend continue
    it and spells the turn with its tokens."""

    def __init__(self, use: Callable[[str, Handle], None]) -> None:
        self._use = use
        self._turn: Turn | None = None  # the reply the ones written ahead belong to
        self._prompt: list[int] | None = None  # the prompt they answer; None: not known
        self._ready: list[_Ready] = []  # ``_turn.ahead``, each with its handle
        self._inbox = _Inbox()

    @property
    def turn(self) -> Turn | None:
        """The reply whose alternatives are written ahead now (None: none is)."""
        return self._turn

    @property
    def generation(self) -> int:
        return self._inbox.generation

    # -- lifetime ---------------------------------------------------------------------------

    def start(self, turn: Turn, prompt: Sequence[int]) -> None:
        """A new reply: the ones written ahead will answer ``prompt`` as it did. Any the turn
        has already (a reply read from a save) are kept; no cache holds them. (The reply before
        keeps the ones it had, without their caches.)"""
        self._inbox.stale()
        self._turn, self._prompt = turn, list(prompt)
        self._ready = [_Ready(text, None) for text in turn.ahead]

    def drop(self, turns: Sequence[Turn]) -> None:
        """The story changed under them: the last reply's ready ones go, and any still on
        their way are thrown away when they come."""
        last = _last_reply(turns)
        if last is not None:
            last.ahead.clear()
        self.forget()

    def forget(self) -> None:
        """Let go of them (another story is played), leaving the turns as they are. The count
        of staleness goes on: a late reply to the old story stays stale."""
        self._inbox.stale()
        self._turn, self._prompt, self._ready = None, None, []

    # -- writing ahead ----------------------------------------------------------------------

    def job(self, state: StoryState, sampling: Sampling, stops: list[str]) -> AheadJob | None:
        """What to write ahead for the last reply: enough replies to its prompt that
        ``sampling.candidates`` are there in all, counting the one shown; None when there is
        nothing to write (its prompt is not known, or enough are ready)."""
        turns = state.turns
        last = self._turn
        if not turns or turns[-1] is not last or last is None or self._prompt is None:
            return None
        wanted = sampling.candidates - 1 - len(self._ready)
        if wanted <= 0:
            return None
        return AheadJob(
            turn=last, prompt=list(self._prompt), sampling=sampling, stops=stops, count=wanted,
            keep=tuple(r.handle for r in self._ready if r.handle is not None),
            recent=[t.text for t in turns[:-1] if t.role == "model"][-RECENT:],
            whole=state.mode != "story", generation=self._inbox.generation)

    def post(self, generation: int, cleaned: str, handle: Handle | None) -> None:
        """From the worker: one more reply written for the job of ``generation``."""
        self._inbox.post(generation, cleaned, handle)

    def collect(self, state: StoryState) -> int:
        """Take in what the worker has written for the last reply (dropped if the story moved
        on), ordered best first; returns how many joined."""
        items = self._inbox.take()
        last = self._turn
        if not items or last is None or _last_reply(state.turns) is not last:
            return 0
        added = 0
        for item in items:
            text, _ = reply_turn(state, item.cleaned)
            if text.strip():
                self._ready.append(_Ready(text, item.handle))
                added += 1
        if added:
            scores = self.scores(state.turns, [r.text for r in self._ready])
            self._ready = [self._ready[i] for i in best_first([s.value for s in scores])]
            last.ahead[:] = [r.text for r in self._ready]
        return added

    # -- showing them -----------------------------------------------------------------------

    def ready(self, turns: Sequence[Turn]) -> int:
        """How many replies written ahead the last reply has that were not shown yet."""
        last = _last_reply(turns)
        return len(last.ahead) if last is not None else 0

    def first_ready(self, turns: Sequence[Turn]) -> str:
        last = _last_reply(turns)
        if last is None or not last.ahead:
            raise SessionError("no reply written ahead is ready")
        return last.ahead[0]

    def show(self, turns: Sequence[Turn], index: int = 0) -> str:
        """The last reply's ``index``-th ready reply joins its shown alternatives and is
        chosen; the next turn continues its KV cache where the backend kept it."""
        last = _last_reply(turns)
        if last is None or not 0 <= index < len(last.ahead):
            raise SessionError("no reply written ahead is ready")
        if last is self._turn and len(self._ready) == len(last.ahead):
            ready = self._ready.pop(index)
            last.ahead.pop(index)
        else:  # read from a save (or the reply after an undo): no cache holds it
            ready = _Ready(last.ahead.pop(index), None)
        if ready.handle is not None:
            self._use(ready.text, ready.handle)
        last.alternatives.append(ready.text)
        last.choose(len(last.alternatives) - 1)
        return ready.text

    def flip(self, turns: Sequence[Turn], step: int = 1) -> str:
        """Flip the last reply between its shown alternatives (with none to flip to yet, show
        the best ready one); returns the one now shown."""
        last = _last_reply(turns)
        if last is not None and len(last.alternatives) < 2 and last.ahead:
            return self.show(turns, 0)
        if last is None or len(last.alternatives) < 2:
            raise SessionError("the last reply has no alternatives (use retry to make one)")
        last.choose(last.chosen + step)
        return last.text

    def pick(self, turns: Sequence[Turn], number: int) -> str:
        """Show reply ``number`` of the last turn: 1.. the ones shown, then the ones written
        ahead (which then join the shown ones)."""
        last = _last_reply(turns)
        if last is None:
            raise SessionError("there is no reply to pick from")
        shown, total = len(last.alternatives), len(last.alternatives) + len(last.ahead)
        if not 1 <= number <= total:
            raise SessionError(f"there is no reply {number}: the last turn has {total}")
        if number <= shown:
            last.choose(number - 1)
            return last.text
        return self.show(turns, number - shown - 1)

    # -- telling about them -----------------------------------------------------------------

    @staticmethod
    def scores(turns: Sequence[Turn], texts: Sequence[str]) -> list[Score]:
        """Each of ``texts`` scored as the answer to the last action (the player's turn before
        the last reply), after the turns before it."""
        end = len(turns) - 1 if _last_reply(turns) is not None else len(turns)
        before = turns[:end]
        action = ""
        if before and before[-1].role == "player":
            action = before[-1].raw or before[-1].text
        earlier = [t.text for t in before[-EARLIER:] if t.role != "player"]
        return [score_reply(text, earlier=earlier, action=action) for text in texts]

    def summary(self, turns: Sequence[Turn]) -> str:
        """``/alt``'s line: "alternative 2 of 3 · score 0.82 (best of 4) · 1 more ready
        (/pick 4)": which one is shown, how it scores and ranks among all the reply's
        choices (shown and ready), how many wait."""
        last = _last_reply(turns)
        if last is None:
            raise SessionError("there is no reply to pick from")
        shown, ready = len(last.alternatives), len(last.ahead)
        line = f"alternative {last.chosen + 1} of {shown}"
        if shown:
            # Ranked as shown (two places): equal-looking scores share a place.
            values = [round(s.value, 2)
                      for s in self.scores(turns, [*last.alternatives, *last.ahead])]
            mine = values[last.chosen]
            rank = 1 + sum(1 for v in values if v > mine)
            place = "best" if rank == 1 else _ordinal(rank)
            line += f" · score {mine:.2f} ({place} of {len(values)})"
        if ready:
            line += f" · {ready} more ready (/pick {shown + 1})"
        return line


def _ordinal(n: int) -> str:
    """2 -> "2nd", 3 -> "3rd", 11 -> "11th"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
