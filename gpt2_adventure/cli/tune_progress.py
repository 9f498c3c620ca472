"""Plain mode's view of tuning on first use: one line on stderr, redrawn in place on a
terminal (a bar, what is measured, "Enter skips"), or one line per measure when piped; then
what came of it. Enter skips only when stdin is a terminal: piped, stdin carries the game's
actions and is never read here."""

from __future__ import annotations

import os
import select
import sys
import threading
from typing import TextIO

from gpt2_adventure.engine.first_use import FirstUse, TuneWatch
from gpt2_adventure.engine.tune import Step
from gpt2_adventure.safe_text import is_terminal

BAR = 20
TITLE = "tuning the speed settings for this machine"


class PlainTuneProgress:
    def __init__(self, out: TextIO | None = None, stdin: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.stdin = stdin if stdin is not None else sys.stdin
        self.live = is_terminal(self.out)
        self.can_skip = is_terminal(self.stdin) and hasattr(select, "select") and os.name != "nt"
        self.watch = TuneWatch(begin=self._begin, step=self._step)
        self._last_what = ""
        self._done = threading.Event()
        self._listener: threading.Thread | None = None

    def _begin(self, budget: float | None) -> None:
        skip = " — Enter skips" if self.can_skip else ""
        within = f" (once per model, ~{budget:.0f} s at most)" if budget else ""
        if self.live:
            self._draw(f"{TITLE}{skip}{within}")
        else:
            self._line(f"{TITLE}{skip}{within}")
        if self.can_skip:
            self._listener = threading.Thread(target=self._listen, name="tune-skip",
                                              daemon=True)
            self._listener.start()

    def _step(self, step: Step) -> None:
        if self.live:
            filled = round(step.fraction * BAR)
            self._draw(f"tuning [{'#' * filled}{'-' * (BAR - filled)}] "
                       f"{step.fraction:4.0%} {step.what}"
                       + (" — Enter skips" if self.can_skip else ""))
        elif step.what != self._last_what:
            self._line(f"tuning: measuring {step.what}")
        self._last_what = step.what

    def finished(self, result: FirstUse) -> None:
        self._done.set()
        if self.live:
            self.out.write("\r\x1b[2K")
        self._line(f"note: {result.summary()}")

    def _listen(self) -> None:
        """Wait for Enter while the tuning runs; reads only a line already typed."""
        while not self._done.is_set():
            try:
                ready, _, _ = select.select([self.stdin], [], [], 0.1)
            except (OSError, ValueError):
                return
            if ready and not self._done.is_set():
                self.stdin.readline()  # the line skipped it; EOF (Ctrl+D) skips too
                self.watch.stop.cancel()
                return

    def _draw(self, text: str) -> None:
        width = _columns(self.out)
        self.out.write("\r\x1b[2K" + text[: max(width - 1, 10)])
        self.out.flush()

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()




def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 80
