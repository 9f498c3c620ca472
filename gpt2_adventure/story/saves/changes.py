"""What changed in a game since its autosave was last written: one journal record.

The cost must not grow with the story, so the turns are never all serialized or compared
field by field. What is cheap at any length is comparing the list of turn objects with the
list written last (``==`` on lists takes an identical object as equal at C speed): it finds
turns added, removed or replaced. What it cannot see is a turn changed in place; the session
changes only its last turns that way (a retry, an alternative, replies written ahead, more of
the last reply), so the last ``WINDOW`` turns are compared by content, and an edit of an
earlier turn is told (``touch``: ``Game.edit`` does it before the session edits).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from gpt2_adventure.story.model import StoryState, Turn, WorldEntry

WINDOW = 8  # the last turns compared by content at each autosave


def first_difference(old: list[Any], new: list[Any]) -> int:
    """The first index where the lists differ (their common length if one is a prefix of the
    other): a prefix compared whole at C speed, then halved, so O(n) even when they differ."""
    low, high = 0, min(len(old), len(new))
    if old[:high] == new[:high]:
        return high
    while low < high:  # old[:low] == new[:low] and old[:high] != new[:high]
        middle = (low + high + 1) // 2
        if old[low:middle] == new[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class Shadow:
    """The game as its autosave holds it (snapshot plus journal), to compare the game with."""

    def __init__(self, state: StoryState) -> None:
        self.state = state  # the very object: another one (a load) needs a snapshot
        self.turns: list[Turn] = list(state.turns)
        self.recent: dict[int, dict[str, Any]] = {}  # index -> to_dict() of the last turns
        self.redo: list[list[Turn]] = [list(step) for step in state.redo]
        self.world: list[WorldEntry] = list(state.world)
        self.head = _head(state)
        self.touched: set[int] = set()
        self._remember_recent()

    def touch(self, index: int) -> None:
        """Turn ``index`` is about to change in place: the next record carries it."""
        self.touched.add(index)

    def changes(self, state: StoryState) -> dict[str, Any]:
        """The record that brings the autosave to ``state`` ({} when nothing changed), and
        the shadow moved on to it. Only for the object the shadow was made from."""
        record: dict[str, Any] = {}
        self._turns(state.turns, record)
        redo = first_difference(self.redo, state.redo)
        if redo < len(self.redo) or redo < len(state.redo):
            record["redo"] = [redo, [[t.to_dict() for t in step] for step in state.redo[redo:]]]
            self.redo[redo:] = [list(step) for step in state.redo[redo:]]
        world = first_difference(self.world, state.world)
        if world < len(self.world) or world < len(state.world):
            record["world"] = [world, [w.to_dict() for w in state.world[world:]]]
            self.world[world:] = state.world[world:]
        head = _head(state)
        changed = {k: v for k, v in head.items() if self.head.get(k, _MISSING) != v}
        if changed:
            record["set"] = changed
            self.head = head
        return record

    def _turns(self, turns: list[Turn], record: dict[str, Any]) -> None:
        old, known = self.turns, len(self.turns)
        start = min(known, len(turns), max(0, known - WINDOW))
        if not self._same_objects(turns):  # a turn replaced before the window: rare
            start = first_difference(old, turns)
        while start < min(known, len(turns)) and self.recent.get(start) == \
                turns[start].to_dict():
            start += 1
        edits = sorted(i for i in self.touched if i < start)
        self.touched.clear()
        if edits:
            record["turn"] = [[i, turns[i].to_dict()] for i in edits]
        if start < known or start < len(turns):
            record["turns"] = [start, [t.to_dict() for t in turns[start:]]]
            old[start:] = turns[start:]
        self._remember_recent()

    def _same_objects(self, turns: list[Turn]) -> bool:
        """Are the turns the shadow knows still the same objects, up to where one list ends?
        Compared whole and in place (a slice would touch every turn: slow at 10,000): the
        shadow is first made as long as ``turns``, and put back if they differ."""
        old, known = self.turns, len(self.turns)
        removed = old[len(turns):]
        del old[len(turns):]
        old.extend(turns[known:])
        if old == turns:  # identical objects compare equal without being looked at
            return True
        del old[min(known, len(turns)):]
        old.extend(removed)
        return False

    def _remember_recent(self) -> None:
        first = max(0, len(self.turns) - WINDOW)
        self.recent = {i: self.turns[i].to_dict() for i in range(first, len(self.turns))}


_MISSING = object()


def _head(state: StoryState) -> dict[str, Any]:
    """Every field but the lists, as ``to_dict`` writes them (copied: the shadow must not
    change when the game does)."""
    rest = dataclasses.replace(state, turns=[], redo=[], world=[]).to_dict()
    for key in ("turns", "redo", "world"):
        rest.pop(key, None)
    return copy.deepcopy(rest)
