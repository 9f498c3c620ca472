"""A NovelAI ``.story`` export as a saved game: its text, memory, author's note and lorebook.

The shape (``storyContainerVersion`` 1)::

    {"storyContainerVersion": 1,
     "metadata": {"title": "...", "description": "...", ...},
     "content": {"story": {"text": "...", "fragments": [{"text": "...", "origin": "ai"}],
                           "datablocks": [...], ...},
                 "context": [{"text": "<memory>", ...}, {"text": "<author's note>", ...}],
                 "lorebook": {"lorebookVersion": 1, "entries": [...]},
                 "settings": {"parameters": {"temperature": 0.8, ...}}, ...}}

The story is ``story.text``; its ``fragments`` say who wrote which part (``prompt``, ``user``,
``edit``: the player; ``ai``: the model) and become turns when they add up to the text.
Newer NovelAI exports keep the story in ``content.document``, a packed (compressed binary)
document this importer does not read: such a file is refused naming it, and its lorebook can
still be added to a story with ``--into``.
"""

from __future__ import annotations

from typing import Any

from gpt2_adventure.story.importers.common import ImportProblem, clean, kind
from gpt2_adventure.story.importers.imported import ImportedStory
from gpt2_adventure.story.lorebooks import novelai
from gpt2_adventure.story.lorebooks.common import plain
from gpt2_adventure.story.model import Turn

FORMAT = novelai.STORY_FORMAT
_MODEL_ORIGINS = ("ai",)


def is_story(doc: object) -> bool:
    return novelai.is_story(doc)


def story_from_novelai(doc: object, where: str, fallback_title: str
                       ) -> tuple[ImportedStory, list[str], list[str]]:
    """The story, what was dropped and notes."""
    content = novelai.story_content(doc, where)
    assert isinstance(doc, dict)
    dropped: list[str] = []
    notes: list[str] = []
    text, fragments = _story_text(content, where)
    if not text.strip():
        raise ImportProblem("the story is empty (content.story.text holds no text)", where)
    opening, turns = _turns(text, fragments)
    memory, authors_note = _context(content, where, dropped)
    book = novelai.read_story_doc(doc, where, plain)
    notes += book.notes
    dropped += [f"lorebook {part}" for part in book.dropped]
    if content.get("settings"):
        dropped.append("NovelAI's generation settings (temperature, sampling, banned words)")
    story = content.get("story")
    if isinstance(story, dict) and story.get("datablocks"):
        dropped.append("the edit history (datablocks: undo and redo)")
    for key in ("ephemeralContext", "phraseBiasGroups", "bannedSequenceGroups"):
        if content.get(key):
            dropped.append(f"{key} (no equivalent here)")
    metadata = doc.get("metadata")
    title = metadata.get("title") if isinstance(metadata, dict) else None
    title = " ".join(clean(title).split())[:80] if isinstance(title, str) else ""
    story_out = ImportedStory(title=title or fallback_title, mode="story", opening=opening,
                              memory=memory, authors_note=authors_note,
                              world=list(book.entries), turns=turns)
    return story_out, dropped, notes


def _story_text(content: dict[str, Any], where: str) -> tuple[str, list[tuple[str, str]]]:
    story = content.get("story")
    if story is None and "document" in content:
        raise ImportProblem(
            "the story text is in NovelAI's packed document (content.document, compressed "
            "binary), which gpt2-adventure cannot read", where,
            hint="add its lorebook to a story with: gpt2-adventure import FILE --into "
                 "SEED_OR_SAVE")
    if not isinstance(story, dict):
        raise ImportProblem(f"content.story should be an object, not {kind(story)}", where)
    text = story.get("text")
    if text is not None and not isinstance(text, str):
        raise ImportProblem(f"content.story.text should be text, not {kind(text)}", where)
    fragments = []
    raw = story.get("fragments")
    if isinstance(raw, list):
        for i, fragment in enumerate(raw):
            if not (isinstance(fragment, dict) and isinstance(fragment.get("text"), str)):
                raise ImportProblem(f"content.story.fragments[{i}] should be an object with "
                                    "a text", where)
            origin = fragment.get("origin")
            fragments.append((clean(fragment["text"]), origin if isinstance(origin, str)
                              else ""))
    joined = "".join(part for part, _ in fragments)
    text = clean(text or "")
    if not text:
        text = joined
    if joined != text:  # fragments that do not add up to the text: the text wins
        fragments = []
    return text, fragments


def _turns(text: str, fragments: list[tuple[str, str]]) -> tuple[str, list[Turn]]:
    if len(fragments) < 2:
        return text, []
    opening = fragments[0][0]
    turns = []
    for part, origin in fragments[1:]:
        if not part:
            continue
        if origin in _MODEL_ORIGINS:
            turns.append(Turn(role="model", text=part, alternatives=[part]))
        else:
            turns.append(Turn(role="player", text=part, kind="story", raw=part.strip()))
    return opening, turns


def _context(content: dict[str, Any], where: str, dropped: list[str]) -> tuple[str, str]:
    """Memory and author's note: NovelAI's first two context entries."""
    context = content.get("context")
    if context is None:
        return "", ""
    if not isinstance(context, list):
        raise ImportProblem(f"content.context should be a list, not {kind(context)}", where)
    texts = []
    for i, item in enumerate(context):
        value = item.get("text") if isinstance(item, dict) else None
        if not isinstance(value, str):
            raise ImportProblem(f"content.context[{i}].text should be text", where)
        texts.append(clean(value).strip())
    if len(texts) > 2 and any(texts[2:]):
        dropped.append(f"{len(texts) - 2} context entries after memory and author's note")
    texts += ["", ""]
    return texts[0], texts[1]
