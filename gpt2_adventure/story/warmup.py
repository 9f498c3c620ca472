"""The warm-up: work for a worker while the player reads, so that the next reply starts sooner.

Its lifetime, with the thread each step runs on:

- ``Warmup.plan`` (the session's owner, between replies): lay out the next prompt to evaluate,
  the replies to write ahead (alternatives to the last reply, ``story/choices.py``) and the
  window after the next trim when one is near. Nothing runs yet: ``Stage.WAITING``.
- ``run`` (a worker; it touches only the backend): ``PROMPT``, ``SPARE`` (its share of the
  window that must be ready by the trim: all of it when the trim is near), ``AHEAD``, the rest
  of ``SPARE``, then ``DONE``, however it ends.
- ``stop`` (any thread; the next line does it): within one token, or at once inside llama.cpp
  for a chunk of a prompt (``LlamaBackend.abort_background``). One
  stopped before its worker began never begins.
- ``take_over`` (the owner): a retry while an alternative is being written and none is ready
  waits for that one (``wait_written``, in the retry's stream), and the warm-up stops after it.

The stage and the take-over are read and written on three threads (the owner's, the worker's,
the retry's stream), so both live under one condition, which also wakes whoever waits.
"""

from __future__ import annotations

import enum
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.story.choices import AheadJob

if TYPE_CHECKING:
    from gpt2_adventure.story.session import Session


class Stage(enum.Enum):
    WAITING = "waiting"  # planned; its worker has not begun
    PROMPT = "prompt"  # evaluating the next prompt
    AHEAD = "ahead"  # writing replies ahead
    SPARE = "spare"  # evaluating the window after the next trim
    DONE = "done"  # finished, stopped or failed: out of the backend


@dataclass
class Warmup:
    """One warm-up, laid out while the session was idle (see the module's docstring)."""

    tokens: list[int]  # the next prompt ([]: none to evaluate)
    ahead: AheadJob | None = None  # the replies to write ahead
    spare: list[int] | None = None  # the window after the next trim
    spare_first: int = 0  # how much of the spare to hold before writing ahead
    cancel: CancelToken = field(default_factory=CancelToken)
    _stage: Stage = Stage.WAITING
    _taken_over: bool = False  # a retry waits for the reply being written: stop after it
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @classmethod
    def plan(cls, session: Session, pause: float | None = None) -> Warmup | None:
        """Lay out what to do while the player types (on the session's owner's thread);
        None: nothing to do, or a reply is being written. ``pause``: how long the player
        usually takes to act (seconds; None: not known yet), so that the backend can size
        the chunks the action would throw away to end before then."""
        tokens = session.warm_prompt()
        job = session.ahead_job()
        spare = session.spare_prompt()
        if tokens is None and job is None and spare is None:
            return None
        first = session.spare_first(spare) if spare is not None and job is not None else 0
        expected = None if pause is None else time.perf_counter() + pause
        return cls(tokens or [], job, spare, spare_first=first,
                   cancel=CancelToken(expected_at=expected))

    @property
    def stage(self) -> Stage:
        with self._changed:
            return self._stage

    @property
    def done(self) -> bool:
        return self.stage is Stage.DONE

    @property
    def taken_over(self) -> bool:
        with self._changed:
            return self._taken_over

    # -- on the worker --------------------------------------------------------------------

    def run(self, session: Session, on_ready: Callable[[], None] | None = None) -> int:
        """Evaluate the next prompt first (the player may act at once), then write the
        replies ahead, calling ``on_ready`` as each is there (``Session.collect_ahead`` takes
        them in), then evaluate the window after the next trim (over several turns, a little
        each time, so that the trim does not stall a quick player); its first
        ``spare_first`` tokens before the replies, so that it is ready by the trim however
        long writing ahead takes. Returns how many prompt tokens were evaluated; a failure
        is raised, with the warm-up over."""
        if not self._enter(Stage.PROMPT):
            self._end()  # stopped before it began
            return 0
        evaluated = 0
        try:
            if self.tokens:
                evaluated = session.prefill(self.tokens, self.cancel)
            if self.spare and self.spare_first:
                self._spare(session, self.spare[:self.spare_first])
            if self.ahead is not None and self._enter(Stage.AHEAD):
                session.write_ahead(self.ahead, self.cancel, lambda: self._ready(on_ready))
            if self.spare and self.spare_first < len(self.spare):
                self._spare(session, self.spare)
        finally:
            self._end()
        return evaluated

    def _spare(self, session: Session, tokens: list[int]) -> None:
        # (Only ever more than the spare holds: a shorter prompt would cut it back.)
        if self._enter(Stage.SPARE):
            session.prefill_spare(tokens, self.cancel)

    def _enter(self, stage: Stage) -> bool:
        with self._changed:
            if self.cancel.cancelled or self._stage is Stage.DONE or self._taken_over:
                return False
            self._stage = stage
            self._changed.notify_all()
            return True

    def _ready(self, on_ready: Callable[[], None] | None) -> None:
        if on_ready is not None:
            on_ready()
        if self.taken_over:  # a retry waits for this one: write no more
            self.cancel.cancel()

    def _end(self) -> None:
        with self._changed:
            self._stage = Stage.DONE
            self._changed.notify_all()

    # -- from the owner and the retry's stream --------------------------------------------

    def stop(self) -> None:
        """Cancel it; one whose worker has not begun is over now."""
        with self._changed:
            self.cancel.cancel()
            if self._stage is Stage.WAITING:
                self._stage = Stage.DONE
                self._changed.notify_all()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        """Stop it and wait until it is out of the backend; False if ``timeout`` ran out."""
        self.stop()
        with self._changed:
            return self._changed.wait_for(lambda: self._stage is Stage.DONE, timeout)

    def take_over(self) -> bool:
        """For a retry: True if an alternative is being written now (the warm-up then stops
        after it, and ``wait_written`` waits for it); False if none is."""
        with self._changed:
            if self._stage is not Stage.AHEAD or self.cancel.cancelled:
                return False
            self._taken_over = True
            return True

    def wait_written(self, cancel: CancelToken) -> None:
        """Wait for the alternative a retry took over (the retry's ``cancel``, Esc, stops
        it: a cancel token cannot be waited on, so it is looked at every 10 ms)."""
        with self._changed:
            while self._stage is not Stage.DONE:
                if cancel.cancelled or self._stage is not Stage.AHEAD:
                    self.cancel.cancel()  # stopped, or on to other work: not worth waiting
                self._changed.wait(0.01)


class Pace:
    """How long the player takes to act after a warm-up begins: the median of the last few
    pauses (a line typed while no warm-up ran is not one)."""

    def __init__(self, keep: int = 5, clock: Callable[[], float] | None = None) -> None:
        self._pauses: deque[float] = deque(maxlen=keep)
        self._clock = clock or time.perf_counter
        self._since: float | None = None

    def started(self) -> None:
        """A warm-up begins: the player reads from now."""
        self._since = self._clock()

    def acted(self) -> None:
        """The player typed a line."""
        if self._since is not None:
            self._pauses.append(self._clock() - self._since)
            self._since = None

    def usual(self) -> float | None:
        return statistics.median(self._pauses) if self._pauses else None
