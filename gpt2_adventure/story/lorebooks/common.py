"""What every lorebook reader shares: the result, the caps, how fields are read, how what was
dropped is listed, and the card macros ({{char}}, {{user}}) in lore entries.

A lorebook is untrusted input: every problem is an ``ImportProblem`` naming the file and the
field (``entries.3.key[0] should be text, not a number``), never a traceback. Entries come out
as plain text (``WorldEntry`` as a game holds it); whoever writes them into a seed escapes
them (seed texts are templates).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from gpt2_adventure.story.cards.fields import clean, substitute
from gpt2_adventure.story.fields import Fields, Rules
from gpt2_adventure.story.importers.common import ImportProblem, kind
from gpt2_adventure.story.model import WorldEntry
from gpt2_adventure.story.seeds.fill import escape

MAX_LOREBOOK_BYTES = 20_000_000  # a whole file (the same cap as a character card)
MAX_ENTRIES = 5_000
MAX_TEXT_CHARS = 100_000  # per text field
MAX_KEYS = 1_000  # per list of keys

# Lorebooks say "entries.3.key should be a list of text, not text", like the importers; text
# loses NULs and lone surrogates, and its line ends become "\n" (as a card's do).
LOREBOOK = Rules(error=ImportProblem, clean=clean, kind=kind, max_chars=MAX_TEXT_CHARS,
                 max_items=MAX_KEYS)

Sub = Callable[[str], str]  # what each key and content goes through (macros, stripping)
# Lore gets a quarter of GPT-2's 1,024 tokens (story/context.py): about 1,000 characters of
# English. A longer entry is kept (it is the player's) but can never be shown to the model.
LONG_ENTRY_CHARS = 1_024
TOO_LONG = ("entries kept but too long for GPT-2 ever to see (over about 250 tokens: lore gets "
            "a quarter of its 1,024); shorten them")
_MACRO = re.compile(r"\{\{\s*(?:char|user)\s*\}\}|<(?:bot|user)>", re.IGNORECASE)
# SillyTavern (``parseRegexFromString``) reads a key as a regular expression only when the
# whole key is ``/pattern/flags``: flags from "gimsuy", every "/" inside escaped. Any other key
# is plain text, whatever a character book's ``use_regex`` says (SillyTavern's own card export
# sets it on every entry). Regex keys are not matched here: Python's ``re`` reads JavaScript
# patterns differently and cannot be stopped mid-match (``(a+)+$`` against 24 characters took
# 0.9 s here, and twice as long with each character more), so a card could freeze the game.
_REGEX_KEY = re.compile(r"/(.+?)/([gimsuy]*)", re.DOTALL)
_UNESCAPED_SLASH = re.compile(r"(?:^|[^\\])/")
REGEX_KEYS_DROPPED = "regex keys (/.../) dropped: only plain keys are matched here"
ONLY_REGEX_KEYS = "entries with only regex keys dropped (they could never trigger)"


@dataclass
class Lorebook:
    """World info read from a file: entries in the order they go into the prompt, and what
    had no equivalent here (``dropped``, shown as ``dropped:`` lines) or needs a word
    (``notes``)."""

    source: str  # the file, as shown in messages
    format: str  # e.g. "a SillyTavern World Info file"
    entries: list[WorldEntry] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def escaped(entry: WorldEntry) -> WorldEntry:
    """An entry as seed text (a template): braces doubled; the comment is plain text."""
    return replace(entry, keys=tuple(map(escape, entry.keys)), content=escape(entry.content),
                   secondary_keys=tuple(map(escape, entry.secondary_keys)))


def normal(text: str) -> str:
    """Text as every lorebook reader gives it: "\n" line ends, no whitespace around it."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def identity(entry: WorldEntry) -> tuple[tuple[str, ...], str]:
    """What makes two entries the same one (their keys and content, read as ``normal``): an
    entry kept with trailing whitespace or CRLF line ends (a KoboldAI story keeps them) is
    the one a lorebook of it reads back."""
    return tuple(map(normal, entry.keys)), normal(entry.content)


def lorebook_fields(data: dict[str, Any], where: str, prefix: str = "") -> Fields:
    return Fields(data, where, LOREBOOK, prefix)


def plain(text: str) -> str:
    return normal(text)


def names_sub(character: str, player: str, called: str | None = None) -> Sub:
    """Card macros replaced by the names, as a card's own texts are (``called``: the
    player's name where "you" does not fit, ``cards.fields.substitute``)."""
    return lambda text: normal(substitute(text, character, player, called))


def is_regex_key(key: str) -> bool:
    """A key SillyTavern reads as a regular expression: ``/pattern/flags``."""
    found = _REGEX_KEY.fullmatch(key)
    return found is not None and _UNESCAPED_SLASH.search(found[1]) is None


