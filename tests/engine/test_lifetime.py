"""A backend closed while another thread is inside it: no crash, the late call refused."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gpt2_adventure.engine.lifetime import ClosedError, Lifetime

ROOT = Path(__file__).resolve().parents[2]


def test_end_waits_for_the_running_call_then_frees_once() -> None:
    life = Lifetime("model")
    freed: list[float] = []
    inside, leave = threading.Event(), threading.Event()

    def call() -> None:
        with life.call():
            inside.set()
            leave.wait(5)

    worker = threading.Thread(target=call)
    worker.start()
    inside.wait(5)
    closer = threading.Thread(target=lambda: life.end(lambda: freed.append(time.monotonic())))
    closer.start()
    time.sleep(0.1)
    assert freed == []  # not under the running call
    with pytest.raises(ClosedError, match="the model has been closed"), life.call():
        pass  # no new call once closing has begun
    left = time.monotonic()
    leave.set()
    closer.join(5)
    worker.join(5)
    assert len(freed) == 1 and freed[0] >= left
    assert life.end(lambda: freed.append(0.0)) is False and len(freed) == 1


@pytest.mark.parametrize("kind, rounds", [("tokenizer", 60), ("local", 12), ("remote", 12)])
def test_closing_while_another_thread_is_inside_never_crashes(kind: str, rounds: int,
                                                              tiny_gguf: Path) -> None:
    # Before the lifetime guard, "tokenizer" died with SIGSEGV within 20 rounds here, as a
    # remote game did at exit when the warm-up was still tokenizing (issue 23).
    run = subprocess.run([sys.executable, "-m", "tests.support.close_race", kind,
                          str(tiny_gguf), str(rounds)], capture_output=True, text=True,
                         timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr[-2000:]
    line = run.stdout.strip().splitlines()[-1]
    assert line.startswith(f"rounds {rounds} errors")
    met = set(line.split()[-1].split(",")) - {"-"}
    assert met <= {"ClosedError", "RemoteError"}, line
