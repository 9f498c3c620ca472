"""Plain mode's line for tuning on first use: drawn in place on a terminal, one line per
measure when piped; Enter skips (stdin a terminal only)."""

from __future__ import annotations

import io
import os
import time

from gpt2_adventure.cli.tune_progress import PlainTuneProgress
from gpt2_adventure.engine.first_use import FirstUse
from gpt2_adventure.engine.tune import Step


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def steps() -> list[Step]:
    return [Step("threads", 1, 4, 1.0, 12.0), Step("threads", 2, 4, 2.0, 12.0),
            Step("flash attention", 3, 4, 3.0, 12.0)]


def test_on_a_terminal_one_line_is_redrawn_then_replaced_by_the_outcome() -> None:
    out = Terminal()
    view = PlainTuneProgress(out, stdin=io.StringIO())
    view.watch.begin(12.0)
    for step in steps():
        view.watch.step(step)
    view.finished(FirstUse(None, 1.0, skipped=True))
    text = out.getvalue()
    assert text.count("\n") == 1  # the bar never scrolled: only the outcome ends a line
    assert "tuning [###############-----]  75% flash attention" in text
    assert text.endswith("note: speed tuning skipped: default settings for this game (it "
                         "measures again next time; [model] auto_tune = false turns it off)\n")
    assert "Enter skips" not in text  # stdin is not a terminal here


def test_piped_one_line_per_measure() -> None:
    out = io.StringIO()
    view = PlainTuneProgress(out, stdin=io.StringIO())
    view.watch.begin(12.0)
    for step in steps():
        view.watch.step(step)
    assert out.getvalue().splitlines()[1:] == ["tuning: measuring threads",
                                               "tuning: measuring flash attention"]
    assert "\r" not in out.getvalue()


def test_enter_on_a_terminal_skips_and_reads_nothing_after_the_tuning() -> None:
    read, write = os.pipe()

    class Keyboard(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    stdin = Keyboard(io.FileIO(read, "r"))
    view = PlainTuneProgress(Terminal(), stdin=stdin)
    assert view.can_skip
    view.watch.begin(12.0)
    assert "Enter skips" in view.out.getvalue()  # type: ignore[attr-defined]
    os.write(write, b"\n")
    deadline = time.monotonic() + 5
    while not view.watch.stop.cancelled and time.monotonic() < deadline:
        time.sleep(0.01)
    assert view.watch.stop.cancelled

    later = PlainTuneProgress(Terminal(), stdin=stdin)
    later.watch.begin(12.0)
    later.finished(FirstUse(None, 1.0, skipped=True))
    os.write(write, b"look around\n")  # typed after the tuning: the game's, not read here
    time.sleep(0.3)
    assert not later.watch.stop.cancelled
    assert stdin.readline() == "look around\n"
    os.close(write)
    stdin.close()
