"""Where lore came into a reply mid-way (``story/midreply.py``), marked in the transcript.

A mark is a small dim note, ``[lore: blacksmith]``, at the place in the reply where the
entry was put in view. While the reply streams, its place is an offset into the streamed
text; once the reply is in the story, that text has been cleaned up (whitespace, a sentence
cut off at the end, a chat speaker's name before it), so the place is found again by the
words before it. The marks are the transcript's, for this sitting: not saved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text

MARK_STYLE = "dim italic"
Mark = tuple[int, str]  # (characters of the text before it, the keys it names)


def mark_label(keys: Sequence[str]) -> str:
    return "lore: " + ", ".join(keys)


def marked(text: Text, marks: Sequence[Mark]) -> Text:
    """``text`` with each mark put in at its place (places past its end go at its end)."""
    if not marks:
        return text
    out = Text(style=text.style)
    at = 0
    for place, label in sorted(marks):
        place = max(at, min(place, len(text)))
        out.append_text(text[at:place])
        space = " " if place and not text.plain[place - 1].isspace() else ""
        out.append(f"{space}[{label}]", style=MARK_STYLE)
        at = place
    out.append_text(text[at:])
    return out


def place_in(shown: str, streamed: str, offset: int) -> int | None:
    """Where ``offset`` characters into the ``streamed`` reply fall in ``shown``, the turn's
    text as the transcript shows it (which ends with the reply's words as far as they were
    kept, perhaps after a speaker's name or the words of a reply this one continued); None
    when the words before it are not there (cut off, or another text altogether)."""
    before = streamed[:offset].split()
    if not before:
        return None
    mid_word = offset < len(streamed) and not streamed[offset].isspace() \
        and not streamed[offset - 1].isspace()
    words = streamed.split()
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", shown)]
    plain = [shown[a:b] for a, b in spans]
    # The earliest place from which the shown words are the streamed ones to the end (a
    # clean-up may have cut the last sentence short, or closed a quote).
    for start in range(len(plain)):
        kept = plain[start:]
        n = len(kept)
        if n < len(before) or n > len(words) or kept[:-1] != words[:n - 1]:
            continue
        if not (kept[-1].startswith(words[n - 1]) or words[n - 1].startswith(kept[-1])):
            continue
        last = start + len(before) - 1
        return spans[last][0] + len(before[-1]) if mid_word else spans[last][1]
    return None
