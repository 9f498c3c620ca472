"""End to end in a real terminal: tmux runs the real command with a tiny generated GPT-2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.saves.store import SaveStore
from tests.support.tmux import TMUX

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    def __init__(self, name: str) -> None:
        self.name = name

    def keys(self, *keys: str) -> None:
        subprocess.run([*TMUX, "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run([*TMUX, "send-keys", "-t", self.name, "-l", text], check=True)

    def screen(self) -> str:
        return subprocess.run([*TMUX, "capture-pane", "-p", "-t", self.name],
                              capture_output=True, text=True, check=True).stdout

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")

    def alive(self) -> bool:
        return subprocess.run([*TMUX, "has-session", "-t", self.name],
                              capture_output=True).returncode == 0


@pytest.fixture
def terminal(tiny_gguf: Path) -> Iterator[Terminal]:
    name = f"gpt2adv-{uuid.uuid4().hex[:8]}"
    env = {k: os.environ[k] for k in os.environ if k.startswith("GPT2_ADVENTURE_")}
    env |= {"GPT2_ADVENTURE_MODEL": str(tiny_gguf), "GPT2_ADVENTURE_THREADS": "1",
            "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    subprocess.run([*TMUX, "new-session", "-d", "-s", name, "-x", "110", "-y", "32", *flags,
                    "-c", str(ROOT), f"{sys.executable} -m gpt2_adventure"], check=True)
    term = Terminal(name)
    try:
        yield term
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", name], capture_output=True)


def test_title_to_a_played_turn_and_back_out(terminal: Terminal) -> None:
    terminal.wait_for("New adventure")
    terminal.keys("Enter")  # New adventure
    terminal.wait_for("Choose your adventure")
    terminal.keys("Down")  # past the custom opening and the first genre heading
    screen = terminal.screen()
    assert "What the Dredge Brought Up" in screen
    terminal.keys("Enter")
    terminal.wait_for("Before you begin")
    terminal.keys("C-u")
    terminal.type("Tamsin")
    terminal.wait_for("Tamsin")  # typed into the field before Enter submits it
    terminal.keys("Enter")
    terminal.wait_for("Tamsin")
    terminal.wait_for("context")  # the model is loaded: the meter shows the prompt
    terminal.type("I open the hatch")
    terminal.keys("Enter")
    screen = terminal.wait_for("> You open the hatch.")
    terminal.wait_for("tok/s · context", timeout=60)
    terminal.keys("C-q")
    deadline = time.monotonic() + 20
    while terminal.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    saves = SaveStore(AppPaths.from_env()).list()
    assert any("You open the hatch." in str(SaveStore(AppPaths.from_env()).load(s.name).turns)
               for s in saves if s.autosave)
