"""The unit recall indexes and shows: a sentence of a turn (a passage is one or a few)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? or … (a closing quote or bracket stays with it), or at a line end.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"'”’)\]])\s+")
_ACTION_MARK = re.compile(r"^\s*>\s*")
MAX_PARTS = 1024  # sentences indexed per turn; the rest join the last one
SHORT = 40  # characters: a hit this short brings the next sentence of its turn along


def sentences(text: str) -> list[str]:
    """The sentences of a turn's text, trimmed, without an action's ``>`` mark."""
    out = []
    for line in text.split("\n"):
        line = _ACTION_MARK.sub("", line)
        out += [s.strip() for s in _SENTENCE_END.split(line) if s and s.strip()]
    if len(out) > MAX_PARTS:
        out[MAX_PARTS - 1:] = [" ".join(out[MAX_PARTS - 1:])]
    return out


def passage_text(parts: list[str], part: int) -> str:
    """The passage around sentence ``part``: the sentence, and the next one of the same turn
    when it is short (a name alone says little)."""
    text = parts[part]
    if len(text) < SHORT and part + 1 < len(parts):
        text += " " + parts[part + 1]
    return text


@dataclass(frozen=True)
class Passage:
    """A passage found for the prompt: ``text`` from sentence ``part`` of turn ``turn``."""

    turn: int
    part: int
    text: str
    score: float = 0.0
