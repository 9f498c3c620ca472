"""One long-lived thread for every llama.cpp evaluation of a model.

llama.cpp's CPU backend, as built by llama-cpp-python on Linux, runs a graph with OpenMP:
each thread that calls llama_decode gets its own team of worker threads, which lives as long
as that thread. Once two teams exist and their threads outnumber the cores, libgomp spins
only briefly at each barrier before sleeping, and there is a barrier after every operation
of every layer. Measured here (2 cores, 2 threads, GPT-2 124M): a second team left alive by
another thread takes generation from ~81 to ~66 tokens/s. The game evaluates from its load,
warm-up and generation workers, so all evaluations are funnelled through this one thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class _Job(Generic[T]):
    __slots__ = ("args", "done", "error", "fn", "result")

    def __init__(self, fn: Callable[..., T], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.result: T | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()  # set by the model thread when the job has run


class ModelThread:
    """Run calls on a single daemon thread and wait for their results."""

    def __init__(self, name: str = "gpt2-model") -> None:
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the model thread; its exception is raised here."""
        if threading.current_thread() is self._thread:
            return fn(*args)
        if self._stopped or not self._thread.is_alive():
            raise RuntimeError("the model thread has stopped")
        job = _Job(fn, args)
        self._jobs.put(job)
        interrupted: BaseException | None = None
        # A Ctrl+C here must not leave the job running behind the caller's back. Its handler
        # may also run only once the job is done (the signal reached another thread, or came
        # just before the wait began): the loop then ends, rather than waiting again.
        while not job.done.is_set():
            try:
                job.done.wait()
            except BaseException as error:  # noqa: BLE001 - raised once the job is done
                interrupted = error
        if interrupted is not None:
            raise interrupted
        if job.error is not None:
            raise job.error
        return cast(T, job.result)  # (set: the job ran without raising)

    def stop(self) -> None:
        """Let the thread end after the jobs already queued; later calls are refused."""
        self._stopped = True
        if self._thread.is_alive():
            self._jobs.put(None)
            if threading.current_thread() is not self._thread:
                self._thread.join()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job.result = job.fn(*job.args)
            except BaseException as error:  # noqa: BLE001 - handed to the caller to raise
                job.error = error
            finally:
                job.done.set()
