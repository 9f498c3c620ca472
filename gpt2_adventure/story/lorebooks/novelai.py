"""NovelAI lorebooks: a ``.lorebook`` export, the lorebook inside a ``.story`` file, and the
lorebook NovelAI embeds in a PNG image (a ``naidata`` text chunk holding base64 JSON).

A ``.lorebook`` (``lorebookVersion`` 4 to 6; a ``.story`` holds older ones too)::

    {"lorebookVersion": 5, "settings": {"orderByKeyLocations": false},
     "categories": [{"name": "Places", "id": "c1", "enabled": true, ...}],
     "entries": [{"text": "...", "displayName": "Rome", "keys": ["Rome", "/empire/i"],
                  "enabled": true, "forceActivation": false, "searchRange": 1000,
                  "keyRelative": false, "nonStoryActivatable": false, "category": "c1",
                  "contextConfig": {"prefix": "", "suffix": "\\n", "tokenBudget": 1,
                                    "reservedTokens": 0, "budgetPriority": 400,
                                    "trimDirection": "trimBottom",
                                    "insertionType": "newline",
                                    "maximumTrimType": "sentence",
                                    "insertionPosition": -1},
                  "loreBiasGroups": [{"phrases": [], ...}], "id": "..."}]}

An entry's prefix and suffix are written around its text when NovelAI inserts it, so they are
kept in the content. A key written ``/.../flags`` is a regular expression (dropped, as
SillyTavern's are). ``forceActivation`` is our "always". What shapes NovelAI's context
(budgets, priorities, insertion positions, search ranges, phrase biases, categories'
subcontexts) has no equivalent and is listed as dropped.
"""

from __future__ import annotations

import re
from typing import Any

from gpt2_adventure.story.cards.png_text import read_text_chunks
from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.importers.binary import chunk_text
from gpt2_adventure.story.importers.common import ImportProblem, kind, load_json
from gpt2_adventure.story.lorebooks import common as lore
from gpt2_adventure.story.model import WorldEntry

FORMAT = "a NovelAI lorebook"
STORY_FORMAT = "a NovelAI story"
PNG_FORMAT = "a NovelAI lorebook image"
PNG_KEYWORD = "naidata"
NEWEST_VERSION = 6
DEFAULT_SEARCH_RANGE = 1000
DEFAULT_PRIORITY = 400
_REGEX_KEY = re.compile(r"/(.+)/([a-z]*)", re.DOTALL)


def looks_like(doc: object) -> bool:
    """A ``.lorebook`` export: ``lorebookVersion`` and a list of entries."""
    return (isinstance(doc, dict) and "lorebookVersion" in doc
            and isinstance(doc.get("entries"), list))


def is_story(doc: object) -> bool:
    """A ``.story`` export (``storyContainerVersion``, its story in ``content``)."""
    return isinstance(doc, dict) and "storyContainerVersion" in doc and "content" in doc


def read_doc(doc: object, where: str, sub: lore.Sub, fmt: str = FORMAT) -> lore.Lorebook:
    if not isinstance(doc, dict):
        raise ImportProblem(f"not a NovelAI lorebook: it holds {kind(doc)}, not an object",
                            where)
    root = lore.lorebook_fields(doc, where)
    notes = []
    version = doc.get("lorebookVersion")
    if (isinstance(version, int) and not isinstance(version, bool)
            and version > NEWEST_VERSION):
        notes.append(f"lorebookVersion {version} is newer than the newest known "
                     f"({NEWEST_VERSION}); read as {NEWEST_VERSION}")
    dropped = lore.Dropped()
    disabled_categories = _categories(root, dropped)
    settings = doc.get("settings")
    if isinstance(settings, dict) and settings.get("orderByKeyLocations") is True:
        dropped.add("ordering entries by where their keys appear (they keep the file's order)")
    out = lore.read_each(root.objs("entries", lore.MAX_ENTRIES), lambda entry, place: _entry(
        entry, place, sub, dropped, disabled_categories))
    return lore.Lorebook(source=where, format=fmt, entries=out, dropped=dropped.lines(),
                    notes=notes)


def read_story_doc(doc: object, where: str, sub: lore.Sub) -> lore.Lorebook:
    """The lorebook of a ``.story`` file (an error when it has none we can read)."""
    content = story_content(doc, where)
    book = content.get("lorebook")
    if book is None:
        return lore.Lorebook(source=where, format=STORY_FORMAT,
                        notes=["the story has no lorebook"])
    if not isinstance(book, dict):
        raise ImportProblem(f"content.lorebook should be an object, not {kind(book)}", where)
    return read_doc(book, where, sub, STORY_FORMAT)


