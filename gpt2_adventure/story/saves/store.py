"""Named saves and autosaves in the data dir's ``saves/`` folder.

Layout::

    saves/<name>.json                 named saves (the file name is the save's name)
    saves/autosave/<game id>.json     one autosave slot per game: a snapshot of the game
    saves/autosave/<game id>.journal  ...and what changed since, one record per autosave
    saves/.locks/<game id>.lock       held while a game is open (two windows, one game)
    saves/**/.save-<pid>-*.tmp        a write in progress, or left by a crash: never read

A save name belongs to one game (the ``id`` in its state): ``save_named`` refuses to write
over another game's save unless told to replace it (``NameTaken``), and ``free_name`` finds
a name for a game beside the others ("castle 2").

Policy for files that do not load: they are never overwritten. Saving over one first moves
it aside to ``<name>.broken-<UTC time>.json`` (``<name>.newer-...`` for a save from a newer
version, which is sound, only not for us) and says so (``Saved.lines``); it then shows up in
``list`` with its error. Refusing would make autosave fail every turn and leave the game
unsaved. A readable file from an older save version is kept once as ``<name>.v<N>.json``
before it is replaced.

An autosave costs the same at turn 10 and at turn 10,000: while a game is open its slot is a
snapshot (written whole when the game opens and when the journal has grown as large as the
snapshot) plus a journal to which each autosave appends what changed (``journal.py``,
``changes.py``); closing the game writes the slot whole again (``finish_autosave``) and
removes the journal. Loading replays the journal over the snapshot. Named saves are always
written whole: they are rare, and each is one file to copy or send.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import re
import secrets
import shutil
import sys
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gpt2_adventure.errors import UserError
from gpt2_adventure.fileio import (
    FileRefused,
    atomic_write,
    clean_stale_temps,
    is_inside,
    read_regular_file,
)
from gpt2_adventure.paths import AppPaths, looks_like_path, player_path
from gpt2_adventure.story.model import StoryState
from gpt2_adventure.story.saves import format as save_format
from gpt2_adventure.story.saves.changes import Shadow
from gpt2_adventure.story.saves.format import (
    MAX_SAVE_BYTES,
    NewerSaveError,
    SaveDocument,
    decode,
    encode,
    now_text,
)
from gpt2_adventure.story.saves.journal import JournalFile, journal_path, read_beside
from gpt2_adventure.units import count

AUTOSAVE_PREFIX = "autosave/"
MAX_NAME_CHARS = 100
_MAX_NAME_BYTES = 180  # leaves room for ".broken-<time>.json" under a 255-byte file name limit
_NAME_PUNCTUATION = frozenset(" -_.'")
_WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                               *(f"LPT{i}" for i in range(10)), "COM¹", "COM²", "COM³",
                               "LPT¹", "LPT²", "LPT³"})
_TEMP_PREFIX = ".save-"
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)
# A new snapshot when the journal outgrows the snapshot (so loading reads at most twice the
# story), but not before MIN (small stories) and always by MAX.
JOURNAL_MIN_BYTES = 256 * 1024
JOURNAL_MAX_BYTES = 16 * 1024 * 1024


@dataclass
class _LiveAutosave:
    """An open game's autosave slot: its journal file and the game as the slot holds it."""

    journal: JournalFile
    shadow: Shadow
    snapshot_bytes: int

    def due(self) -> bool:
        """Time for a new snapshot?"""
        limit = min(max(JOURNAL_MIN_BYTES, self.snapshot_bytes), JOURNAL_MAX_BYTES)
        return self.journal.size > limit


class SaveInUseError(UserError):
    """The game is open in another gpt2-adventure process."""


class NameTaken(UserError):
    """The save name holds another game's save; ``other`` is that save, ``free`` a name
    nothing holds yet (the name with a number after it)."""

    def __init__(self, name: str, other: SaveInfo, free: str) -> None:
        super().__init__(f"the save {name!r} holds another game ({describe(other)})",
                         hint=f"/save {free} keeps this game beside it; "
                              f"/save --replace {name} replaces it")
        self.name, self.other, self.free = name, other, free


