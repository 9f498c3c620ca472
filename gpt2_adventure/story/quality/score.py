"""A cheap score for one reply, so that retry and ``/alt`` show the best of a turn's first.

Five parts, each from 0 to 1, and their weighted mean (the weights sum to 1; a part with
nothing to measure is left out and the rest weigh in its place):

- no loop (0.30): 0 when a 4-word phrase comes three times (``postprocess.repeated_ngram``, what
  the re-roll refuses: a reply may keep one after the last re-roll), else 1 - seq-rep-4
  (``metrics.seq_rep_n``, the share of its 4-grams that repeat one before them).
- new (0.25): the share of its 4-grams that no earlier turn has; under 4 words, whether its
  sentences are new (``metrics.sentences``). Catches a reply that repeats an earlier turn.
- action taken up (0.20): the share of the content words of the player's last action
  (``metrics.content_words``) that the reply uses; left out for an action without one
  (going on, "look").
- whole sentence (0.15): 1 when it ends a sentence (. ! ? …, a closing quote or bracket after
  it allowed), else 0.
- length (0.10): 1 from ``SHORT`` to ``LONG`` words; under, the share of ``SHORT`` it has;
  over, ``LONG`` / its words.

Pure functions of text (no model, no story objects): microseconds per reply, tested on texts
with known results.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gpt2_adventure.story.postprocess import repeated_ngram
from gpt2_adventure.story.quality.metrics import (
    content_words,
    ngrams,
    sentences,
    seq_rep_n,
    words,
)

WEIGHTS = {"no_loop": 0.30, "new": 0.25, "uptake": 0.20, "whole": 0.15, "length": 0.10}
SHORT = 4  # words: fewer is a thin reply ("It is.", "Yes."); above, length does not rank
LONG = 150  # words: more is a rambling one (60 tokens, AI Dungeon 2's reply, is ~45 words)
_WHOLE = re.compile(r"""[.!?…]["'”’)\]]*\s*\Z""")


@dataclass(frozen=True)
class Score:
    """A reply's score (``value``) and its parts (``uptake`` None: nothing to take up)."""

    value: float
    no_loop: float
    new: float
    uptake: float | None
    whole: float
    length: float


def no_loop(reply: str) -> float:
    if repeated_ngram(reply) is not None:
        return 0.0
    rep = seq_rep_n(reply, 4)
    return 1.0 if rep is None else 1.0 - rep


def novelty(reply: str, earlier: Sequence[str]) -> float:
    """The share of ``reply``'s 4-grams (under 4 words: sentences) that ``earlier`` lacks."""
    mine = ngrams(words(reply), 4)
    if mine:
        seen = {g for text in earlier for g in ngrams(words(text), 4)}
        return sum(1 for g in mine if g not in seen) / len(mine)
    said = sentences(reply)
    if not said:
        return 0.0
    before = {s for text in earlier for s in sentences(text)}
    return sum(1 for s in said if s not in before) / len(said)


def uptake(reply: str, action: str) -> float | None:
    """The share of ``action``'s content words that ``reply`` uses; None if it has none."""
    wanted = content_words(action)
    if not wanted:
        return None
    return len(wanted & content_words(reply)) / len(wanted)


def whole_sentence(reply: str) -> float:
    return 1.0 if _WHOLE.search(reply) else 0.0


def length(reply: str, short: int = SHORT, long: int = LONG) -> float:
    n = len(words(reply))
    if n < short:
        return n / short
    return 1.0 if n <= long else long / n


def score_reply(reply: str, *, earlier: Sequence[str] = (), action: str = "") -> Score:
    """``reply``'s score as an answer to ``action`` after the turns ``earlier`` (replies and
    the opening, not the player's lines: a reply may take up the action's words)."""
    parts: dict[str, float | None] = {
        "no_loop": no_loop(reply), "new": novelty(reply, earlier),
        "uptake": uptake(reply, action), "whole": whole_sentence(reply),
        "length": length(reply)}
    weighed = {k: v for k, v in parts.items() if v is not None}
    total = sum(WEIGHTS[k] for k in weighed)
    value = sum(WEIGHTS[k] * v for k, v in weighed.items()) / total
    return Score(value=value, no_loop=parts["no_loop"] or 0.0, new=parts["new"] or 0.0,
                 uptake=parts["uptake"], whole=parts["whole"] or 0.0,
                 length=parts["length"] or 0.0)


def best_first(scores: Sequence[float]) -> list[int]:
    """Indices of ``scores`` from the highest down; equal ones keep their order."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])
