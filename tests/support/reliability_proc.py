"""Running the real command in a subprocess for the reliability suite."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Small and quick: a tiny model, a short context, short replies, one thread.
FAST_CONFIG = """\
[model]
threads = 1
n_ctx = 320
seed = 7

[sampling]
max_tokens = 20
"""


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gpt2_adventure", *args]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra or {})
    return env


def run(*args: str, stdin: str = "", timeout: float = 120,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), input=stdin, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=timeout,
                          env=env or child_env(), cwd=ROOT)


def popen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(command(*args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            errors="replace", env=env or child_env(), cwd=ROOT, bufsize=1)


def write_config(text: str = FAST_CONFIG) -> Path:
    folder = Path(os.environ["GPT2_ADVENTURE_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def assert_clean_error(result: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2, one ``error:`` line and at most one ``hint:`` line, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), result.stderr[-2000:]
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


class Output:
    """Collects a running process's stdout line by line on a thread, with arrival times."""

    def __init__(self, stream: object) -> None:
        self.lines: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._lock:
                self.lines.append((time.monotonic(), line))

    def text(self) -> str:
        with self._lock:
            return "".join(line for _, line in self.lines)

    def count(self, needle: str) -> int:
        with self._lock:
            return sum(1 for _, line in self.lines if line.rstrip("\n") == needle)

    def join(self, timeout: float = 10) -> None:
        self._thread.join(timeout)
