"""Replies written ahead: alternatives to the last reply, written while the player reads.

After a reply, ``Session.ahead_job`` lays out (on the UI thread) what to write: the prompt
that reply was written from, and how many more replies to reach ``candidates``.
``Session.write_ahead`` runs it on a worker, where it touches only the backend, and drops each
finished reply into ``Ahead``'s inbox; ``Session.collect_ahead`` (UI thread again) moves them
into the turn's ``ahead`` list, which saves keep. Retry then shows the first of them at once.
Anything that changes the story before the last reply makes them stale: ``Ahead.drop``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.model import Turn


@dataclass
class AheadJob:
    """What to write ahead for one reply; laid out while the session is idle."""

    turn: Turn  # the reply they are alternatives of
    prompt: list[int]
    sampling: Sampling
    stops: list[str]
    count: int
    keep: tuple[int, ...]  # backend slots holding replies already written ahead
    recent: list[str]  # the replies before it, for the loop check
    whole: bool  # cut to whole sentences (not in story mode)
    generation: int


@dataclass
class _Written:
    generation: int
    cleaned: str
    slot: int | None


@dataclass
class Ahead:
    """Which reply the turn's ``ahead`` list belongs to, which backend slot holds each
    (aligned with ``turn.ahead``; None: not held, e.g. read from a save), and what a worker
    has written that the UI thread has not taken in yet."""

    turn: Turn | None = None
    prompt: list[int] | None = None  # the prompt they answer; None: unknown (a loaded save)
    slots: list[int | None] = field(default_factory=list)
    generation: int = 0  # bumped whenever they go stale: late arrivals are then thrown away
    _inbox: list[_Written] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, turn: Turn, prompt: list[int]) -> None:
        """A new reply: the ones written ahead will answer ``prompt`` as it did. (The reply
        before keeps the ones it had; no cache holds them any more.)"""
        with self._lock:
            self.generation += 1
            self._inbox.clear()
        self.turn, self.prompt = turn, list(prompt)
        self.slots = [None] * len(turn.ahead)

    def drop(self) -> None:
        """Forget them (the story changed under them) and ignore any still on their way
        (the session clears the turn's list)."""
        with self._lock:
            self.generation += 1
            self._inbox.clear()
        self.turn, self.prompt, self.slots = None, None, []

    def post(self, generation: int, cleaned: str, slot: int | None) -> None:
        """From the worker: one more reply written."""
        with self._lock:
            if generation == self.generation:
                self._inbox.append(_Written(generation, cleaned, slot))

    def take(self) -> list[_Written]:
        with self._lock:
            items, self._inbox = [i for i in self._inbox if i.generation == self.generation], []
        return items

    def slot_of(self, index: int) -> int | None:
        return self.slots[index] if index < len(self.slots) else None

    def pop(self, index: int) -> tuple[str, int | None]:
        """Take ``turn.ahead[index]`` out, with the slot holding it."""
        assert self.turn is not None
        slot = self.slot_of(index)
        if index < len(self.slots):
            del self.slots[index]
        return self.turn.ahead.pop(index), slot
