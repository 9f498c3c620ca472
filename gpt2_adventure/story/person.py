"""Turn what the player types into the second-person actions GPT-2 saw in AI Dungeon 2.

"I open my bag" -> "You open your bag"; "look around" -> "You look around".
"""

from __future__ import annotations

import re

# Whole-word replacements, first person -> second person. Order matters for the contractions.
_SWAPS: tuple[tuple[str, str], ...] = (
    (r"I'm", "you're"), (r"I've", "you've"), (r"I'll", "you'll"), (r"I'd", "you'd"),
    (r"I am", "you are"), (r"I was", "you were"), (r"am I", "are you"), (r"was I", "were you"),
    (r"myself", "yourself"), (r"mine", "yours"), (r"my", "your"), (r"me", "you"),
    (r"ourselves", "yourselves"), (r"I", "you"),
)
_PATTERN = re.compile(r"\b(" + "|".join(re.escape(a) for a, _ in _SWAPS) + r")\b",
                      re.IGNORECASE)
_LOOKUP = {a.lower(): b for a, b in _SWAPS}


def _swap(match: re.Match[str]) -> str:
    return _LOOKUP[match.group(0).lower()]


def to_second_person(text: str) -> str:
    """Swap first-person words for second-person ones, outside double quotes."""
    parts = re.split(r'("[^"]*")', text)
    return "".join(p if p.startswith('"') else _PATTERN.sub(_swap, p) for p in parts)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _end_sentence(text: str) -> str:
    return text if text[-1:] in ".!?\"'…" else text + "."


def format_do(text: str) -> str:
    """'I open the door' / 'open the door' -> 'You open the door.'"""
    text = " ".join(text.split())
    if not text:
        return ""
    swapped = to_second_person(text)
    if not re.match(r"you\b", swapped, re.IGNORECASE):
        swapped = "you " + swapped[:1].lower() + swapped[1:]
    return _end_sentence(_capitalise(swapped))


def format_say(text: str) -> str:
    """'hello there' -> 'You say "Hello there."' (quotes the player already typed are kept)."""
    text = " ".join(text.split())
    if not text:
        return ""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    return f'You say "{_end_sentence(_capitalise(text))}"'
