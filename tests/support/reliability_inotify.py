"""inotify through ctypes: lets a test SIGKILL a process the moment it creates a file.

Polling a folder would miss a save that takes a millisecond to write; an inotify event
arrives within microseconds of the ``open(O_CREAT)``, so the kill lands during the write.
Linux only; ``available()`` says whether it works here.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import sys
from pathlib import Path

IN_MODIFY = 0x002
IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def available() -> bool:
    return _libc() is not None


class Watch:
    """Events for files created, closed after writing, or renamed into some folders."""

    def __init__(self, *folders: Path, mask: int = IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO):
        libc = _libc()
        if libc is None:
            raise OSError("inotify is not available")
        self.fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.folders: dict[int, Path] = {}
        for folder in folders:
            wd = libc.inotify_add_watch(self.fd, os.fsencode(folder), mask)
            if wd < 0:
                os.close(self.fd)
                raise OSError(ctypes.get_errno(), f"inotify_add_watch failed for {folder}")
            self.folders[wd] = folder

    def events(self, timeout: float) -> list[tuple[Path, int, str]]:
        """(folder, mask, file name) of what happened, waiting up to ``timeout`` seconds."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return []
        out, pos = [], 0
        while pos + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, pos)
            name = data[pos + _EVENT.size: pos + _EVENT.size + length].rstrip(b"\0")
            out.append((self.folders.get(wd, Path("?")), mask, os.fsdecode(name)))
            pos += _EVENT.size + length
        return out

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
