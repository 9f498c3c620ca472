"""Write a Seed as a format-1 TOML seed file (importers use this to save into the player's dir).

Texts are written so they read back exactly: backslashes, quotes and control characters are
escaped, and texts with line breaks become multi-line strings for easy editing.
"""

from __future__ import annotations

import math
import re
from typing import Any

from gpt2_adventure.story.model import NO_SCENE, Seed, WorldEntry

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# Escaped for TOML (C0 controls, DEL) and, though TOML would allow them, C1 controls and the
# bidi overrides/isolates, so the file shows what is in it.
_NAMED = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\f": "\\f", "\r": "\\r"}


def _escape_char(char: str, multiline: bool) -> str:
    if char in _NAMED:
        return _NAMED[char]
    if char == "\n":
        return "\n" if multiline else "\\n"
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F or 0x200E <= code <= 0x200F \
            or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return f"\\u{code:04X}"
    return char


def _wrapped(line: str, width: int) -> list[str]:
    """``line`` cut after spaces into pieces of about ``width`` characters.

    Each piece but the last ends with a space and the next starts with a non-blank, so a
    line-ending backslash (which eats the newline and the blanks after it) joins them back
    exactly.
    """
    pieces: list[str] = []
    start = 0
    while len(line) - start > width:
        cut = line.rfind(" ", start + 1, start + width)
        while cut > start and line[cut + 1:cut + 2] in (" ", "\t", ""):
            cut = line.rfind(" ", start + 1, cut)
        if cut <= start:
            break
        pieces.append(line[start:cut + 1])
        start = cut + 1
    pieces.append(line[start:])
    return pieces


def toml_string(text: str, width: int = 88) -> str:
    """A TOML string that reads back as exactly ``text``; long or multi-line texts become
    multi-line strings wrapped near ``width`` columns."""
    if "\n" not in text and len(text) <= width:
        return '"' + "".join(_escape_char(c, False) for c in text) + '"'
    lines = []
    for line in text.split("\n"):
        pieces = ["".join(_escape_char(c, True) for c in piece)
                  for piece in _wrapped(line, width)]
        lines.append("\\\n".join(pieces))
    # The newline right after the opening quotes is dropped by TOML readers.
    return '"""\n' + "\n".join(lines) + '"""'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(str(k))} = {_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to a seed file")


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else toml_string(name)


def _texts(items: tuple[str, ...]) -> str:
    written = [toml_string(item) for item in items]
    if any("\n" in item for item in written):
        return "[\n" + "".join(f"{item},\n" for item in written) + "]"
    return _value(list(items))


def world_table(entry: WorldEntry) -> list[str]:
    """One ``[[world]]`` table's lines."""
    out = ["[[world]]"]
    if entry.keys:
        out.append(f"keys = {_texts(entry.keys)}")
    if entry.secondary_keys:
        out.append(f"secondary_keys = {_texts(entry.secondary_keys)}")
    if entry.always:
        out.append("always = true")
    if entry.comment:
        out.append(f"comment = {toml_string(entry.comment)}")
    out.append(f"content = {toml_string(entry.content)}")
    return out


def to_toml(seed: Seed) -> str:
    """The seed as TOML text that ``load_seed`` reads back to an equal Seed (``id`` aside)."""
    out = ["format = 1", f"title = {toml_string(seed.title)}"]
    for key in ("genre", "description"):
        if getattr(seed, key):
            out.append(f"{key} = {toml_string(getattr(seed, key))}")
    out.append(f"mode = {toml_string(seed.mode)}")
    if seed.openings != (NO_SCENE,) or seed.chat is None or not seed.chat.greeting.strip():
        out += ["", f"openings = {_texts(seed.openings)}"]
    if seed.memory:
        out += ["", f"memory = {toml_string(seed.memory)}"]
    if seed.authors_note:
        out.append(f"authors_note = {toml_string(seed.authors_note)}")
    for placeholder in seed.placeholders:
        out += ["", "[[placeholders]]", f"name = {toml_string(placeholder.name)}",
                f"question = {toml_string(placeholder.question)}"]
        if placeholder.default:
            out.append(f"default = {toml_string(placeholder.default)}")
    for entry in seed.world:
        out += ["", *world_table(entry)]
    if seed.sampling:
        out += ["", "[sampling]"]
        out += [f"{_key(key)} = {_value(value)}" for key, value in seed.sampling.items()]
    if seed.chat:
        chat = seed.chat
        out += ["", "[chat]", f"character = {toml_string(chat.character)}",
                f"player = {toml_string(chat.player)}"]
        if chat.others:
            out.append(f"others = {_texts(chat.others)}")
        for key in ("persona", "example_dialogue", "greeting"):
            if getattr(chat, key):
                out.append(f"{key} = {toml_string(getattr(chat, key))}")
        if chat.alternate_greetings:
            out.append(f"alternate_greetings = {_texts(chat.alternate_greetings)}")
    return "\n".join(out) + "\n"
