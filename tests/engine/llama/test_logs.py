"""Routing llama.cpp's log lines to our log file: a log that cannot be written is a clear
error, not a traceback; llama-cpp-python's prints while loading go to a sink, from that
thread only, and two loaders never leave each other's closed sink as sys.stderr."""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import time
from pathlib import Path

import pytest

from gpt2_adventure.engine.llama.logs import prints_to, route_llama_logs
from gpt2_adventure.errors import UserError


def test_a_log_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "some-file"
    blocker.write_text("not a folder")
    log_file = blocker / "logs" / "gpt2-adventure.log"
    with pytest.raises(UserError) as caught:
        route_llama_logs(log_file)
    assert caught.value.where == str(log_file)
    assert caught.value.message.startswith("cannot write the log file: ")


def test_logs_go_to_the_file(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "gpt2-adventure.log"
    try:
        route_llama_logs(log_file)
        assert log_file.exists()
    finally:
        route_llama_logs(None)


def test_prints_while_loading_go_to_the_sink_and_other_threads_keep_their_stream() -> None:
    sink, theirs = io.StringIO(), io.StringIO()
    inside, printed = threading.Event(), threading.Event()

    def other() -> None:
        inside.wait(5)
        print("the TUI's own line", file=sys.stderr)
        printed.set()

    with contextlib.redirect_stderr(theirs), contextlib.redirect_stdout(theirs):
        thread = threading.Thread(target=other)
        thread.start()
        with prints_to(sink):
            print("Model metadata: {...}", file=sys.stderr)
            print("Using fallback chat format", flush=True)
            inside.set()
            assert printed.wait(5)
        thread.join()
        assert sys.stderr is theirs and sys.stdout is theirs
    assert sink.getvalue() == "Model metadata: {...}\nUsing fallback chat format\n"
    assert theirs.getvalue() == "the TUI's own line\n"


def test_loaders_on_two_threads_leave_no_closed_sink_behind() -> None:
    # Each loader closes its sink after loading. The second starts while the first is
    # inside and ends after it: with a process-wide swap, it would put back the first's
    # sink, closed by then, and every later print (a model load's too) would fail.
    original = sys.stderr
    first_in, second_in = threading.Event(), threading.Event()

    def first() -> None:
        sink = io.StringIO()
        with prints_to(sink):
            first_in.set()
            second_in.wait(0.3)  # one loader at a time: the second is not let in
        sink.close()

    def second() -> None:
        first_in.wait(5)
        sink = io.StringIO()
        with prints_to(sink):
            second_in.set()
            time.sleep(0.05)
            print("CPU : SSE3 = 1", file=sys.stderr)
        sink.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sys.stderr is original
    print("still printable", file=sys.stderr)


def test_a_stream_swapped_during_a_load_is_left_as_swapped() -> None:
    # A TUI that ends while a model loads restores its own stream; the load's end must not
    # put back what it saw at its start.
    sink, later = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()):
        with prints_to(sink):
            sys.stderr = later
        assert sys.stderr is later
