"""Run the real command with its stdout on a pseudo-terminal, as a player's terminal is."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading

_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def run_on_terminal(*args: str, columns: int = 80, env: dict[str, str] | None = None,
                    timeout: float = 120) -> tuple[int, str, str]:
    """Exit code, what the terminal showed (``\\r\\n`` made ``\\n``, colours left out) and
    stderr."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    environment = {**os.environ, "COLUMNS": str(columns), "LINES": "40", "TERM": "xterm",
                   **(env or {})}
    environment.pop("NO_COLOR", None)
    try:
        done = subprocess.run([sys.executable, "-m", "gpt2_adventure", *args], stdout=slave,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              env=environment, timeout=timeout, text=True)
    finally:
        os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    shown = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return done.returncode, _ESCAPES.sub("", shown), done.stderr
