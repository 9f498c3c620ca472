"""Stored model state: llama.cpp's KV cache saved beside a game, so a loaded game resumes warm.

A state file is only used when everything it claims checks out: the same model file
(fingerprint), the same context size, intact bytes (sha256), tokens the model knows, and
llama.cpp accepting the data. Anything else is ignored (the game just evaluates its prompt),
never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.fileio import atomic_write, clean_stale_temps, is_inside

MAGIC = b"G2ASTATE"
VERSION = 1
_FINGERPRINT_CHUNK = 1 << 20


def model_fingerprint(path: Path) -> str:
    """sha256 of the file's size, first and last MiB: cheap for a 3 GB file, and any
    re-download, conversion or quantization changes it."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    digest.update(str(size).encode())
    with path.open("rb") as fh:
        digest.update(fh.read(_FINGERPRINT_CHUNK))
        fh.seek(max(0, size - _FINGERPRINT_CHUNK))
        digest.update(fh.read(_FINGERPRINT_CHUNK))
    return digest.hexdigest()


TEMP_PREFIX = ".state-"


def state_file_name(game_id: str) -> str:
    """The file a game's stored model state is kept in, beside its autosave."""
    return hashlib.sha256(game_id.encode()).hexdigest()[:32] + ".kvstate"


@dataclass
class StateCache:
    folder: Path  # where state files live (beside the autosaves)
    fingerprint: str
    max_bytes: int = 256 * 1024 * 1024
    root: Path | None = None  # the folder must stay inside this one (no links out)

    def path(self, game_id: str) -> Path:
        return self.folder / state_file_name(game_id)

    def store(self, game_id: str, backend: Backend, extra: dict[str, Any]) -> int:
        """Write the backend's state for this game; returns bytes written (0: skipped)."""
        tokens, data = backend.export_state()
        target = self.path(game_id)
        if not tokens or len(data) > self.max_bytes:
            target.unlink(missing_ok=True)  # a stale state is worse than none
            return 0
        header = json.dumps({
            "version": VERSION, "game": game_id, "model": self.fingerprint,
            "n_ctx": backend.n_ctx, "tokens": tokens, "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "extra": extra,
        }).encode("utf-8")
        blob = MAGIC + struct.pack("<I", len(header)) + header + data
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.root is not None and not is_inside(self.root, self.folder):
            raise OSError(f"{self.folder} leads outside {self.root}; not writing there")
        clean_stale_temps(self.folder, TEMP_PREFIX)  # a kill mid-write leaves one behind
        atomic_write(target, blob, temp_prefix=TEMP_PREFIX)
        return len(blob)

    def restore(self, game_id: str, backend: Backend) -> dict[str, Any] | None:
        """Load the state into the backend; returns its ``extra`` or None when not usable."""
        header, data = self._read(self.path(game_id))
        if header is None or data is None:
            return None
        if (header.get("version") != VERSION or header.get("game") != game_id
                or header.get("model") != self.fingerprint
                or header.get("n_ctx") != backend.n_ctx):
            return None
        tokens = header.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, int) for t in tokens):
            return None
        if not backend.import_state(tokens, data):
            return None
        extra = header.get("extra")
        return extra if isinstance(extra, dict) else {}

    def _read(self, path: Path) -> tuple[dict[str, Any] | None, bytes | None]:
        try:
            if not path.is_file() or path.stat().st_size > self.max_bytes + (1 << 24):
                return None, None
            # Unbuffered, the data part in one read: a state of hundreds of MB is never copied
            # again (a copy holds the GIL: the TUI would stall while a game opens).
            with path.open("rb", buffering=0) as fh:
                head = fh.read(len(MAGIC) + 4)
                if len(head) < len(MAGIC) + 4 or not head.startswith(MAGIC):
                    return None, None
                (length,) = struct.unpack_from("<I", head, len(MAGIC))
                if length > os.fstat(fh.fileno()).st_size - len(head):
                    return None, None  # a damaged length: read() would allocate all of it
                raw_header = fh.read(length)
                data = fh.readall()
        except OSError:
            return None, None
        try:
            header = json.loads(raw_header.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None, None
        if not isinstance(header, dict) or header.get("bytes") != len(data):
            return None, None
        if hashlib.sha256(data).hexdigest() != header.get("sha256"):
            return None, None
        return header, data
