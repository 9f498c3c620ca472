"""The full-text index of one game's story: SQLite's FTS5, ranked by its ``bm25()``.

Each sentence of each turn is a row, with rowid ``turn * MAX_PARTS + part`` so that a turn's
rows are one rowid range (replaced in one step when the turn changes) and a search can be
limited to the turns before the window with a rowid bound. A table of per-turn digests says
which turns the index holds, so an index that no longer matches the save (an older copy, an
edit made elsewhere) is brought in line with it: the save is the truth, the index a cache
that can always be rebuilt from it. Why FTS5 rather than bm25s or hand-written scoring:
``benchmarks/memory.py`` (figures in the README).

One connection, used under a lock from whichever thread lays out the prompt (the UI thread
for a warm-up or the meter, the generation worker for a reply).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from gpt2_adventure.story.recall.passages import MAX_PARTS, Passage, passage_text, sentences
from gpt2_adventure.story.recall.query import Query, words

SCHEMA_VERSION = "1"
# A word is searched for only if it singles passages out: a name (see ``query``) in at most
# NAME_SHARE of the sentences (or NAME_FLOOR of them), another word in at most WORD_SHARE
# (or WORD_FLOOR). More common than that, the story uses it everywhere.
NAME_SHARE, NAME_FLOOR = 0.03, 12
WORD_SHARE, WORD_FLOOR = 0.005, 3


class RecallUnavailable(RuntimeError):
    """This Python's SQLite was built without FTS5: recall cannot run."""


def fts5_available() -> bool:
    """Whether SQLite's FTS5 is compiled into this Python's ``sqlite3``."""
    try:
        with contextlib.closing(sqlite3.connect(":memory:")) as db:
            db.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
    except sqlite3.Error:
        return False
    return True


