"""Reading a lorebook file: which kind it is (by content), its entries, and the card macros
filled in when a character is known."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from gpt2_adventure.story.cards.png_text import is_png
from gpt2_adventure.story.importers.common import (
    ImportProblem,
    decode_text,
    kind,
    load_json,
    read_bytes,
)
from gpt2_adventure.story.lorebooks import (
    agnai,
    aidungeon,
    character_book,
    kobold,
    novelai,
    sillytavern,
)
from gpt2_adventure.story.lorebooks.common import (
    MACROS_KEPT,
    MAX_LOREBOOK_BYTES,
    Lorebook,
    Sub,
    has_macros,
    names_sub,
    plain,
)

Kind = Literal["sillytavern", "kobold", "character-book", "novelai", "novelai-story",
               "aidungeon", "agnai"]
KNOWN = ("a SillyTavern World Info file, KoboldAI (Lite) world info, a character book "
         "(V2, or V3 lorebook_v3), a NovelAI lorebook or story, AI Dungeon story cards or "
         "world info, or an Agnai memory book")
# (the character, the player) that {{char}} and {{user}} stand for, and what stands where
# "you" would not fit (names_sub)
Names = tuple[str, str] | tuple[str, str, str]


def lorebook_kind(doc: object) -> Kind | None:
    """Which lorebook a parsed JSON document is, or None when it is none."""
    if isinstance(doc, dict) and doc.get("spec") == "lorebook_v3":
        return "character-book"
    if isinstance(doc, dict) and ("spec" in doc or "first_mes" in doc):
        return None  # a character card
    if sillytavern.looks_like(doc):
        return "sillytavern"
    if novelai.looks_like(doc):
        return "novelai"
    if novelai.is_story(doc):
        return "novelai-story"
    if agnai.looks_like(doc):
        return "agnai"
    if isinstance(doc, dict) and isinstance(doc.get("entries"), list) and not any(
            key in doc for key in ("prompt", "actions", "settings", "story_start")):
        return "character-book"
    if kobold.looks_like(doc):
        return "kobold"
    if aidungeon.looks_like(doc):
        return "aidungeon"
    return None


_READERS: dict[Kind, Callable[[object, str, Sub], Lorebook]] = {
    "sillytavern": sillytavern.read_doc, "kobold": kobold.read_doc,
    "character-book": character_book.read_file_doc, "novelai": novelai.read_doc,
    "novelai-story": novelai.read_story_doc, "aidungeon": aidungeon.read_doc,
    "agnai": agnai.read_doc,
}


def read_lorebook(path: Path, names: Names | None = None) -> Lorebook:
    """Read a lorebook file; ``names`` fill {{char}}/{{user}} (else they stay, noted)."""
    return lorebook_from_bytes(read_bytes(path, MAX_LOREBOOK_BYTES), str(path), names)


def lorebook_from_bytes(data: bytes, where: str, names: Names | None = None) -> Lorebook:
    if is_png(data):  # NovelAI's lorebook images
        return novelai.lorebook_from_png(data, where, _sub(names))
    text, notes = decode_text(data, where)
    book = lorebook_from_doc(load_json(text, where), where, names)
    book.notes[:0] = notes
    return book


def lorebook_from_doc(doc: object, where: str, names: Names | None = None) -> Lorebook:
    found = lorebook_kind(doc)
    if found is None:
        raise ImportProblem(f"not a lorebook (it holds {_what(doc)}); expected {KNOWN}", where)
    book = _READERS[found](doc, where, _sub(names))
    if names is None and has_macros(book.entries):
        book.notes.append(MACROS_KEPT)
    return book


def _sub(names: Names | None) -> Sub:
    return names_sub(*names) if names is not None else plain


def _what(doc: object) -> str:
    if isinstance(doc, dict) and ("spec" in doc or "first_mes" in doc):
        return "a character card"
    if isinstance(doc, dict) and ("prompt" in doc or "actions" in doc):
        return "a story"
    return kind(doc)
