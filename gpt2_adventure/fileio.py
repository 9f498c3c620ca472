"""Small file-safety pieces: reading a file the player named, writing a file atomically,
stale temp files."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from gpt2_adventure.units import size_text

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


class FileRefused(Exception):
    """Why a file was not read, worded for the player; ``reason`` lets a caller word a case
    its own way ("missing", "folder", "not_regular", "denied", "unreadable", "too_large")."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def read_regular_file(path: Path, limit: int, noun: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or FileRefused. A FIFO or a
    device is refused without blocking: opened O_NONBLOCK and checked before reading."""
    too_large = f"the {noun} is too large (the limit is {size_text(limit)})"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileRefused(f"no such {noun}", "missing") from None
    except IsADirectoryError:
        raise FileRefused(f"this is a folder, not a {noun}", "folder") from None
    except PermissionError:
        raise FileRefused(f"cannot read the {noun}: permission denied", "denied") from None
    except OSError as error:
        raise FileRefused(f"cannot read the {noun}: {error.strerror or error}",
                          "unreadable") from None
    except ValueError:  # a NUL in the name: no file can have it
        raise FileRefused(f"no such {noun} (the name holds a NUL character)",
                          "missing") from None
    info = os.fstat(fd)  # before fdopen, which refuses a folder with an error of its own
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused(f"this is a folder, not a {noun}", "folder")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("this is not a regular file", "not_regular")
        raise FileRefused(too_large, "too_large")
    with os.fdopen(fd, "rb") as stream:
        try:
            # Sized by the file (read(n) allocates n bytes up front); more if it grew since.
            data = stream.read(info.st_size + 1)
            if len(data) > info.st_size:
                data += stream.read(limit + 1 - len(data))
        except OSError as error:
            raise FileRefused(f"cannot read the {noun}: {error.strerror or error}",
                              "unreadable") from None
    if len(data) > limit:
        raise FileRefused(too_large, "too_large")
    return data


def atomic_write(path: Path, data: bytes, mode: int = 0o600, temp_prefix: str = ".tmp-") -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new file.

    Temp file in the same folder (same file system), write, flush, fsync, ``os.replace``, then
    fsync the folder so the rename itself survives a power cut. The temp file is named
    ``<temp_prefix><pid>-….tmp``, so ``clean_stale_temps(folder, temp_prefix)`` can tell a
    dead writer's leftovers from a live one's.
    """
    with atomic_path(path, mode, temp_prefix) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def atomic_path(path: Path, mode: int | None = 0o600,
                temp_prefix: str = ".tmp-") -> Iterator[Path]:
    """``atomic_write`` for a writer that opens the file itself (a library given a file name):
    it writes to the temp path yielded; when the block ends without an error, the file is
    fsynced, given ``mode`` and renamed over ``path``, and the folder is fsynced. On an error
    the temp file is removed.

    The temp file is created empty (private) before the block; with ``mode=None`` its name is
    left free instead, so the writer creates it and the umask sets its permissions, as for
    any new file.
    """
    tmp = _new_temp(path, temp_prefix, create=mode is not None)
    try:
        yield tmp
        _fsync_file(tmp)
        if mode is not None:
            with contextlib.suppress(OSError):
                os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_create(path: Path, data: bytes, mode: int = 0o600, temp_prefix: str = ".tmp-") -> bool:
    """Write a new file atomically; never replace an existing one. False if it exists.

    The data goes to a temp file that is then hard-linked to its name: the link fails if the
    name is taken, so there is no window where a half-written or clobbered file exists. File
    systems without hard links fall back to an existence check and a rename.
    """
    if os.path.lexists(path):
        return False
    tmp = _new_temp(path, temp_prefix)
    try:
        tmp.write_bytes(data)
        _fsync_file(tmp)
        with contextlib.suppress(OSError):
            os.chmod(tmp, mode)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:
            if os.path.lexists(path):
                return False
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _fsync_dir(path.parent)  # so the new name survives a power cut
    return True


def _new_temp(path: Path, temp_prefix: str, create: bool = True) -> Path:
    """``<temp_prefix><pid>-<random>.tmp`` beside ``path``: created (mode 0600, never an
    existing file), or with ``create=False`` only named (pid and 64 random bits keep it free)."""
    prefix = f"{temp_prefix}{os.getpid()}-"
    if not create:
        return path.parent / f"{prefix}{secrets.token_hex(8)}.tmp"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    os.close(fd)
    return Path(tmp)


def _fsync_file(path: Path) -> None:
    """The file's bytes reach the disk before a name points at them. (Opened for writing:
    Windows flushes only a handle that may write.)"""
    with path.open("r+b") as written:
        os.fsync(written.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # folders cannot be opened for fsync on Windows
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
