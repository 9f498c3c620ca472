"""How a character card's JSON fields are read (typed and size-checked, by
``story.fields``), and the card macros.

Every error names the field by its path in the card (``data.character_book.entries[2].keys``)
so the player can find it. Text is data: it is kept as written, except NUL characters
(stripped), lone surrogates, which JSON allows but no file or terminal can encode
(replaced with U+FFFD), and Windows or old Mac line ends (``\r\n``, ``\r``), which become
``\n`` (GPT-2 saw few carriage returns, and a stray one breaks the chat's line format).
"""

from __future__ import annotations

import random
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
# (TavernAI), with an optional possessive ("{{user}}'s" -> "your") or the word after it,
# which may be a verb to agree with "you" ("{{user}} is" -> "you are", "{{user}} wakes" ->
# "you wake"): cards describe the player in the third person.
_MACRO = re.compile(r"(?:\{\{\s*(char|user)\s*\}\}|<(bot|user)>)"
                    r"(?:((?:'|\u2019)s\b)|([ \t]+)([a-z]+?)(n't|n\u2019t)?\b)?",
                    re.IGNORECASE)
_YOU_VERBS = {"is": "are", "was": "were", "has": "have", "does": "do"}
_LEAD_IN = " \t\"'*_(\u201c\u2018"  # what may sit between a sentence start and the word
_SENTENCE_END = ".!?:\n\u2026"
# After these words "{{user}}" is the subject of what follows ("and {{user}} runs").
_CLAUSE_START = {"and", "but", "or", "when", "while", "as", "if", "because", "that", "until",
                 "before", "after", "since", "where", "so", "then", "once", "though"}
# Words ending in -s after the subject that are not third-person verbs.
_NOT_VERBS = {"always", "sometimes", "perhaps", "thus", "unless", "besides", "towards",
              "afterwards", "nevertheless", "nonetheless", "as", "this", "yes", "us", "its",
              "his", "hers", "ours", "yours", "less", "across", "plus", "news", "whereas",
              "nowadays", "yourselves"}  # (is/was/has/does agree through _YOU_VERBS)
_PREVIOUS_WORD = re.compile(r"([A-Za-z]+)[ \t,]*$")
# Where the player is addressed by name, "you" would not fit: after these words ("Welcome
# back {{user}}.", "Hi {{user}}!"), with the sentence or clause ending right after; and
# never right after "you" ("Thank you {{user}} for coming").
_ADDRESS_WORDS = {"hello", "hi", "hey", "hiya", "welcome", "back", "thanks", "bye",
                  "goodbye", "morning", "evening", "night", "dear", "sorry", "please", "yes",
                  "oh", "ah", "okay", "ok", "darling", "honey"}
_ADDRESS_END = re.compile(r"[ \t]*(?:[,.!?;\u2026~\"'*)\u201d\u2019]|$)", re.MULTILINE)
_AFTER_YOU = re.compile(r"\byou[ \t]+$", re.IGNORECASE)
_ANY_MACRO = re.compile(r"\{\{[^{}]*\}\}|<(?:bot|user)>", re.IGNORECASE)


# Character Card V3's curly braced syntax (SillyTavern reads the same in any card): comments
# go, random picks and dice are resolved when the card is read (each new chat from the card
# reads it again). No braces inside, so nested ones resolve inside-out over a few passes.
_CBS = re.compile(r"\{\{(?://+([^{}]*)|\s*(random|pick|roll|hidden_key|comment|reverse)\s*:"
                  r"([^{}]*))\}\}", re.IGNORECASE)
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_MAX_SIDES = 1_000_000
_RNG = random.Random()


def curly_braced(text: str, rng: random.Random = _RNG) -> str:
    """Resolve ``{{random:A,B}}`` (also SillyTavern's ``{{random::A::B}}``), ``{{pick:A,B}}``
    (the same choice every time), ``{{roll:N}}``/``{{roll:dN}}`` and ``{{reverse:A}}``; drop
    ``{{// A}}``, ``{{hidden_key:A}}`` and ``{{comment:A}}``. Anything else stays as written."""

    def resolve(match: re.Match[str]) -> str:
        if match[1] is not None:
            return ""  # {{// a comment}}
        what, arg = match[2].lower(), match[3]
        if what in ("hidden_key", "comment"):
            return ""
        if what == "reverse":
            return arg[::-1]
        if what == "roll":
            sides = arg.strip().lower().removeprefix("d")
            if sides.isascii() and sides.isdigit() and 0 < int(sides) <= _MAX_SIDES:
                return str(rng.randint(1, int(sides)))
            return match[0]
        if arg.startswith(":"):
            options = arg[1:].split("::")
        else:
            options = [o.replace("\\,", ",") for o in _UNESCAPED_COMMA.split(arg)]
        options = [o.strip() for o in options]
        return (random.Random(arg) if what == "pick" else rng).choice(options)

    for _ in range(8):  # nesting deeper than this stays as written
        resolved = _CBS.sub(resolve, text)
        if resolved == text:
            break
        text = resolved
    return text


