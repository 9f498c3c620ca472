"""Recall for the open game: its index, kept in line with the story, searched per prompt.

``Recall`` is what ``ContextBuilder`` holds. It opens the index of the game it is asked about
(in a folder beside the autosaves, or in memory), switches when another game's story comes
(a load), and is closed by whoever owns the open game (``Game.close``). Recall is a help, not
the story: when the index cannot be used it falls back to one in memory, rebuilt from the
save, and when this Python's SQLite has no FTS5 it finds nothing and says why (``problem``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from gpt2_adventure.fileio import is_inside
from gpt2_adventure.story.model import StoryState
from gpt2_adventure.story.recall.index import RecallIndex, RecallUnavailable
from gpt2_adventure.story.recall.passages import Passage
from gpt2_adventure.story.recall.query import Query

INDEX_SUFFIX = ".recall.sqlite"


class Recall:
    """Passages of a game's whole story. ``folder=None``: indexes live in memory (tests)."""

    def __init__(self, folder: Path | None = None, root: Path | None = None) -> None:
        self.folder = folder
        self.root = root  # the index is written only where the folder stays inside it
        self.problem: str | None = None  # why recall finds nothing, if it cannot work
        self._index: RecallIndex | None = None
        self._lock = threading.Lock()

    def path_for(self, game_id: str) -> Path | None:
        if self.folder is None:
            return None
        from gpt2_adventure.story.saves.store import autosave_slot

        return self.folder / f"{autosave_slot(game_id)}{INDEX_SUFFIX}"

    def _open(self, game_id: str) -> RecallIndex | None:
        index = self._index
        if index is not None and index.game_id == game_id:
            return index
        if index is not None:
            index.close()
            self._index = None
        if self.problem is not None and "FTS5" in self.problem:
            return None
        path = self.path_for(game_id)
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                if self.root is not None and not is_inside(self.root, path.parent):
                    raise OSError(f"{path.parent} leads outside {self.root}")
            self._index = RecallIndex(game_id, path)
        except RecallUnavailable as error:
            self.problem = f"recall is off: {error}"
            return None
        except (OSError, sqlite3.Error) as error:  # an unwritable folder: keep it in memory
            self.problem = f"the recall index is kept in memory: {error}"
            return self._in_memory(game_id)
        return self._index

    def _in_memory(self, game_id: str) -> RecallIndex | None:
        try:
            self._index = RecallIndex(game_id, None)
        except (RecallUnavailable, sqlite3.Error) as error:
            self.problem = f"recall is off: {error}"
            self._index = None
        return self._index

    def prepare(self, state: StoryState) -> None:
        """Open and update the game's index now (a long story's first indexing takes a
        while: do it where waiting is expected, e.g. on the worker opening the game)."""
        self.find(state, Query(), 0)

    def find(self, state: StoryState, query: Query, before: int, limit: int = 12
             ) -> list[Passage]:
        """The best passages for ``query`` from turns before ``before`` of ``state``'s story,
        after bringing the index in line with the story."""
        texts = [turn.text for turn in state.turns]
        with self._lock:
            index = self._open(state.id)
            if index is None:
                return []
            try:
                return self._find(index, texts, query, before, limit)
            except sqlite3.Error as error:
                # A file gone bad under us: go on with an index in memory, rebuilt from the save.
                self.problem = f"the recall index is kept in memory: {error}"
                index.close()
                memory = self._in_memory(state.id)
                if memory is None:
                    return []
                try:
                    return self._find(memory, texts, query, before, limit)
                except sqlite3.Error as again:  # recall is a help: the reply goes on without
                    self.problem = f"recall is off: {again}"
                    return []

    @staticmethod
    def _find(index: RecallIndex, texts: Sequence[str], query: Query, before: int,
              limit: int) -> list[Passage]:
        index.sync(texts)
        return index.search(query, before, limit)

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None
