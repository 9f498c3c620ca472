"""Route llama.cpp's C log lines to our log file instead of the terminal.

llama-cpp-python installs a callback at import that prints to stderr; in a TUI that
corrupts the screen. ``route_llama_logs`` replaces it. Call it before loading a model.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Any

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
