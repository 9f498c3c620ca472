"""One thread runs the calls handed to it, in order, and hands back results and errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gpt2_adventure.engine.llama.model_thread import ModelThread


def test_calls_run_on_one_thread_whoever_makes_them() -> None:
    worker = ModelThread(name="test-model")
    seen: list[str] = []
    callers = [threading.Thread(target=lambda: seen.append(
        worker.call(lambda: threading.current_thread().name))) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    seen.append(worker.call(lambda: threading.current_thread().name))
    assert seen == ["test-model"] * 5
    worker.stop()


def test_results_arguments_and_errors_come_back_to_the_caller() -> None:
    worker = ModelThread()
    assert worker.call(pow, 2, 10) == 1024
    with pytest.raises(ZeroDivisionError):
        worker.call(lambda: 1 / 0)
    assert worker.call(len, "still serving") == 13
    worker.stop()


def test_a_stopped_thread_refuses_new_work() -> None:
    worker = ModelThread()
    worker.stop()
    worker.stop()  # twice is fine
    with pytest.raises(RuntimeError, match="stopped"):
        worker.call(len, "x")


def test_a_call_from_the_thread_itself_does_not_wait_on_itself() -> None:
    worker = ModelThread()
    assert worker.call(lambda: worker.call(lambda: 7)) == 7
    worker.stop()


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="no pthread_kill here")
def test_ctrl_c_while_waiting_returns_only_once_the_job_is_done() -> None:
    # Otherwise the model would go on evaluating while the caller already uses it again.
    # Ctrl+C comes once the job runs, and the job goes on until the caller has it: no timer
    # racing the job, however fast or slow the machine is.
    worker = ModelThread()
    main = threading.main_thread().ident
    started, interrupted = threading.Event(), threading.Event()
    finished: list[bool] = []

    def ctrl_c(signum: int, frame: object) -> None:
        interrupted.set()
        raise KeyboardInterrupt

    def slow() -> None:
        started.set()
        assert interrupted.wait(30)
        time.sleep(0.2)  # a caller that did not wait would be back by now
        finished.append(True)

    def press() -> None:
        # To the main thread, as a terminal's Ctrl+C (os.kill may pick this one). Again until
        # its handler has run: one that lands just before the wait begins wakes nothing.
        started.wait(30)
        while main is not None and not interrupted.is_set():
            signal.pthread_kill(main, signal.SIGINT)
            interrupted.wait(0.05)

    previous = signal.signal(signal.SIGINT, ctrl_c)
    presser = threading.Thread(target=press)
    try:
        presser.start()
        with pytest.raises(KeyboardInterrupt):
            worker.call(slow)
        assert finished == [True]
    finally:
        presser.join()
        signal.signal(signal.SIGINT, previous)
        worker.stop()


_LATE_CTRL_C = """
import signal, threading
from gpt2_adventure.engine.llama.model_thread import ModelThread

signal.signal(signal.SIGINT, signal.default_int_handler)
worker = ModelThread()

def job():  # this thread takes the Ctrl+C: the caller's handler runs once the job is done
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)
    return 7

try:
    worker.call(job)
except KeyboardInterrupt:
    print("interrupted")
worker.stop()
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="no pthread_kill here")
def test_a_ctrl_c_noticed_after_the_job_ended_does_not_hang_the_caller() -> None:
    # In a child process: the bug this guards against is a wait that never ends.
    root = Path(__file__).resolve().parents[3]
    child = subprocess.run([sys.executable, "-c", _LATE_CTRL_C], capture_output=True, text=True,
                           timeout=60, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert (child.returncode, child.stdout) == (0, "interrupted\n"), child.stderr
