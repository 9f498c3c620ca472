"""The autosave's journal: the turns played since the last full snapshot, one line each.

An autosave slot is ``<slot>.json``, a save document written whole now and then (a
"snapshot", save version 2, holding ``"journal": <base>``), and ``<slot>.journal`` beside it,
to which every autosave in between appends one record of what changed: a few hundred bytes
and one fsync, whatever the length of the story. The file is text, one JSON object a line::

    <16 hex: sha256 of the JSON> {"journal": "gpt2-adventure-journal", "version": 1, "base": B}
    <16 hex> {"n": 1, "at": "2026-12-07T15:00:00.000+00:00", "turns": [41, [{...}, {...}]]}
    <16 hex> {"n": 2, "at": ..., "turn": [[3, {...}]], "set": {"memory": "..."}}

The first line names the snapshot it continues (``base``, a random token the snapshot holds):
a journal for another snapshot (left by a crash between writing a snapshot and starting its
journal, or beside a save someone rewrote) is ignored. Each record checks itself (its sum) and
its place (``n`` counts from 1); replay stops at the first line that fails either, so a record
torn by a power cut is ignored. A record is a list of changes to the state as ``to_dict``
writes it: ``"turns": [k, [turns]]`` (the turns from index k on are these), the same for
``"redo"`` and ``"world"``, ``"turn": [[i, turn], ...]`` (turn i, changed in place: an edit)
and ``"set": {field: value}`` for every other field.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpt2_adventure.errors import UserError
from gpt2_adventure.fileio import FileRefused, atomic_write, read_regular_file
from gpt2_adventure.story import strict_json

JOURNAL_FORMAT = "gpt2-adventure-journal"
JOURNAL_VERSION = 1
SUFFIX = ".journal"
LIST_FIELDS = ("turns", "redo", "world")  # changed as a tail from an index on
_SUM_CHARS = 16


def journal_path(snapshot: Path) -> Path:
    """``castle.json`` -> ``castle.journal``, in the same folder."""
    return snapshot.with_name(snapshot.stem + SUFFIX)


def dumps(value: Any) -> bytes:
    """Compact JSON as UTF-8; lone surrogates written as \\u escapes (as saves do)."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode()


def line(value: dict[str, Any]) -> bytes:
    """One journal line: the JSON's sum, a space, the JSON, a newline."""
    body = dumps(value)
    return hashlib.sha256(body).hexdigest()[:_SUM_CHARS].encode() + b" " + body + b"\n"


def header(base: str) -> bytes:
    return line({"journal": JOURNAL_FORMAT, "version": JOURNAL_VERSION, "base": base})


@dataclass
class Replay:
    """What a journal holds for one snapshot: its good records, in order."""

    records: list[dict[str, Any]] = field(default_factory=list)
    torn: bool = False  # the last line was cut short or fails its sum (a crash mid-write)
    damaged: bool = False  # a bad line with more after it: the records after it are lost
    other_base: bool = False  # the journal belongs to another snapshot (ignored)


def _parse_line(raw: bytes) -> dict[str, Any] | None:
    """The object on a good line, or None."""
    if len(raw) < _SUM_CHARS + 2 or raw[_SUM_CHARS:_SUM_CHARS + 1] != b" ":
        return None
    body = raw[_SUM_CHARS + 1:]
    if hashlib.sha256(body).hexdigest()[:_SUM_CHARS].encode() != raw[:_SUM_CHARS]:
        return None
    try:
        value = strict_json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, strict_json.JsonProblem):
        return None
    return value if isinstance(value, dict) else None


def read(raw: bytes, base: str) -> Replay:
    """The records of ``raw`` (a journal file's bytes) that continue snapshot ``base``."""
    lines = raw.split(b"\n")
    tail = lines.pop()  # b"" after a final newline; else a line cut short
    replay = Replay(torn=bool(tail))
    if not lines:
        return replay
    first = _parse_line(lines[0])
    if first is None or first.get("journal") != JOURNAL_FORMAT \
            or first.get("version") != JOURNAL_VERSION or first.get("base") != base:
        replay.other_base = True
        return replay
    for number, raw_line in enumerate(lines[1:], start=1):
        record = _parse_line(raw_line)
        if record is None or record.get("n") != number:
            last = number == len(lines) - 1
            replay.torn, replay.damaged = replay.torn or last, not last or bool(tail)
            break
        replay.records.append(record)
    return replay


