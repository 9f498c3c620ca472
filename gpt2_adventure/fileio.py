"""Small file-safety pieces shared by saves and stored model states."""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

STALE_TEMP_SECONDS = 3600


def pid_alive(pid: int) -> bool:
    """Could process ``pid`` still be writing? (True when unsure.)"""
    if pid == os.getpid():
        return True  # another thread of ours may be writing it
    if os.name == "nt":
        return True  # no cheap check: rely on the age limit
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists, owned by someone else
        return True
    return True


def clean_stale_temps(folder: Path, prefix: str) -> None:
    """Remove ``<prefix><pid>-*.tmp`` files left by writers that died (or are over an hour
    old); a live writer's file is left alone."""
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)-.*\.tmp$")
    now = time.time()
    for entry in folder.glob(f"{prefix}*.tmp"):
        match = pattern.match(entry.name)
        if not match:
            continue
        with contextlib.suppress(OSError):
            old = now - entry.lstat().st_mtime > STALE_TEMP_SECONDS
            if old or not pid_alive(int(match.group(1))):
                entry.unlink()


def is_inside(root: Path, path: Path) -> bool:
    """Does ``path`` (links followed) stay inside ``root``?"""
    try:
        resolved, top = path.resolve(), root.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return False
    return resolved == top or top in resolved.parents
