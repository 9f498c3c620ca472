"""Text metrics for replies, each a plain function of text with a known value by hand.

Words are lowercase runs of letters, digits and apostrophes (punctuation dropped), so
"The door." and "the door" are the same two words. A metric with nothing to measure (a text
shorter than its n-gram) gives None rather than a number that would look like a result.

- distinct-n (Li et al. 2016): distinct n-grams / all n-grams, over several texts (n-grams
  never run from one text into the next). Low: the same phrases again and again.
- seq-rep-n (Welleck et al. 2019): within one text, 1 - distinct n-grams / all n-grams,
  the share of its n-grams that repeat one before them. High: a loop inside a reply.
- sentence-loop rate (after Xu et al. 2022, DITTO): the share of sentences equal to one of
  the ten before them (compared as words). Human text repeats ~0.02% of its sentences.
- self-BLEU-4 (Zhu et al. 2018, Texygen): each alternative of a turn scored by BLEU-4
  (Papineni et al. 2002: clipped 1..4-gram precisions, geometric mean, brevity penalty
  against the reference of the closest length) against the others, averaged. Zero matches
  of an order count as 0.1 of a match (NLTK's smoothing method 1), so one missing order does
  not zero the score. High: retry offers nothing new.
- action uptake: whether a reply uses a content word of the player's action (a word of 3+
  letters that is not a stop word; a plural's "s" ignored).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"[a-z0-9']+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
SMOOTHING = 0.1  # NLTK's method 1 epsilon for an order with no match
LOOP_WINDOW = 10  # sentences looked back on
_STOP_WORDS = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves try go get let
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(items: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(items[i:i + n]) for i in range(len(items) - n + 1)]


def distinct_n(texts: Iterable[str], n: int) -> float | None:
    """Distinct n-grams over all n-grams of ``texts``; None without any n-gram."""
    grams = [g for text in texts for g in ngrams(words(text), n)]
    return len(set(grams)) / len(grams) if grams else None


def seq_rep_n(text: str, n: int = 4) -> float | None:
    """The share of ``text``'s n-grams that repeat an earlier one; None under n words."""
    grams = ngrams(words(text), n)
    return 1 - len(set(grams)) / len(grams) if grams else None


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split after . ! ? and at line ends), as word strings;
    a piece without a word is left out."""
    out = []
    for piece in _SENTENCE_END.split(text):
        said = " ".join(words(piece))
        if said:
            out.append(said)
    return out


def sentence_loops(said: Sequence[str], window: int = LOOP_WINDOW) -> int:
    """How many of the sentences ``said`` (in order) equal one of the ``window`` before."""
    return sum(1 for i, s in enumerate(said) if s in said[max(0, i - window):i])


def sentence_loop_rate(said: Sequence[str], window: int = LOOP_WINDOW) -> float | None:
    return sentence_loops(said, window) / len(said) if said else None


def bleu(hypothesis: Sequence[str], references: Sequence[Sequence[str]],
         max_n: int = 4) -> float | None:
    """Sentence BLEU-``max_n`` of word lists; None when the hypothesis is shorter than
    ``max_n`` words or there is no reference."""
    if len(hypothesis) < max_n or not references:
        return None
    logs = 0.0
    for n in range(1, max_n + 1):
        counts = Counter(ngrams(hypothesis, n))
        most = Counter[tuple[str, ...]]()
        for ref in references:
            for gram, count in Counter(ngrams(ref, n)).items():
                most[gram] = max(most[gram], count)
        matched = sum(min(count, most[gram]) for gram, count in counts.items())
        total = sum(counts.values())
        logs += math.log((matched or SMOOTHING) / total) / max_n
    c = len(hypothesis)
    r = min((abs(len(ref) - c), len(ref)) for ref in references)[1]
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return brevity * math.exp(logs)


def self_bleu(alternatives: Sequence[str], max_n: int = 4) -> float | None:
    """Mean BLEU of each alternative against the others; None under two alternatives or
    when none is long enough."""
    if len(alternatives) < 2:
        return None
    split = [words(a) for a in alternatives]
    scores = [bleu(hyp, split[:i] + split[i + 1:], max_n) for i, hyp in enumerate(split)]
    kept = [s for s in scores if s is not None]
    return sum(kept) / len(kept) if kept else None


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") \
        else word


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in words(text) if len(w) >= 3 and w not in STOP_WORDS}


def takes_up(action: str, reply: str) -> bool | None:
    """Whether ``reply`` uses a content word of ``action``; None when it has none."""
    wanted = content_words(action)
    if not wanted:
        return None
    return bool(wanted & {_stem(w) for w in words(reply)})
