"""Typed, size-checked access to a character card's JSON fields, and the card macros.

Every error names the field by its path in the card (``data.character_book.entries[2].keys``)
so the player can find it. Text is data: it is kept as written, except NUL characters
(stripped) and lone surrogates, which JSON allows but no file or terminal can encode
(replaced with U+FFFD).
"""

from __future__ import annotations

import re
from typing import Any

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.json_kind import kind

MAX_FIELD_CHARS = 100_000  # per text field
MAX_NAME_CHARS = 200  # the name is a speaker label in every chat line
MAX_LIST_ITEMS = 1_000  # greetings, keys of one entry, tags
MAX_WORLD_ENTRIES = 1_000

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Drop NULs, replace lone surrogates: everything else is kept exactly."""
    return _SURROGATE.sub("\ufffd", text.replace("\0", ""))


class Fields:
    """One JSON object of the card; missing and ``null`` fields read as empty."""

    def __init__(self, raw: dict[str, Any], prefix: str, where: str) -> None:
        self.raw = raw
        self.prefix = prefix
        self.where = where

    def path(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def error(self, key: str, problem: str) -> UserError:
        return UserError(f"field {self.path(key)} {problem}", self.where)

    def text(self, key: str, limit: int = MAX_FIELD_CHARS) -> str:
        value = self.raw.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.error(key, f"must be text, not {kind(value)}")
        if len(value) > limit:
            raise self.error(key, f"is too long ({len(value):,} characters; at most {limit:,})")
        return clean(value)

    def texts(self, key: str, limit: int = MAX_LIST_ITEMS) -> list[str]:
        items = self._list(key, limit)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.error(f"{key}[{i}]", f"must be text, not {kind(item)}")
            if len(item) > MAX_FIELD_CHARS:
                raise self.error(f"{key}[{i}]", f"is too long ({len(item):,} characters; "
                                 f"at most {MAX_FIELD_CHARS:,})")
        return [clean(item) for item in items]

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {kind(value)}")
        return value

    def obj(self, key: str) -> Fields | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"must be an object, not {kind(value)}")
        return Fields(value, f"{self.path(key)}.", self.where)

    def objs(self, key: str, limit: int) -> list[Fields]:
        items = self._list(key, limit)
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.error(f"{key}[{i}]", f"must be an object, not {kind(item)}")
        return [Fields(item, f"{self.path(key)}[{i}].", self.where)
                for i, item in enumerate(items)]

    def filled(self, key: str) -> bool:
        """Whether the field holds anything worth mentioning when we ignore it."""
        value = self.raw.get(key)
        return bool(value.strip()) if isinstance(value, str) else bool(value)

    def _list(self, key: str, limit: int) -> list[Any]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, not {kind(value)}")
        if len(value) > limit:
            raise self.error(key, f"has too many items ({len(value):,}; at most {limit:,})")
        return value


# {{char}} / {{user}} (SillyTavern, any case, inner spaces allowed) and <BOT> / <USER>
# (TavernAI), with an optional possessive ("{{user}}'s" -> "your") or a following auxiliary
# verb ("{{user}} is" -> "you are"): cards describe the player in the third person.
_MACRO = re.compile(r"(?:\{\{\s*(char|user)\s*\}\}|<(bot|user)>)"
                    r"(?:((?:'|\u2019)s\b)|(\s+)(is|was|has|does)(n't|n\u2019t)?\b)?",
                    re.IGNORECASE)
_YOU_VERBS = {"is": "are", "was": "were", "has": "have", "does": "do"}
_LEAD_IN = " \t\"'*_(\u201c\u2018"  # what may sit between a sentence start and the word
_SENTENCE_END = ".!?:\n\u2026"


def substitute(text: str, character: str, player: str = "You") -> str:
    """Replace the card macros with the character's and the player's names.

    When the player is "You", the word is written as prose: "you"/"your" mid-sentence,
    "You"/"Your" at the start of a line or sentence (so "{{user}}: hi" -> "You: hi"), and
    is/was/has/does right after it agree with "you".
    """

    def name(match: re.Match[str]) -> str:
        who = (match[1] or match[2]).lower()
        possessive, space, verb, negation = match[3], match[4], match[5], match[6] or ""
        rest = possessive or (space + verb + negation if verb else "")
        if who in ("char", "bot"):
            return character + rest
        if player != "You":
            return player + rest
        word = "your" if possessive else "you"
        if _starts_sentence(text, match.start()):
            word = word.capitalize()
        if verb:
            agreed = _YOU_VERBS[verb.lower()]
            word += space + (agreed.capitalize() if verb[0].isupper() else agreed) + negation
        return word

    return _MACRO.sub(name, text)


def _starts_sentence(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and text[i] in _LEAD_IN:
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END
