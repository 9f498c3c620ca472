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
from gpt2_adventure.story.model import Turn
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
    # Without COLUMNS and LINES, which a library in this test run may have set (the tmux
    # server inherits them): with them the program would take its size from them, 80x24,
    # instead of from its terminal, and never see a resize.
    subprocess.run([*TMUX, "new-session", "-d", "-s", name, "-x", "110", "-y", "32", *flags,
                    "-c", str(ROOT), f"env -u COLUMNS -u LINES {sys.executable} -m gpt2_adventure"],
                   check=True)
    term = Terminal(name)
    try:
        yield term
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", name], capture_output=True)


def start_adventure(terminal: Terminal) -> None:
    """From the title screen to the first story of the list, played as Tamsin."""
    terminal.wait_for("New adventure")
    terminal.keys("Enter")  # New adventure
    terminal.wait_for("Choose your adventure")
    terminal.keys("Down")  # past the custom opening and the first genre heading
    screen = terminal.screen()
    assert "What the Dredge Brought Up" in screen
    terminal.keys("Enter")
    terminal.wait_for("Before you begin")
    for attempt in range(3):  # the field may take the keys only once it has the focus
        terminal.keys("C-u")
        terminal.type("Tamsin")
        try:
            terminal.wait_for("Tamsin", timeout=10)  # typed in before Enter submits it
            break
        except AssertionError:
            if attempt == 2:
                raise
    terminal.keys("Enter")
    terminal.wait_for("Tamsin")
    terminal.wait_for("context")  # the model is loaded: the meter shows the prompt


def quit_and_wait(terminal: Terminal) -> None:
    terminal.keys("C-q")
    deadline = time.monotonic() + 20
    while terminal.alive() and time.monotonic() < deadline:
        time.sleep(0.2)


def test_title_to_a_played_turn_and_back_out(terminal: Terminal) -> None:
    start_adventure(terminal)
    terminal.type("I open the hatch")
    terminal.keys("Enter")
    terminal.wait_for("> You open the hatch.")
    terminal.wait_for("tok/s · context", timeout=60)
    quit_and_wait(terminal)
    saves = SaveStore(AppPaths.from_env()).list()
    assert any("You open the hatch." in str(SaveStore(AppPaths.from_env()).load(s.name).turns)
               for s in saves if s.autosave)


def test_a_reply_written_ahead_while_the_player_reads(terminal: Terminal) -> None:
    start_adventure(terminal)
    terminal.type("I open the hatch")
    terminal.keys("Enter")
    terminal.wait_for("> You open the hatch.")
    terminal.wait_for("1 more ready", timeout=60)  # candidates is 2 by default
    terminal.keys("C-r")
    store = SaveStore(AppPaths.from_env())

    def last_turn() -> Turn | None:
        games = [store.load(s.name) for s in store.list() if s.autosave]
        return next((g.turns[-1] for g in games if "You open the hatch." in str(g.turns)), None)

    deadline = time.monotonic() + 60  # shown, and the next one written ahead and autosaved
    while time.monotonic() < deadline:
        last = last_turn()
        if last is not None and len(last.alternatives) == 2 and last.ahead:
            break
        time.sleep(0.2)
    last = last_turn()
    assert last is not None and len(last.alternatives) == 2 and last.chosen == 1
    assert len(last.ahead) == 1
    shown = " ".join(terminal.wait_for("1 more ready").split())
    assert " ".join(last.alternatives[1].split())[:20] in shown
    quit_and_wait(terminal)


def test_after_a_resize_the_view_stays_at_the_end_and_the_next_reply_shows(
        terminal: Terminal) -> None:
    start_adventure(terminal)
    for action in ("I open the hatch", "I climb down", "I wait", "I listen"):
        terminal.type(action)
        terminal.keys("Enter")
        terminal.wait_for(f"> You {action[2:]}.")
        terminal.wait_for("tok/s · context", timeout=60)
        deadline = time.monotonic() + 60
        while "GPT-2 is writing" in terminal.screen() and time.monotonic() < deadline:
            time.sleep(0.2)
    # Larger (where the story fits), then smaller: the view stays at the end of the story.
    for width, height in ((160, 60), (70, 22)):
        subprocess.run([*TMUX, "resize-window", "-t", terminal.name, "-x", str(width),
                        "-y", str(height)], check=True)
        time.sleep(1)
    screen = terminal.wait_for("> You listen.")
    assert "You are Tamsin" not in screen  # the opening is far above
    terminal.type("I look at the walls")
    terminal.keys("Enter")
    screen = terminal.wait_for("> You look at the walls.", timeout=60)  # the next turn shows
    assert "You are Tamsin" not in screen
    quit_and_wait(terminal)
