"""A reader on a thread of its own: it iterates a source and hands each item over through a
queue, so the thread that consumes them stays free to notice a cancel (or Ctrl+C) while the
source blocks — a server that is silent (thinking about a long prompt, or hung), a model
writing. The remote backends read a request's events through one; plain mode its reply."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

from gpt2_adventure.engine.backend import CancelToken

T = TypeVar("T")


class Ended:
    """What ``Pump.next`` gives once the source has run out."""


END = Ended()


class Pump(Generic[T]):
    """Reads ``source`` on a thread named ``name`` once started. An exception the source
    raises is raised again on the consumer's thread, by ``next``. ``stop`` asks the reader
    to stop after the item it is waiting for; it then closes the source (a generator's
    ``finally`` runs, on the reader's thread, at the next item or the source's timeout)."""

    def __init__(self, source: Iterable[T], name: str) -> None:
        self._source = iter(source)
        # queue.Queue, not SimpleQueue: a Ctrl+C (KeyboardInterrupt) that arrives while the
        # consumer waits in SimpleQueue's C get escaped plain mode's handler (tests/test_plain.py)
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self.complete = False  # the source ran to its end and every item was taken
        self._thread = threading.Thread(target=self.run_here, name=name, daemon=True)

    def start(self) -> Pump[T]:
        self._thread.start()
        return self

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def run_here(self) -> None:
        """The reader's work (on its thread; or on the caller's, when it never started)."""
        try:
            for item in self._source:
                self._queue.put(("item", item))
                if self._stop.is_set():
                    return
            self._queue.put(("end", None))
        except BaseException as error:  # handed to the consumer's thread
            self._queue.put(("error", error))
        finally:
            close = getattr(self._source, "close", None)  # a generator's: runs its finally
            if close is not None:
                close()

    def next(self, timeout: float) -> T | Ended:
        """The next item, or ``END``; raises ``queue.Empty`` when none came within
        ``timeout`` seconds, and the source's own exception when it raised one."""
        kind, item = self._queue.get(timeout=timeout)
        if kind == "error":
            raise item
        if kind == "end":
            self.complete = True
            return END
        return item  # type: ignore[no-any-return]  # put as ("item", T) by run_here

    def items(self, cancel: CancelToken | None = None, poll: float = 0.05) -> Iterator[T]:
        """Every item until the end, or until ``cancel`` is set (seen within ``poll``
        seconds, even while the source is silent)."""
        while True:
            try:
                item = self.next(poll)
            except queue.Empty:
                if cancel is not None and cancel.cancelled:
                    return
                continue
            if cancel is not None and cancel.cancelled:
                return
            if isinstance(item, Ended):
                return
            yield item

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self.started:
            self._thread.join(timeout)
