"""Which recalled passages go into a prompt, and which stay: the rules, apart from the layout.

A placed passage is ``(turn it comes from, its sentence there, the turn it goes before,
its text)``; ``ContextBuilder`` keeps them in ``Plan.recall`` and lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.story.recall.passages import passage_text, sentences
from gpt2_adventure.story.recall.query import build_query, tells_more

if TYPE_CHECKING:
    from gpt2_adventure.story.recall.recall import Recall

Placed = tuple[int, int, int, str]


def still_placed(placed: Sequence[Placed], turns: Sequence[Turn], window_start: int
                 ) -> tuple[Placed, ...]:
    """The placed passages that still hold: from a turn still out of view and still reading
    as it did (an undo or an edit drops the others), clamped into the window."""
    n = len(turns)
    kept = []
    for turn, part, at, text in placed:
        if turn >= window_start or turn >= n:
            continue
        parts = sentences(turns[turn].text)
        if part < len(parts) and passage_text(parts, part) == text:
            kept.append((turn, part, min(max(at, window_start), n), text))
    return tuple(kept)


@dataclass(frozen=True)
class Choice:
    added: tuple[Placed, ...] = ()
    waiting: bool = False  # a passage about a name in the action found no room
    asked: frozenset[str] = frozenset()  # the names the action asks about (lower case)


def to_give_up(placed: Sequence[Placed], asked: frozenset[str]) -> int | None:
    """Which placed passage (its index) makes room for one about a name the player asks
    about now: the one placed last, since the prompt changes from where it stood (the
    less story after it, the less is evaluated again), never one about a name asked now
    too; None when there is none."""
    candidates = [i for i, (*_, text) in enumerate(placed)
                  if not any(name in text.lower() for name in asked)]
    return max(candidates, key=lambda i: (placed[i][2], i)) if candidates else None


def choose(recall: Recall, state: StoryState, placed: Sequence[Placed], window_start: int,
           room: int, share: int, cost: Callable[[str], int], per_turn: int,
           scan_turns: int, shown: Sequence[str] = ()) -> Choice:
    """New passages for the next prompt: found with the newest action and the last
    ``scan_turns`` turns, out of view, not already in view, telling more than the question,
    at most ``per_turn``, costing at most ``room`` tokens (``share`` is the whole recall
    share), placed where the story has got to (before the player's newest line). ``shown``:
    more text the prompt holds (world entries: automatic lore tells what recall would)."""
    turns = state.turns
    n = len(turns)
    newest = turns[-1] if turns and turns[-1].role == "player" else None
    action = (newest.raw or newest.text) if newest is not None else ""
    recent = [t.text for t in turns[max(window_start, n - scan_turns):n] if t is not newest]
    query = build_query(action, recent)
    if not query:
        return Choice()
    named = query.names.intersection(query.strong)
    found = recall.find(state, query, window_start, limit=4 * per_turn + 4)
    in_view = "\n".join([state.memory, *(t.text for t in turns[window_start:]),
                         *(text for *_, text in placed), *shown])
    at = max(n - 1 if newest is not None else n, window_start)
    added: list[Placed] = []
    waiting = False
    for passage in found:
        if passage.text in in_view or any(passage.text == a[3] for a in added):
            continue  # never what the model can already see
        if not tells_more(passage.text, query):
            continue
        price = cost(passage.text)
        if price > room:
            words = passage.text.lower()
            waiting = waiting or (price <= share and any(name in words for name in named))
            continue
        room -= price
        added.append((passage.turn, passage.part, at, passage.text))
        if len(added) >= per_turn:
            break
    return Choice(tuple(added), waiting and not added, frozenset(named))