@dataclass(frozen=True)
class Saved:
    """What a named save did: where it wrote, and what was in the way, kept aside."""

    path: Path
    kept_aside: Path | None = None  # the file that was there, moved to this name
    why: str = ""  # why it could not stay: "did not load", "was made by a newer ..."

    def lines(self) -> list[str]:
        shown = [f"saved: {self.path}"]
        if self.kept_aside is not None:
            shown.append(f"the save that was there {self.why}; it is kept as "
                         f"{self.kept_aside.name}")
        return shown


@dataclass(frozen=True)
class SaveInfo:
    """One line of ``saves list``. An unreadable file has ``error`` set and empty fields."""

    name: str  # what load/delete take: "castle" or "autosave/<game id>"
    path: Path
    autosave: bool
    title: str = ""
    mode: str = ""
    turns: int = 0
    saved_at: datetime | None = None  # from the file; its mtime if the file is unreadable
    game_id: str = ""
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "mode": self.mode, "turns": self.turns,
                "saved_at": self.saved_at.isoformat() if self.saved_at else None,
                "path": str(self.path), "autosave": self.autosave, "id": self.game_id,
                "error": self.error}


def describe(info: SaveInfo) -> str:
    """'"The Dragon of the Anvil", 12 turns, saved 2026-12-07 14:02 UTC' for a question."""
    when = f", saved {info.saved_at:%Y-%m-%d %H:%M} UTC" if info.saved_at else ""
    return f"{info.title!r}, {count(info.turns, 'turn')}{when}"


def check_name(name: str) -> str:
    """A save name as stored (trimmed, NFC), or a UserError saying what is wrong with it."""
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise UserError("a save name cannot be empty")
    shown = repr(name[:40])
    if len(name) > MAX_NAME_CHARS or len(name.encode()) > _MAX_NAME_BYTES:
        raise UserError(f"save name {shown}... is too long (at most {MAX_NAME_CHARS} letters)")
    bad = sorted({c for c in name if c not in _NAME_PUNCTUATION
                  and unicodedata.category(c)[0] not in "LNM"})
    if bad:
        raise UserError(f"save name {shown} has characters a save name cannot have: "
                        + " ".join(repr(c) for c in bad),
                        hint="use letters, digits, spaces and - _ . '")
    if ".." in name or name.startswith(".") or name.endswith("."):
        raise UserError(f"save name {shown} cannot start or end with '.' or contain '..'")
    if name.split(".")[0].rstrip().upper() in _WINDOWS_RESERVED:
        raise UserError(f"save name {shown} is reserved on Windows; pick another")
    if name.lower().endswith(".json"):
        raise UserError(f"save name {shown} should not end with .json (it is added for you)")
    return name


