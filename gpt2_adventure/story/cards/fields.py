"""How a character card's JSON fields are read (typed and size-checked, by
``story.fields``), and the card macros.

Every error names the field by its path in the card (``data.character_book.entries[2].keys``)
so the player can find it. Text is data: it is kept as written, except NUL characters
(stripped), lone surrogates, which JSON allows but no file or terminal can encode
(replaced with U+FFFD), and Windows or old Mac line ends (``\r\n``, ``\r``), which become
``\n`` (GPT-2 saw few carriage returns, and a stray one breaks the chat's line format).
"""

from __future__ import annotations

import re
from typing import Any

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.fields import Fields, Rules

MAX_FIELD_CHARS = 100_000  # per text field
MAX_NAME_CHARS = 200  # the name is a speaker label in every chat line
MAX_LIST_ITEMS = 1_000  # greetings, keys of one entry, tags
MAX_WORLD_ENTRIES = 1_000

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Drop NULs, replace lone surrogates, make line ends ``\n``: the rest is kept exactly."""
    text = text.replace("\0", "").replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub("\ufffd", text)


# Cards say "field data.name must be text, not a number", and cap every text and list.
CARD = Rules(error=UserError, clean=clean, label="field ", verb="must be", list_of_text="a list",
             null_items_are_empty=False, max_chars=MAX_FIELD_CHARS, max_items=MAX_LIST_ITEMS)


def card_fields(data: dict[str, Any], where: str, prefix: str = "") -> Fields:
    return Fields(data, where, CARD, prefix)


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