class BadRecord(ValueError):
    """A record that does not fit the state it should change (replay stops before it)."""


def apply(state: dict[str, Any], record: dict[str, Any]) -> None:
    """Change ``state`` (a save's ``state`` object, as read) by one record: checked whole
    first, so a bad record changes nothing. The save's own checks run on the result."""
    tails: list[tuple[list[Any], int, list[Any]]] = []
    for key in LIST_FIELDS:
        if key not in record:
            continue
        change = record[key]
        target = state.setdefault(key, [])
        if not (isinstance(change, list) and len(change) == 2 and type(change[0]) is int
                and isinstance(change[1], list) and isinstance(target, list)
                and 0 <= change[0] <= len(target)):
            raise BadRecord(f"{key}: not a change this state can take")
        tails.append((target, change[0], change[1]))
    edits = record.get("turn", [])
    turns = state.get("turns")
    if not isinstance(edits, list) or not all(
            isinstance(e, list) and len(e) == 2 and type(e[0]) is int
            and isinstance(turns, list) and 0 <= e[0] < len(turns) for e in edits):
        raise BadRecord("turn: not a change this state can take")
    settings = record.get("set", {})
    if not isinstance(settings, dict) or any(k in LIST_FIELDS for k in settings):
        raise BadRecord("set: not a change this state can take")
    assert turns is None or isinstance(turns, list)
    for index, turn in edits:  # in place first: their indices are below any tail's
        assert turns is not None
        turns[index] = turn
    for target, start, items in tails:
        del target[start:]
        target.extend(items)
    state.update(settings)


def replay_into(state: dict[str, Any], journal: Replay) -> dict[str, Any] | None:
    """Apply the journal's records to ``state``; the last record applied (None: none). A
    record that does not fit ends the replay, as a bad line does."""
    last = None
    for record in journal.records:
        try:
            apply(state, record)
        except BadRecord:
            journal.damaged = True
            break
        last = record
    return last


class JournalFile:
    """The open journal of one autosave slot, appended to by one game (its lock held)."""

    def __init__(self, path: Path, base: str, fd: int, size: int) -> None:
        self.path = path
        self.base = base
        self._fd: int | None = fd
        self.size = size  # bytes in the file: all of them whole records
        self.records = 0

    @classmethod
    def start(cls, path: Path, base: str, temp_prefix: str) -> JournalFile:
        """A new journal for snapshot ``base``, atomically in place of the one there."""
        first = header(base)
        atomic_write(path, first, temp_prefix=temp_prefix)
        flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) \
            | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        return cls(path, base, fd, len(first))

    def append(self, record: dict[str, Any]) -> int:
        """Write one record and make it durable before returning; its size in bytes. On an
        error the file is cut back to its last whole record and closed (OSError raised)."""
        if self._fd is None:
            raise OSError("the journal is closed")
        self.records += 1
        data = line({"n": self.records, **record})
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            (getattr(os, "fdatasync", None) or os.fsync)(self._fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.size)
            self.close()
            raise
        self.size += len(data)
        return len(data)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    @property
    def closed(self) -> bool:
        return self._fd is None


def read_beside(snapshot: Path, limit: int) -> bytes | None:
    """The bytes of the journal beside ``snapshot``, or None when there is none. A journal
    that is there and cannot be read is an error: the snapshot alone would be an old story."""
    path = journal_path(snapshot)
    if not os.path.lexists(path):
        return None
    if path.is_symlink():
        raise UserError("the save's journal is a link; not following it", path)
    try:
        return read_regular_file(path, limit, "save journal")
    except FileRefused as refused:
        if refused.reason == "missing":
            return None
        raise UserError(str(refused), path) from None
