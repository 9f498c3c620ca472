"""Clean up what GPT-2 wrote before it joins the story, and notice when it loops."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from difflib import SequenceMatcher

_SENTENCE_END = re.compile(r"""[.!?…]["')\]]*(?=\s|$)""")


def cut_at_markers(text: str, markers: Sequence[str]) -> str:
    """Drop everything from the first marker on (the model writing the player's turn)."""
    cut = len(text)
    for marker in markers:
        at = text.find(marker)
        if at >= 0:
            cut = min(cut, at)
    return text[:cut]


def cut_to_sentence(text: str) -> str:
    """End at the last complete sentence; text without any sentence end is kept whole."""
    ends = list(_SENTENCE_END.finditer(text))
    return text[: ends[-1].end()] if ends else text


def tidy(text: str) -> str:
    """Normalise whitespace and close a dangling double quote."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = text.rstrip()
    if text.count('"') % 2 == 1:
        text += '"'
    return text


def clean_reply(text: str, markers: Sequence[str], *, whole_sentences: bool = True) -> str:
    """The full post-processing of one reply. Keeps GPT-2's leading space or newline (one)."""
    text = cut_at_markers(text, markers)
    if whole_sentences:
        text = cut_to_sentence(text)
    lead = text[: len(text) - len(text.lstrip())]
    body = tidy(text.lstrip())
    if not body:
        return ""
    return ("\n" if "\n" in lead else " " if lead else "") + body


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def repeated_ngram(text: str, n: int = 4, times: int = 3) -> str | None:
    """An n-word phrase occurring ``times`` or more in ``text`` (GPT-2's loops), or None."""
    words = _words(text)
    grams = Counter(tuple(words[i: i + n]) for i in range(len(words) - n + 1))
    for gram, count in grams.most_common(1):
        if count >= times:
            return " ".join(gram)
    return None


def too_similar(reply: str, recent: Sequence[str], threshold: float = 0.8) -> bool:
    """Is ``reply`` nearly the same as one of the recent replies?"""
    mine = " ".join(_words(reply))
    if len(mine) < 20:
        return False
    return any(SequenceMatcher(None, mine, " ".join(_words(other))).ratio() >= threshold
               for other in recent if other.strip())


def loop_reason(reply: str, recent: Sequence[str]) -> str | None:
    """Why ``reply`` looks like a loop (for the re-roll), or None when it is fine."""
    phrase = repeated_ngram(reply)
    if phrase:
        return f"repeats {phrase!r}"
    if too_similar(reply, recent):
        return "repeats an earlier reply"
    return None
