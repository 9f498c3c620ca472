"""Quitting plain mode while GPT-2 writes (issue 23), through the real command: Ctrl+C (SIGINT)
at several moments of a reply, then end of input. The autosave holds the action with its
reply, or neither; the process ends cleanly (the warm-up, writing replies ahead, is out of the
model before it is closed)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.saves.store import SaveStore
from tests.support.reliability_proc import Output, popen, write_config

CONFIG = """\
[model]
threads = 1
n_ctx = 320
seed = 7

[sampling]
max_tokens = 120
candidates = 3
"""


def autosaved() -> list[tuple[str, str]]:
    store = SaveStore(AppPaths.from_env())
    latest = store.latest_autosave()
    assert latest is not None
    return [(t.role, t.raw) for t in store.load(latest[0]).turns]


@pytest.mark.parametrize("moment", [0.0, 0.02, 0.08, 0.3])
def test_ctrl_c_then_end_of_input_in_mid_reply_saves_both_or_neither(
        tiny_gguf: Path, moment: float) -> None:
    write_config(CONFIG)
    proc = popen("play", "--plain", "--story", "knight", "--name", "Anna",
                 "--model", str(tiny_gguf))
    out, err = Output(proc.stdout), Output(proc.stderr)
    try:
        deadline = time.monotonic() + 60
        while "knight" not in out.text().lower() and time.monotonic() < deadline:
            time.sleep(0.01)  # the game is open: its title is shown
        before = autosaved()
        assert proc.stdin is not None
        proc.stdin.write("open the door\n")
        proc.stdin.flush()
        time.sleep(moment)
        proc.send_signal(signal.SIGINT)
        proc.stdin.close()
        # 130: the Ctrl+C came before the reply began (the game quits, as at a prompt)
        assert proc.wait(timeout=60) in (0, 130), err.text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out.join()
    err.join()
    assert "Traceback" not in err.text(), err.text()[-3000:]
    after = autosaved()
    assert after == before or (after[:-2] == before and after[-2] == ("player", "open the door")
                               and after[-1][0] == "model"), (before, after)
