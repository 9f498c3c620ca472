"""The lifetime of a llama.cpp object that several threads call: freed once, never under a
running call.

llama.cpp frees a model or a vocabulary at once, whoever is still inside it: closing a backend
on the main thread while the warm-up worker was tokenizing crashed the process (SIGSEGV at
exit after a remote game, issue 23). Calls hold a ``Lifetime`` while they run; ``end`` waits
for the running ones, then frees; a call that comes after raises ``ClosedError``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class ClosedError(RuntimeError):
    """A call on a backend or tokenizer that has been closed."""


class Lifetime:
    """Counts the calls inside an object; ``end`` frees it once none is left."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._calls = 0
        self._ended = False
        self._changed = threading.Condition()

    @property
    def ended(self) -> bool:
        return self._ended

    @contextmanager
    def call(self) -> Iterator[None]:
        """Hold the object alive for the length of the ``with`` block."""
        with self._changed:
            if self._ended:
                raise ClosedError(f"the {self.what} has been closed")
            self._calls += 1
        try:
            yield
        finally:
            with self._changed:
                self._calls -= 1
                self._changed.notify_all()

    def end(self, free: Callable[[], None]) -> bool:
        """Refuse new calls, wait for the running ones, then ``free()`` (once: False after)."""
        with self._changed:
            if self._ended:
                return False
            self._ended = True
            self._changed.wait_for(lambda: self._calls == 0)
        free()
        return True
