"""Who may change a story now: one thread at a time, checked on every change.

A ``Session`` is changed from two threads: a reply's stream runs on a worker (the TUI's
"generation" worker, plain mode's reply thread), everything else on the UI thread. Rather than
trust each front end to keep them apart, the session has an ``Owner``: a reply's stream holds
it from its first step to its last event, every other change holds it for its own length, and
a change tried while another thread holds it fails at once with ``NotOwner`` (it does not wait:
a reply can take minutes).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gpt2_adventure.story.events import SessionError


class NotOwner(SessionError):
    """A change to the story from a thread that does not own it (a reply is being written
    on another)."""


class Owner:
    """A lock that knows its holder: re-entrant for the thread that holds it (a change may
    call another), refused at once to any other thread. ``what`` says who holds it, for the
    error message and for ``holder``."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._thread: int | None = None
        self._depth = 0
        self._what = ""

    @property
    def holder(self) -> str | None:
        """What holds it now (``hold``'s ``what``), or None."""
        with self._changed:
            return self._what if self._thread is not None else None

    @property
    def mine(self) -> bool:
        """Held by the calling thread."""
        with self._changed:
            return self._thread == threading.get_ident()

    def acquire(self, what: str, *, again: bool = True) -> None:
        """Hold it for ``what``; ``again=False``: refused even to the thread holding it."""
        me = threading.get_ident()
        with self._changed:
            if self._thread is not None and (self._thread != me or not again):
                holder = "this thread" if self._thread == me else "another thread"
                raise NotOwner(f"{what}: the story is held by {self._what} on {holder}")
            if self._thread is None:
                self._thread, self._what = me, what
            self._depth += 1

    def release(self, *, anywhere: bool = False) -> None:
        """Let go once; ``anywhere``: also from another thread than the one that holds it
        (a reply's generator is closed by whoever drops it, the garbage collector too)."""
        with self._changed:
            if self._thread != threading.get_ident() and not anywhere:
                raise RuntimeError("the story's owner released by a thread that does not hold it")
            self._depth -= 1
            if self._depth == 0:
                self._thread, self._what = None, ""
                self._changed.notify_all()

    @contextmanager
    def hold(self, what: str) -> Iterator[None]:
        self.acquire(what)
        try:
            yield
        finally:
            self.release()

    def try_hold(self, what: str) -> bool:
        """Hold it if no other thread does (then ``release`` it); False otherwise."""
        try:
            self.acquire(what)
        except NotOwner:
            return False
        return True

    def wait_free(self, timeout: float | None = None) -> bool:
        """Wait until no other thread holds it; False if ``timeout`` ran out first."""
        me = threading.get_ident()
        with self._changed:
            return self._changed.wait_for(lambda: self._thread in (None, me), timeout)