def substitute(text: str, character: str, player: str = "You", called: str | None = None
               ) -> str:
    """Replace the card macros with the character's and the player's names.

    When the player is "You", the word is written as prose: "you"/"your" mid-sentence,
    "You"/"Your" at the start of a line or sentence (so "{{user}}: hi" -> "You: hi"), and a
    verb right after it agrees with "you" (is/was/has/does anywhere; a regular -s verb when
    "you" is its subject: at a sentence start or after "and", "when"...).

    Where "you" does not fit, ``called`` (what the character calls the player), when given,
    stands instead: where the player is addressed ("What can I do for you, {{user}}?",
    "{{user}}, come here!", "Welcome back {{user}}.") and in text mostly in a script other
    than Latin ("{{user}}扮演修女" would get an English word). A ``{{user}}:`` speaker label
    at a line's start stays the player's label.
    """
    foreign: list[bool] = []  # worked out once, when first needed

    def name(match: re.Match[str]) -> str:
        who = (match[1] or match[2]).lower()
        possessive, space, word, negation = match[3], match[4], match[5], match[6] or ""
        rest = possessive or ((space + word + negation) if word else "")
        if who in ("char", "bot"):
            return character + rest
        if player != "You":
            return player + rest
        if called is not None and not _speaker_label(text, match.start(), match.end()):
            if not foreign:
                foreign.append(_mostly_not_latin(text))
            if (foreign[0] or _AFTER_YOU.search(text, 0, match.start())  # not "you you"
                    or (rest == "" and _addressed(text, match.start(), match.end()))):
                return called + rest
        you = "your" if possessive else "you"
        if _starts_sentence(text, match.start()):
            you = you.capitalize()
        if not word:
            return you  # "your" already holds the possessive
        agreed = _YOU_VERBS.get(word.lower())
        if agreed is None and not negation and _subject(text, match.start()):
            agreed = _base_form(word.lower())
        if agreed is None:
            return you + rest
        return you + space + (agreed.capitalize() if word[0].isupper() else agreed) + negation

    text = curly_braced(text)
    return _MACRO.sub(name, text)


def _speaker_label(text: str, start: int, end: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    return text.startswith(":", end) and not text[line_start:start].strip()


def _addressed(text: str, start: int, end: int) -> bool:
    """Is the player called by name here: "Hi, {{user}}!", "{{user}}, look!"?"""
    if _ADDRESS_END.match(text, end) is None:
        return False
    if text[:start].rstrip(" \t").endswith(","):
        return True
    if _starts_sentence(text, start):
        return text[end:end + 1] in (",", "!", "?")
    before = _PREVIOUS_WORD.search(text, 0, start)
    return before is not None and before[1].lower() in _ADDRESS_WORDS


def _mostly_not_latin(text: str) -> bool:
    """More letters of other scripts (Chinese, Cyrillic...) than Latin ones, macros aside."""
    latin = other = 0
    for char in _ANY_MACRO.sub(" ", text):
        if char.isalpha():
            if char < "\u0250" or "\u1e00" <= char <= "\u1eff":  # Latin, with its accents
                latin += 1
            else:
                other += 1
    return other > latin


def _subject(text: str, pos: int) -> bool:
    if _starts_sentence(text, pos):
        return True
    before = _PREVIOUS_WORD.search(text, 0, pos)
    return before is not None and before[1].lower() in _CLAUSE_START


def _base_form(word: str) -> str | None:
    """The verb "you" takes for a third-person one ("wakes" -> "wake"), or None."""
    if word in _NOT_VERBS or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return None
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"  # tries -> try (but dies -> die)
    if word.endswith(("ches", "shes", "xes", "zzes", "sses", "oes")):
        return word[:-2]  # watches -> watch, goes -> go
    return word[:-1]


def _starts_sentence(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and text[i] in _LEAD_IN:
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END