def autosave_slot(game_id: str) -> str:
    """The file stem of a game's autosave; ids that are not plain tokens are hashed."""
    if _SAFE_ID.fullmatch(game_id):
        return game_id
    return hashlib.sha256(game_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def read_limited(path: Path, where: str, limit: int = MAX_SAVE_BYTES) -> bytes:
    """The bytes of a regular file up to ``limit``; anything else is a clear UserError."""
    try:
        return read_regular_file(path, limit, "save file")
    except FileRefused as refused:
        message = "save file not found" if refused.reason == "missing" else str(refused)
        raise UserError(message, where) from None


class GameLock:
    """An OS file lock held while a game is open; the OS drops it if the process dies."""

    def __init__(self, path: Path, game_id: str, root: Path | None = None) -> None:
        self.path = path
        self.game_id = game_id
        self.root = root  # the lock file must stay inside it (no link out of the saves)
        self._fd: int | None = None

    def acquire(self) -> GameLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.root is not None:
                SaveStore.check_inside(self.root, self.path.parent, self.path.parent.name)
            # O_NOFOLLOW: a lock file that is a link is refused, not followed.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
        except OSError as error:
            raise UserError(f"cannot create the game's lock file: {error.strerror or error}",
                            self.path) from None
        try:
            _lock_fd(fd)
        except OSError:
            os.close(fd)
            raise SaveInUseError("this game is already open in another gpt2-adventure",
                                 self.game_id, hint="close the other one first") from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock; the empty lock file is harmless
            self._fd = None

    def __enter__(self) -> GameLock:
        return self.acquire() if self._fd is None else self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _lock_fd(fd: int) -> None:
    if sys.platform == "win32":  # (not os.name: type checkers know this one)
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        # flock (not lockf): it also conflicts between two opens in the same process
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class SaveStore:
    """Reads and writes saves under ``paths.saves_dir``. Creates folders only when writing."""

    def __init__(self, paths: AppPaths) -> None:
        self.saves_dir = paths.saves_dir
        self.autosave_dir = self.saves_dir / "autosave"
        self._write_lock = threading.Lock()  # the game thread's autosave vs a named save
        self._written: dict[Path, tuple[int, int, int]] = {}  # files we wrote, by stat
        self._live: dict[Path, _LiveAutosave] = {}  # autosave slots with an open journal
        self._damaged: set[Path] = set()  # saves read whose journal had a bad record inside

    # writing
    def save(self, state: StoryState, name: str, *, replace: bool = False) -> Path:
        """Save under a plain name (``saves/<name>.json``); see ``save_named``."""
        return self.save_named(state, name, replace=replace).path

    def save_named(self, state: StoryState, name: str, *, replace: bool = False) -> Saved:
        """Save under a plain name (``saves/<name>.json``). A name belongs to one game: this
        game's earlier save there is replaced; another game's is refused (``NameTaken``)
        unless ``replace``. A file that does not load is kept aside (``Saved.kept_aside``)."""
        name = check_name(name)
        path = self.saves_dir / f"{name}.json"
        with self._write_lock:  # the owner checked and the file written as one step
            if not replace:
                other = self.owner(name)
                if other is not None and other.game_id != state.id:
                    raise NameTaken(name, other, self.free_name(name, state.id))
            return self._write(path, state, name)

    def owner(self, name: str) -> SaveInfo | None:
        """The save a plain name holds, when it holds one that loads (else None: no file,
        or one that does not load, which saving keeps aside)."""
        path = self.saves_dir / f"{check_name(name)}.json"
        if not path.is_file() or path.is_symlink():
            return None
        try:
            self._check_inside(path, name)
            doc = self._read(path, str(path))
        except UserError:
            return None
        return SaveInfo(name=name, path=path, autosave=False, title=doc.state.title,
                        mode=doc.state.mode, turns=len(doc.state.turns),
                        saved_at=doc.saved_at or _mtime(path), game_id=doc.state.id)

    def free_name(self, name: str, game_id: str) -> str:
        """``name`` itself if no other game holds it, else the first of "name 2", "name 3"...
        that is free or this game's."""
        name = check_name(name)
        candidates = (name if n == 1 else _numbered(name, n) for n in range(1, 10_000))
        for candidate in candidates:
            owner = self.owner(candidate)
            if owner is None and not os.path.lexists(self.saves_dir / f"{candidate}.json"):
                return candidate
            if owner is not None and owner.game_id == game_id:
                return candidate
        raise UserError(f"no free save name like {name!r}")

    def names_of(self, game_id: str) -> list[str]:
        """This game's named saves, newest first."""
        return [info.name for info, _ in sorted(
            self._scan(self.saves_dir, ""), key=lambda pair: pair[0].saved_at or _EPOCH,
            reverse=True) if info.game_id == game_id and not info.error]

    def autosave(self, state: StoryState) -> Path:
        """Bring the game's autosave slot (one per game id) up to ``state``: one record
        appended to its journal, durable when this returns; a new snapshot the first time
        (the game just opened, or another game object) and whenever the journal is due."""
        path = self._autosave_path(state)
        with self._write_lock:
            live = self._live.get(path)
            if live is not None and live.shadow.state is state and not live.journal.closed:
                try:
                    record = live.shadow.changes(state)
                    if record:
                        live.journal.append({"at": now_text(), **record})
                except (OSError, ValueError, TypeError):  # a new snapshot says what is wrong
                    live.journal.close()
                else:
                    if not live.due():
                        return path
            return self._snapshot(path, state)

    def touch(self, state: StoryState, index: int) -> None:
        """Turn ``index`` of the game is about to be changed in place (an edit): the next
        autosave records it. (Changes to the last turns are seen without being told.)"""
        with self._write_lock:
            live = self._live.get(self._autosave_path(state))
            if live is not None and live.shadow.state is state:
                live.shadow.touch(index)

    def finish_autosave(self, state: StoryState) -> Path:
        """The game closes: its autosave slot written whole (one file, which an older
        gpt2-adventure reads too) and its journal removed."""
        path = self._autosave_path(state)
        with self._write_lock:
            live = self._live.pop(path, None)
            if live is not None:
                live.journal.close()
            written = self._write(path, state, AUTOSAVE_PREFIX + path.stem).path
            with contextlib.suppress(OSError):  # a whole file never reads its journal
                journal_path(path).unlink()
            return written

    def _autosave_path(self, state: StoryState) -> Path:
        return self.autosave_dir / f"{autosave_slot(state.id)}.json"

    def _snapshot(self, path: Path, state: StoryState) -> Path:
        """A new snapshot of the game and a new, empty journal after it (the caller holds
        ``_write_lock``). Written in this order, a crash between the two leaves the new
        snapshot with the old journal, which names the old snapshot and is ignored."""
        old = self._live.pop(path, None)
        if old is not None:
            old.journal.close()
        base = secrets.token_hex(16)
        saved = self._write(path, state, AUTOSAVE_PREFIX + path.stem, journal=base)
        try:
            if path in self._damaged:  # never overwrite what did not load: keep it aside
                self._damaged.discard(path)
                aside = journal_path(self._aside(path, "broken-" + _stamp()))
                os.replace(journal_path(path), aside)
            journal = JournalFile.start(journal_path(path), base, _TEMP_PREFIX)
        except OSError as error:
            raise UserError(f"cannot start the autosave's journal: {error.strerror or error}",
                            journal_path(path)) from None
        size = self._written[path][1]
        self._live[path] = _LiveAutosave(journal, Shadow(state), size)
        return saved.path

    def hold(self, game_id: str) -> GameLock:
        """A lock to hold while the game is open: ``with store.hold(state.id): ...``."""
        return GameLock(self.saves_dir / ".locks" / f"{autosave_slot(game_id)}.lock", game_id,
                        root=self.saves_dir)

    def _write(self, path: Path, state: StoryState, name: str,
               journal: str | None = None) -> Saved:
        """Write one save file (the caller holds ``_write_lock``); with ``journal``, a
        snapshot that the journal of that base token continues."""
        data = encode(state, name, journal=journal)
        decode(data, name)  # never write a file we could not load back
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._check_inside(path.parent, name)
            self._clean_temp(path.parent)
            aside, why = self._make_room(path)
            atomic_write(path, data, temp_prefix=_TEMP_PREFIX)
            info = path.stat()
        except OSError as error:
            raise UserError(f"cannot write the save: {error.strerror or error}",
                            path) from None
        self._written[path] = (info.st_ino, info.st_size, info.st_mtime_ns)
        return Saved(path, aside, why)

    def _make_room(self, path: Path) -> tuple[Path | None, str]:
        """Move aside a file that cannot stay (a link, one that does not load, one from a
        newer gpt2-adventure) and keep a copy of an older-version one. Returns where the
        file went and why, or (None, "")."""
        if not os.path.lexists(path):
            return None, ""
        if path.is_symlink():  # replacing swaps the link itself; keep it in case it mattered
            aside = self._aside(path, "link-" + _stamp())
            self._move_aside(path, aside)
            return aside, "was a link"
        with contextlib.suppress(OSError):
            info = path.lstat()
            if self._written.get(path) == (info.st_ino, info.st_size, info.st_mtime_ns):
                return None, ""  # our own last write: no need to read it again every turn
        try:
            version = self._read(path, path.stem).version
        except NewerSaveError:
            aside = self._aside(path, "newer-" + _stamp())
            self._move_aside(path, aside)
            return aside, "was made by a newer gpt2-adventure"
        except UserError:
            aside = self._aside(path, "broken-" + _stamp())
            self._move_aside(path, aside)
            return aside, "did not load"
        if version < save_format.WHOLE_VERSION:  # read at call time (tests patch it)
            backup = path.with_name(f"{path.stem}.v{version}.json")
            if not os.path.lexists(backup):
                shutil.copy2(path, backup)
        return None, ""

    @staticmethod
    def _move_aside(path: Path, aside: Path) -> None:
        """Move a save aside with its journal (which may hold its last turns)."""
        os.replace(path, aside)
        if os.path.lexists(journal_path(path)):
            os.replace(journal_path(path), journal_path(aside))

    def _clean_temp(self, folder: Path) -> None:
        """Remove temp files left by crashed writes (not those of a live writer)."""
        clean_stale_temps(folder, _TEMP_PREFIX)

    @staticmethod
    def _aside(path: Path, label: str) -> Path:
        target = path.with_name(f"{path.stem}.{label}.json")
        n = 2
        while os.path.lexists(target):
            target = path.with_name(f"{path.stem}.{label}-{n}.json")
            n += 1
        return target

    # reading
    def load(self, name_or_path: str | Path) -> StoryState:
        """A save by name (``castle``, ``autosave/<id>``) or by an explicit path to a file."""
        return self.load_document(name_or_path).state

    def load_document(self, name_or_path: str | Path) -> SaveDocument:
        path = self.locate(name_or_path)
        return self._read(path, str(path))

    def locate(self, name_or_path: str | Path) -> Path:
        """The file a save name or path refers to; names never lead outside the saves folder."""
        if isinstance(name_or_path, Path) or _looks_like_path(name_or_path):
            path = (name_or_path.expanduser() if isinstance(name_or_path, Path)
                    else player_path(name_or_path))
            if path.is_dir():
                raise UserError("this is a folder, not a save file", path)
            if not path.exists():
                raise UserError("save file not found", path)
            return path  # other odd files (a FIFO...) are refused by read_limited
        path = self._named(name_or_path)
        if not path.exists():
            raise UserError(f"no save named {name_or_path.strip()!r}", self.saves_dir,
                            hint="`gpt2-adventure saves list` shows the saves")
        self._check_inside(path, name_or_path)
        return path

    def _named(self, ref: str, prefix_ok: bool = True) -> Path:
        """The path for a name or ``autosave/<id or unique prefix>`` (may not exist)."""
        ref = ref.strip()
        if ref.endswith(".json") and not ref.startswith(AUTOSAVE_PREFIX):
            ref = ref[: -len(".json")]
        if not ref.startswith(AUTOSAVE_PREFIX):
            return self.saves_dir / f"{check_name(ref)}.json"
        key = check_name(ref[len(AUTOSAVE_PREFIX):])
        exact = self.autosave_dir / f"{key}.json"
        if not prefix_ok or exact.exists() or not self.autosave_dir.is_dir():
            return exact
        found = sorted(p for p in self.autosave_dir.glob("*.json") if p.stem.startswith(key))
        if len(found) > 1:
            raise UserError(f"{ref!r} matches {len(found)} autosaves; give more of the id")
        return found[0] if found else exact

    def _check_inside(self, path: Path, name: str) -> None:
        self.check_inside(self.saves_dir, path, name)

    @staticmethod
    def check_inside(saves_dir: Path, path: Path, name: str) -> None:
        if not is_inside(saves_dir, path):
            raise UserError(f"save {name!r} is a link to somewhere outside the saves folder; "
                            "not following it", path)

    def _read(self, path: Path, where: str) -> SaveDocument:
        before = _stat_key(path)
        doc = decode(read_limited(path, where), where,
                     lambda: read_beside(path, MAX_SAVE_BYTES))
        if doc.journal is not None and doc.journal.damaged:
            self._damaged.add(path)
        # It loads and needs no backup: writing over it (as a game that opens does) need
        # not read it again.
        if before is not None and before == _stat_key(path) \
                and doc.version >= save_format.WHOLE_VERSION:
            self._written[path] = before
        return doc

    def latest_autosave(self) -> tuple[str, StoryState] | None:
        """The newest autosave that loads (by saved_at, else mtime); broken ones are skipped."""
        best: tuple[datetime, str, StoryState] | None = None
        for info, doc in self._scan(self.autosave_dir, AUTOSAVE_PREFIX):
            if doc is not None and info.saved_at and (best is None or info.saved_at > best[0]):
                best = (info.saved_at, info.name, doc.state)
        return (best[1], best[2]) if best else None

    def list(self) -> list[SaveInfo]:
        """Every save, newest first; unreadable files are listed with their error."""
        found = [info for folder, prefix in ((self.saves_dir, ""),
                                             (self.autosave_dir, AUTOSAVE_PREFIX))
                 for info, _ in self._scan(folder, prefix)]
        return sorted(found, key=lambda i: i.saved_at or _EPOCH, reverse=True)

    def _scan(self, folder: Path, prefix: str) -> Iterator[tuple[SaveInfo, SaveDocument | None]]:
        """Each ``*.json`` in ``folder`` (temp and hidden files skipped), read one at a time."""
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.json")):
            if path.name.startswith("."):
                continue
            name = prefix + unicodedata.normalize("NFC", path.stem)
            try:
                self._check_inside(path, name)
                doc = self._read(path, str(path))
            except (UserError, OSError) as error:
                yield SaveInfo(name=name, path=path, autosave=bool(prefix),
                               error=_short_error(error, path), saved_at=_mtime(path)), None
                continue
            yield SaveInfo(name=name, path=path, autosave=bool(prefix), title=doc.state.title,
                           mode=doc.state.mode, turns=len(doc.state.turns),
                           saved_at=doc.saved_at or _mtime(path), game_id=doc.state.id), doc

    def find(self, name: str) -> Path:
        """The existing file of a save name (exact; never a path) — what ``delete`` removes."""
        if _looks_like_path(name):
            raise UserError(f"{name!r} is a path; give a save name from "
                            "`gpt2-adventure saves list`")
        path = self._named(name, prefix_ok=False)
        if not os.path.lexists(path):
            raise UserError(f"no save named {name.strip()!r}", self.saves_dir)
        return path

    def delete(self, name: str) -> Path:
        """Delete a save by name. A link is removed, never what it points to; an autosave
        goes with the caches kept beside it (``_caches``)."""
        path = self.find(name)
        caches = self._caches(path)
        try:
            path.unlink()
        except OSError as error:
            raise UserError(f"cannot delete the save: {error.strerror}", path) from None
        with contextlib.suppress(OSError):  # its journal is no story without it
            journal_path(path).unlink()
        for cache in caches:
            with contextlib.suppress(OSError):
                cache.unlink()
        self._written.pop(path, None)
        return path

    def _caches(self, path: Path) -> tuple[Path, ...]:
        """What is kept beside an autosave and means nothing without it: every file named
        after its slot (``<slot>.recall.sqlite``, the recall index, and SQLite's files
        beside it; slots hold no dot) and the stored model state (named by the game's id,
        read from the save: none when it does not read)."""
        if path.parent != self.autosave_dir or path.is_symlink():
            return ()
        from gpt2_adventure.engine.llama.state_cache import state_file_name

        named = path.parent.glob(glob.escape(path.stem) + ".*")
        found = [p for p in named if p.suffix != ".json" and not p.is_symlink()]
        with contextlib.suppress(UserError):
            found.append(path.parent / state_file_name(self.load(path).id))
        return tuple(found)


def _numbered(name: str, n: int) -> str:
    """"name 2": the number kept within the name's length limits."""
    suffix = f" {n}"
    while len(name) + len(suffix) > MAX_NAME_CHARS or \
            len((name + suffix).encode()) > _MAX_NAME_BYTES:
        name = name[:-1]
    return name.rstrip(" .") + suffix


def _looks_like_path(ref: str) -> bool:
    if ref.startswith(AUTOSAVE_PREFIX) and "/" not in ref[len(AUTOSAVE_PREFIX):]:  # a name
        return False
    return looks_like_path(ref, ".json", (), suffix_if_file=True)


def _short_error(error: Exception, path: Path) -> str:
    """The error without the file's path (the listing shows it), keeping line:column."""
    if not isinstance(error, UserError):
        return str(error)
    place = (error.where or "").removeprefix(str(path)).lstrip(":")
    return f"{error.message} (at {place})" if place else error.message


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.lstat().st_mtime, timezone.utc)
    except OSError:
        return None


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


    return True