def plain_keys(keys: list[str], secondary: list[str], dropped: Dropped, name: str
               ) -> tuple[list[str], list[str]]:
    """The keys and secondary keys without the regex ones, which are dropped and named."""
    regex = [k for k in (*keys, *secondary) if is_regex_key(k)]
    if regex:
        dropped.add(REGEX_KEYS_DROPPED, naming(name, regex))
    return ([k for k in keys if not is_regex_key(k)],
            [k for k in secondary if not is_regex_key(k)])


def has_macros(entries: list[WorldEntry]) -> bool:
    return any(_MACRO.search(text) for entry in entries
               for text in (entry.content, *entry.keys, *entry.secondary_keys))


MACROS_KEPT = ("some entries use {{char}}/{{user}} (or <BOT>/<USER>); they are kept as "
               "written because no character is known here")


class Dropped:
    """What had no equivalent, grouped by reason: ``reason: entry 1 "a", entry 2 "b"``."""

    def __init__(self) -> None:
        self.reasons: dict[str, list[str]] = {}

    def add(self, reason: str, label: str = "") -> None:
        labels = self.reasons.setdefault(reason, [])
        if label and label not in labels[-1:]:  # one entry may lose a thing twice over
            labels.append(label)

    def lines(self) -> list[str]:
        return [f"{reason}: {listing(labels)}" if labels else reason
                for reason, labels in self.reasons.items()]


class Reading:
    """One entry being read: its label in messages (``label``), its comment on one line,
    and what it loses told to ``dropped`` under that label. ``refuse`` drops the whole
    entry: ``return reading.refuse(reason)``."""

    def __init__(self, dropped: Dropped, place: str, comment: str, keys: list[str]) -> None:
        self.dropped = dropped
        self.comment = " ".join(comment.split())
        self.name = label(place, self.comment, keys)

    def drop(self, reason: str) -> None:
        self.dropped.add(reason, self.name)

    def refuse(self, reason: str) -> WorldEntry | None:
        """Drop the whole entry, saying why; None, what a reader returns for it."""
        self.drop(reason)
        return None

    def checked(self, entry: WorldEntry) -> WorldEntry:
        """The entry read, with a note when it is too long for GPT-2 ever to see."""
        if len(entry.content) > LONG_ENTRY_CHARS:
            self.drop(TOO_LONG)
        return entry


class Opened(NamedTuple):
    """A KoboldAI or SillyTavern World Info entry as both open it (``open_world_info``)."""

    reading: Reading
    keys: list[str]
    content: str  # through ``sub``; may be empty
    constant: bool


def open_world_info(entry: Fields, place: str, sub: Sub, dropped: Dropped,
                    keys_of: Callable[[Fields, str, Sub], list[str]], disabled: str
                    ) -> Opened | None:
    """What a KoboldAI and a SillyTavern World Info entry begin with, under the same names
    (``key``, ``comment``, ``content``, ``constant``): the keys as the format's ``keys_of``
    reads them, the entry's ``Reading``, its content and constant flag; None, noted as
    dropped, when the flag named ``disabled`` is set. Each reader refuses an entry without
    content itself: KoboldAI's reads ``selective`` and ``keyanti`` first, so a bad one is an
    error even on an empty entry."""
    keys = keys_of(entry, "key", sub)
    reading = Reading(dropped, place, entry.text("comment"), keys)
    if entry.flag(disabled, False):
        reading.drop("disabled entries dropped")
        return None
    return Opened(reading, keys, sub(entry.text("content")), entry.flag("constant", False))


def read_each(entries: Iterable[Fields], read: Callable[[Fields, str], WorldEntry | None]
              ) -> list[WorldEntry]:
    """``read(entry, "entry N")`` for each entry, those it refused (None) left out."""
    return [made for i, entry in enumerate(entries)
            if (made := read(entry, f"entry {i + 1}")) is not None]


def listing(labels: list[str], shown: int = 5) -> str:
    more = f" and {len(labels) - shown} more" if len(labels) > shown else ""
    return ", ".join(labels[:shown]) + more


def label(place: str, comment: str, keys: list[str]) -> str:
    """``entries[2] "Forge"``: where the entry is, and its comment or first key."""
    short = one_line(comment or (keys[0] if keys else ""), 40)
    return f'{place} "{short}"' if short else place


def naming(name: str, keys: list[str]) -> str:
    """An entry's label and the keys a note is about: ``entry 5 "Wyrm" (/wyrms?/i)``."""
    shown = ", ".join(one_line(k, 30) for k in keys)
    return name if name.endswith(f'"{shown}"') else f"{name} ({shown})"


def one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


def order_of(value: object, default: float) -> float:
    """An entry's insertion order (a number; anything else reads as ``default``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(min(max(value, -1e18), 1e18))


def sort_by_order(ordered: list[tuple[float, WorldEntry]]) -> list[WorldEntry]:
    """The entries as SillyTavern inserts them: lowest order first, the highest last (nearest
    the story); a tie keeps the file's order."""
    return [entry for _, entry in sorted(ordered, key=lambda pair: pair[0])]


def need(doc: object, where: str, what: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ImportProblem(f"not {what}: it holds {kind(doc)}, not an object", where)
    return doc
