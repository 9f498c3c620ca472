"""The pump: a source read on a thread of its own, its items handed over through a queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.engine.pump import END, Pump


def test_items_arrive_in_order_then_the_end() -> None:
    pump = Pump(iter([1, 2, 3]), "test-pump").start()
    assert list(pump.items()) == [1, 2, 3] and pump.complete
    pump.join(5)


def test_the_sources_error_is_raised_on_the_consumers_thread() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise ValueError(threading.current_thread().name)

    pump = Pump(source(), "test-pump").start()
    with pytest.raises(ValueError, match="^test-pump$"):
        list(pump.items())
    assert not pump.complete


def test_a_cancel_is_seen_while_the_source_is_silent_and_stop_closes_it() -> None:
    closed = threading.Event()
    release = threading.Event()

    def silent() -> Iterator[int]:
        try:
            yield 1
            release.wait(10)  # a server thinking about a long prompt
            yield 2
        finally:
            closed.set()

    cancel = CancelToken()
    pump = Pump(silent(), "test-pump").start()
    got = []
    start = time.monotonic()
    for item in pump.items(cancel, poll=0.01):
        got.append(item)
        cancel.cancel()
    assert got == [1] and time.monotonic() - start < 5 and not pump.complete
    pump.stop()
    assert not closed.is_set()  # the reader is still waiting for its next item
    release.set()
    assert closed.wait(5)  # then it stops and closes the source on its own thread
    pump.join(5)


def test_a_pump_never_started_can_run_on_the_callers_thread() -> None:
    pump = Pump(iter("ab"), "test-pump")
    assert not pump.started
    pump.run_here()
    assert [pump.next(0), pump.next(0), pump.next(0)] == ["a", "b", END]