def _own_file(path: Path) -> None:
    """Create the index file readable by its owner only, as saves are (it holds the story;
    SQLite gives its journal the same mode); a link in its place is refused (OSError)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.close(fd)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def _match(terms: Sequence[str]) -> str:
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


class RecallIndex:
    """The sentences of one game's turns, searchable. ``path=None`` keeps it in memory."""

    def __init__(self, game_id: str, path: Path | None = None) -> None:
        self.game_id = game_id
        self.path = path
        self._lock = threading.Lock()
        self._texts: list[str] | None = None  # the turns indexed, once compared with a story
        self._db = self._connect()
        self._digests = [bytes(row[0]) for row in
                         self._db.execute("SELECT digest FROM turns ORDER BY turn")]
        self._rows = self._db.execute("SELECT count(*) FROM passages").fetchone()[0]

    # -- opening ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        target = ":memory:" if self.path is None else str(self.path)
        if self.path is not None:
            _own_file(self.path)
        try:
            return self._prepare(sqlite3.connect(target, check_same_thread=False,
                                                 isolation_level=None))
        except sqlite3.DatabaseError:
            if self.path is None:
                raise
        # A file that is not a usable index (damaged, another program's): start it afresh.
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        _own_file(self.path)
        return self._prepare(sqlite3.connect(target, check_same_thread=False,
                                             isolation_level=None))

    def _prepare(self, db: sqlite3.Connection) -> sqlite3.Connection:
        try:
            # The index is a cache of the save: losing its last writes to a crash only means
            # re-indexing those turns, so commits need not wait for the disk.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if meta and (meta.get("version") != SCHEMA_VERSION
                         or meta.get("game") != self.game_id):
                db.executescript("DROP TABLE IF EXISTS passages; DROP TABLE"
                                 " IF EXISTS turns; DELETE FROM meta;")
            try:
                db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS passages USING fts5("
                           "text, tokenize='porter unicode61 remove_diacritics 2')")
            except sqlite3.OperationalError as error:
                if "fts5" in str(error).lower():
                    raise RecallUnavailable("this Python's SQLite has no FTS5") from None
                raise
            db.execute("CREATE TABLE IF NOT EXISTS turns "
                       "(turn INTEGER PRIMARY KEY, digest BLOB NOT NULL)")
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                           [("version", SCHEMA_VERSION), ("game", self.game_id)])
            db.execute("SELECT count(*) FROM passages").fetchone()  # a damaged file fails here
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- keeping it in line with the story -------------------------------------------------

    @property
    def turns(self) -> int:
        """How many turns the index holds."""
        return len(self._digests)

    def sync(self, texts: Sequence[str]) -> int:
        """Make the index hold exactly these turn texts; returns how many turns were
        (re)indexed. Cheap when only the end changed (the usual turn)."""
        with self._lock:
            known = self._texts
            if known is not None:
                same = min(len(known), len(texts))
                if known[:same] == list(texts[:same]):  # identity makes this fast
                    changed = list(range(same, len(texts)))
                else:
                    changed = [i for i in range(len(texts))
                               if i >= len(known) or known[i] != texts[i]]
            else:  # first look since opening: compare with the digests on disk
                digests = self._digests
                changed = [i for i, text in enumerate(texts)
                           if i >= len(digests) or digests[i] != _digest(text)]
            if changed or len(self._digests) > len(texts):
                self._write(texts, changed)
            self._texts = list(texts)
            return len(changed)

    def _write(self, texts: Sequence[str], changed: list[int]) -> None:
        db = self._db
        rows_before = self._rows
        db.execute("BEGIN")
        try:
            if len(self._digests) > len(texts):
                self._rows -= db.execute("DELETE FROM passages WHERE rowid >= ?",
                                         (len(texts) * MAX_PARTS,)).rowcount
                db.execute("DELETE FROM turns WHERE turn >= ?", (len(texts),))
                del self._digests[len(texts):]
            rows = []
            for i in changed:
                if i < len(self._digests):
                    self._rows -= db.execute("DELETE FROM passages WHERE rowid BETWEEN ? AND ?",
                                             (i * MAX_PARTS, i * MAX_PARTS + MAX_PARTS - 1)
                                             ).rowcount
                rows += [(i * MAX_PARTS + part, text)
                         for part, text in enumerate(sentences(texts[i]))]
            db.executemany("INSERT INTO passages(rowid, text) VALUES (?, ?)", rows)
            self._rows += len(rows)
            digests = [(i, _digest(texts[i])) for i in changed]
            db.executemany("INSERT OR REPLACE INTO turns VALUES (?, ?)", digests)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._texts, self._rows = None, rows_before
            raise
        for i, digest in digests:
            if i < len(self._digests):
                self._digests[i] = digest
            else:
                self._digests.append(digest)

    # -- searching ------------------------------------------------------------------------

    def search(self, query: Query, before: int, limit: int = 12) -> list[Passage]:
        """The best passages for ``query`` from turns before ``before``, best first: each
        holds one of the newest action's words if it has any (they count double; if all
        are too common, nothing is found), else one of the last turns'. Words the story uses
        everywhere are left out."""
        if not query or before <= 0:
            return []
        with self._lock:
            terms = self._uncommon([*query.strong, *query.weak], query.names)
            strong = [t for t in query.strong if t in terms]
            weak = [t for t in query.weak if t in terms]
            if not strong and (query.strong or not weak):
                return []  # the action names nothing that singles a passage out
            # Every passage must hold a word of the action when it has one; the others only
            # rank (bm25 scores each phrase of the query, so the action's words count twice).
            match = (f"({_match(strong)}) AND ({_match([*strong, *weak])})" if strong
                     else _match(weak))
            rows = self._db.execute(
                "SELECT rowid, bm25(passages) FROM passages WHERE passages MATCH ? "
                "AND rowid < ? ORDER BY rank LIMIT ?",
                (match, before * MAX_PARTS, limit)).fetchall()
            return [self._passage(rowid, score) for rowid, score in rows]

    def _uncommon(self, terms: list[str], names: frozenset[str]) -> set[str]:
        """Those of ``terms`` that are in few enough passages to single one out."""
        keep: set[str] = set()
        name_limit = max(NAME_FLOOR, self._rows * NAME_SHARE)
        word_limit = max(WORD_FLOOR, self._rows * WORD_SHARE)
        for term in terms:
            limit = name_limit if term in names else max(name_limit, word_limit)
            # Ask FTS5 how many rows match the word itself (as it stems it), up to the limit.
            row = self._db.execute("SELECT count(*) FROM (SELECT 1 FROM passages WHERE "
                                   "passages MATCH ? LIMIT ?)",
                                   (_match([term]), int(limit) + 1)).fetchone()
            count = row[0]
            if 0 < count <= word_limit or (0 < count <= limit and (
                    term in names or self._written_as_name(term))):
                keep.add(term)
        return keep

    def _written_as_name(self, term: str, sample: int = 8) -> bool:
        """Whether the story writes ``term`` as a name (capitalised mid-sentence): a player
        who types "ask about brannoc" means the smith as much as one who types "Brannoc"."""
        rows = self._db.execute("SELECT text FROM passages WHERE passages MATCH ? LIMIT ?",
                                (_match([term]), sample)).fetchall()
        return any(name and word.lower() == term
                   for (text,) in rows for word, name in words(text))

    def _passage(self, rowid: int, score: float) -> Passage:
        turn, part = divmod(rowid, MAX_PARTS)
        last = min(rowid + 1, turn * MAX_PARTS + MAX_PARTS - 1)  # never the next turn's
        rows = self._db.execute("SELECT text FROM passages WHERE rowid BETWEEN ? AND ? "
                                "ORDER BY rowid", (rowid, last)).fetchall()
        parts = [""] * part + [r[0] for r in rows]
        return Passage(turn, part, passage_text(parts, part), -score)
