"""Make model output, seed text and file names safe to print: data, never terminal commands;
and tell whether a stream is a terminal at all."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, the bidi marks, overrides and isolates
# that can make text read differently from what it is, and the invisible characters that can
# hide text or make two different texts look the same: zero-width space, word joiner and the
# invisible operators, the byte-order mark, the Mongolian vowel separator, deprecated format
# controls, interlinear annotations, line/paragraph separators (terminals disagree on them) and
# the tag characters ("ASCII smuggling"). Zero-width (non-)joiners stay: Persian, the Indic
# scripts and emoji sequences need them, and they hide nothing.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b\u200e\u200f\u2028-\u202e"
                     "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """Replace control, bidi and invisible characters with visible escapes (``\\x1b``)."""
    return _UNSAFE.sub(_visible, text)


def is_terminal(stream: object) -> bool:
    """Whether ``stream`` is a terminal (any object: a test passes a StringIO, or None)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return callable(isatty) and bool(isatty())
    except ValueError:  # a closed stream
        return False
