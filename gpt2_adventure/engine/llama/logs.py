"""Route llama.cpp's C log lines to our log file instead of the terminal.

llama-cpp-python installs a callback at import that prints to stderr; in a TUI that
corrupts the screen. ``route_llama_logs`` replaces it. Call it before loading a model.
Its Python side prints while a model loads: ``prints_to`` sends them elsewhere.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from gpt2_adventure.errors import UserError

_lock = threading.Lock()
# The ctypes callback and the open log file must outlive the call that installed them,
# or llama.cpp would call into freed memory. Keyed by nothing: one route per process.
_installed: dict[str, Any] = {}


def route_llama_logs(log_file: Path | None) -> None:
    """Send llama.cpp logs to ``log_file`` (appending), or drop them when ``None``."""
    import llama_cpp

    with _lock:
        key = str(log_file) if log_file else ""
        if _installed.get("key") == key and "callback" in _installed:
            return
        old = _installed.get("file")
        sink = None
        if log_file is not None:
            try:
                log_file.parent.mkdir(parents=True, exist_ok=True)
                sink = open(log_file, "a", encoding="utf-8", errors="replace")  # noqa: SIM115
            except OSError as error:  # a folder in the way is a file, no permission...
                raise UserError(f"cannot write the log file: {error.strerror or error}",
                                log_file, hint="the log lives in the data folder "
                                "(GPT2_ADVENTURE_DATA_DIR)") from None

        @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]  # ctypes' CFUNCTYPE
        def _callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            if sink is None or not text or sink.closed:  # closed: replaced, or at exit
                return
            try:
                sink.write(text.decode("utf-8", errors="replace"))
                sink.flush()
            except (OSError, ValueError):  # a full disk must not break generation
                pass

        llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
        _installed.update(key=key, callback=_callback, file=sink)
        if old is not None:
            old.close()


_prints_lock = threading.Lock()


class _ThreadRoute:
    """A stand-in for sys.stdout/sys.stderr: this thread's writes go to ``sink``, every other
    thread's to the stream it replaced (a TUI's or a test's capture is not robbed of them)."""

    def __init__(self, sink: TextIO, other: TextIO) -> None:
        self.sink, self.other, self.thread = sink, other, threading.get_ident()
        self.active = True

    def _target(self) -> TextIO:
        mine = self.active and threading.get_ident() == self.thread
        return self.sink if mine else self.other

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.other, name)


@contextlib.contextmanager
def prints_to(sink: TextIO) -> Iterator[None]:
    """Inside: what this thread prints (llama-cpp-python's ``verbose`` lines while a model
    loads) goes to ``sink``; other threads print as before. One loader at a time in the
    process. contextlib.redirect_stdout alone swaps a process-wide name: two loaders on two
    threads could each restore the other's sink (closed by then), and every later print,
    a model load's included, would fail."""
    with _prints_lock:
        routes = (_ThreadRoute(sink, sys.stdout), _ThreadRoute(sink, sys.stderr))
        sys.stdout, sys.stderr = routes
        try:
            yield
        finally:
            for route in routes:
                route.active = False  # if someone swapped it meanwhile, it now only forwards
            if sys.stdout is routes[0]:
                sys.stdout = routes[0].other
            if sys.stderr is routes[1]:
                sys.stderr = routes[1].other