def story_content(doc: object, where: str) -> dict[str, Any]:
    """A ``.story`` file's ``content`` object; an error naming what is unreadable."""
    if not isinstance(doc, dict):
        raise ImportProblem(f"not a NovelAI story: it holds {kind(doc)}, not an object", where)
    content = doc.get("content")
    if isinstance(content, str):  # never seen in exports, but say so rather than guess
        raise ImportProblem("the story's content is packed as text (encrypted or compressed "
                            "by NovelAI) and cannot be read; export it again from NovelAI "
                            "as a .story file, or export its lorebook (.lorebook)", where)
    if not isinstance(content, dict):
        raise ImportProblem(f"content should be an object, not {kind(content)}", where)
    return content


def lorebook_from_png(data: bytes, where: str, sub: lore.Sub) -> lore.Lorebook:
    """The lorebook NovelAI writes into a PNG's ``naidata`` text chunk (base64 JSON)."""
    chunks = read_text_chunks(data, where, (PNG_KEYWORD,), lore.MAX_LOREBOOK_BYTES)
    if PNG_KEYWORD not in chunks:
        raise ImportProblem("this PNG has no NovelAI lorebook in it (no 'naidata' text "
                            "chunk)", where)
    doc = load_json(chunk_text(chunks[PNG_KEYWORD], PNG_KEYWORD, where), where)
    if not looks_like(doc):
        raise ImportProblem(f"the PNG's 'naidata' chunk holds {kind(doc)} that is not a "
                            "NovelAI lorebook (no lorebookVersion and entries)", where)
    return read_doc(doc, where, sub, PNG_FORMAT)


def _categories(root: Fields, dropped: lore.Dropped) -> set[str]:
    """The ids of disabled categories; categories themselves are listed as dropped."""
    disabled = set()
    categories = root.objs("categories", lore.MAX_ENTRIES)
    for category in categories:
        ident = category.data.get("id")
        if category.data.get("enabled") is False and isinstance(ident, str):
            disabled.add(ident)
    if categories:
        dropped.add("categories (their entries are kept, without category settings)")
    return disabled


def _keys(entry: Fields, sub: lore.Sub) -> tuple[list[str], bool]:
    keys = [k for k in map(sub, entry.texts("keys")) if k]
    plain = [k for k in keys if not _REGEX_KEY.fullmatch(k)]
    return plain, len(plain) < len(keys)


def _entry(entry: Fields, place: str, sub: lore.Sub, dropped: lore.Dropped,
           disabled_categories: set[str]) -> WorldEntry | None:
    keys, had_regex = _keys(entry, sub)
    reading = lore.Reading(dropped, place, entry.text("displayName"), keys)
    if not entry.flag("enabled", True):
        return reading.refuse("disabled entries dropped")
    category = entry.data.get("category")
    if isinstance(category, str) and category in disabled_categories:
        return reading.refuse("entries of disabled categories dropped")
    config = entry.obj("contextConfig")
    prefix = config.text("prefix") if config is not None else ""
    suffix = config.text("suffix") if config is not None else ""
    text = entry.text("text")
    content = sub(prefix + text + suffix) if text.strip() else ""
    always = entry.flag("forceActivation", False)
    if not content:
        return reading.refuse("entries without text dropped")
    if had_regex:
        reading.drop("regex keys dropped (only plain keys are supported)")
    if not keys and not always:
        return reading.refuse("entries without plain keys dropped (they could never trigger)")
    _lost(entry, config, reading.drop)
    made = WorldEntry(keys=tuple(keys), content=content, always=always, comment=reading.comment)
    return reading.checked(made)


def _lost(entry: Fields, config: Fields | None, drop: Any) -> None:
    data = entry.data
    search = data.get("searchRange")
    if (isinstance(search, int) and not isinstance(search, bool)
            and search != DEFAULT_SEARCH_RANGE):
        drop("search ranges ignored (keys are looked for in the recent story)")
    if data.get("keyRelative") is True:
        drop("key-relative insertion ignored (world info goes before the story)")
    if data.get("nonStoryActivatable") is True:
        drop("activation by other lore entries only ignored (the story's keys trigger them)")
    biases = data.get("loreBiasGroups")
    if isinstance(biases, list) and any(isinstance(group, dict) and group.get("phrases")
                                        for group in biases):
        drop("phrase bias groups ignored")
    if config is not None:
        position = config.data.get("insertionPosition")
        priority = config.data.get("budgetPriority")
        if ((isinstance(position, int) and position != -1)
                or (isinstance(priority, (int, float)) and priority != DEFAULT_PRIORITY)):
            drop("insertion positions and priorities ignored (world info goes before the "
                 "story)")
