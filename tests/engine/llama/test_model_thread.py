"""One thread runs the calls handed to it, in order, and hands back results and errors."""

from __future__ import annotations

import os
import signal
import threading
import time

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


def test_ctrl_c_while_waiting_returns_only_once_the_job_is_done() -> None:
    # Otherwise the model would go on evaluating while the caller already uses it again.
    worker = ModelThread()
    finished: list[bool] = []

    def slow() -> None:
        time.sleep(0.4)
        finished.append(True)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            worker.call(slow)
        assert finished == [True]
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
        worker.stop()
