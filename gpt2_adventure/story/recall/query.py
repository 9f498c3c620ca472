"""What to search the story for: the salient words of the newest action and the last turns.

Without a part-of-speech tagger, salient means: not a stop word, at least three letters, and
from the turns before the action only names (capitalised words that do not start a sentence)
and longer words. The index drops words the story uses everywhere (see ``RecallIndex``), so
what is left are the names and nouns that single a passage out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Letters and digits, as FTS5's unicode61 tokenizer splits words (a possessive stays on).
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_SENTENCE_ENDS = (".", "!", "?", "…", ">", ":", '"', "“")  # what a sentence starts after

_STOP_TEXT = """
a about above across after again against all almost alone along already also although always am
among an and another any anyone anything are around as ask asked at away back be because become
been before behind being below beside besides between beyond both but by came can cannot come
could did do does doing done down during each either else enough even ever every everyone
everything far few find for found from further get gets getting give given go goes going gone
got had has have having he her here hers herself him himself his how however i if in inside
into is it its itself just keep know knew last least left less let like look looked looking
looks made make makes many may maybe me might mine more most much must my myself near need
never new next no nobody none nor not nothing now of off often oh ok okay on once one only onto
or other others our ours ourselves out outside over own perhaps please put quite rather really
right said same saw say says see seem seemed seems seen she should since so some someone
something soon still such take taken takes tell than that the their theirs them themselves then
there these they thing things think this those though through thus till to too took toward
towards try turn turned under until up upon us use used very want wants was way we well went
were what whatever when where whether which while who whom whose why will with within without
would yes yet you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
CONTEXT_MIN_LETTERS = 5  # a common word from the last turns must be at least this long
MAX_TERMS = 16


@dataclass(frozen=True)
class Query:
    """Words to search for; ``strong`` ones (from the newest action) count double, and
    ``names`` (of either) may be more common in the story than other words."""

    strong: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()
    names: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.strong or self.weak)


def words(text: str) -> list[tuple[str, bool]]:
    """(word, is a name) for each word of ``text``: a name is capitalised and does not start
    a sentence."""
    out = []
    for match in WORD.finditer(text):
        word = match.group()
        before = text[max(0, match.start() - 8):match.start()].rstrip()
        starts = not before or before.endswith(_SENTENCE_ENDS)
        out.append((word, word[0].isupper() and not starts))
    return out


def salient(word: str) -> bool:
    """Worth searching for (or naming): at least three letters, not a stop word, a
    possessive or a number."""
    low = word.lower()
    return (len(low) >= 3 and low not in STOP_WORDS and not low.endswith(("'s", "’s"))
            and not low.isdigit())


def build_query(action: str, recent: Sequence[str], limit: int = MAX_TERMS) -> Query:
    """The words of the player's newest ``action`` (all salient ones) and, from the ``recent``
    turns (newest last), the names and longer words, newest first; each word once."""
    seen: set[str] = set()
    names: set[str] = set()
    strong: list[str] = []
    for word, name in words(action):
        key = word.lower().removesuffix("'s").removesuffix("’s")
        if salient(key) and key not in seen:
            seen.add(key)
            strong.append(key)
            if name:
                names.add(key)
    weak: list[str] = []
    for text in reversed(recent):
        for word, name in words(text):
            key = word.lower().removesuffix("'s").removesuffix("’s")
            if key in seen or not salient(key):
                continue
            if name or len(key) >= CONTEXT_MIN_LETTERS:
                seen.add(key)
                weak.append(key)
                if name:
                    names.add(key)
    strong = strong[:limit]
    return Query(tuple(strong), tuple(weak[:max(0, limit - len(strong))]), frozenset(names))


def tells_more(text: str, query: Query, least: int = 2) -> bool:
    """Whether ``text`` has at least ``least`` salient words the query does not: a passage
    that only names what was asked about ("You talk to Brannoc.") tells the model nothing."""
    asked = {*query.strong, *query.weak}
    new = {w.lower() for w, _ in words(text)} - asked
    return sum(1 for w in new if salient(w)) >= least
