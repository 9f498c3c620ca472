"""A NovelAI ``.scenario`` as a story seed: how a NovelAI story starts.

The shape (``scenarioVersion`` 1 to 3)::

    {"scenarioVersion": 3, "title": "...", "description": "...",
     "prompt": "You are ${name[Bob]:Your name}, a knight of ${1city}.",
     "context": [{"text": "<memory>", ...}, {"text": "<author's note>", ...}],
     "placeholders": [{"key": "1city", "description": "Your city", "defaultValue": "Larion",
                       "longDescription": ""}],
     "lorebook": {"lorebookVersion": 5, "entries": [...]},
     "settings": {...}, "tags": [...], "ephemeralContext": [...], ...}

A placeholder is ``${key}``, or ``${key[default]:description}`` written in place; the
scenario's ``placeholders`` list gives descriptions and defaults too. Each becomes a question
asked when the game starts (its description, else its key), with its default. The prompt is
the opening, the first two context entries memory and author's note, the lorebook world info.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from gpt2_adventure.story.importers.common import ImportProblem, clean, import_fields, seed_id
from gpt2_adventure.story.lorebooks import novelai
from gpt2_adventure.story.lorebooks.common import plain
from gpt2_adventure.story.model import Placeholder, Seed, WorldEntry
from gpt2_adventure.story.seeds.fill import escape

FORMAT = "a NovelAI scenario"
_PLACEHOLDER = re.compile(r"\$\{([^{}\[\]:]*)(?:\[([^\]{}]*)\])?(?::([^{}]*))?\}")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]+")
_LOST = (("settings", "NovelAI's generation settings"), ("tags", "tags"),
         ("ephemeralContext", "ephemeral context"), ("phraseBiasGroups", "phrase biases"),
         ("bannedSequenceGroups", "banned sequences"))


def looks_like(doc: object) -> bool:
    return isinstance(doc, dict) and "scenarioVersion" in doc


def seed_from_scenario(doc: object, where: str, fallback_title: str
                       ) -> tuple[Seed, list[str], list[str]]:
    """The seed, what was dropped and notes."""
    if not isinstance(doc, dict):
        raise ImportProblem("a NovelAI scenario should be an object", where)
    fields = import_fields(doc, where)
    prompt = fields.text("prompt")
    if not prompt.strip():
        raise ImportProblem("the scenario has no prompt, so nothing to start from", where)
    questions = _declared(fields.objs("placeholders"))
    context = [c.text("text").strip() for c in fields.objs("context")]
    dropped = [what for key, what in _LOST if fields.filled(key)]
    if len(context) > 2 and any(context[2:]):
        dropped.append(f"{len(context) - 2} context entries after memory and author's note")
    memory, authors_note = (context + ["", ""])[:2]
    world: list[WorldEntry] = []
    notes: list[str] = []
    if isinstance(doc.get("lorebook"), dict) and doc["lorebook"].get("entries"):
        book = novelai.read_doc(doc["lorebook"], where, plain)
        world, notes = book.entries, book.notes
        dropped += [f"lorebook {line}" for line in book.dropped]
    title = " ".join(fields.text("title").split())[:80] or fallback_title
    used: dict[str, Placeholder] = {}
    seed = Seed(
        id=seed_id("novelai", title), title=title, mode="story",
        openings=(_templated(prompt, questions, used),),
        description=" ".join(fields.text("description").split())[:200]
        or f"A NovelAI scenario: {title}"[:200],
        memory=_templated(memory, questions, used),
        authors_note=_templated(authors_note, questions, used),
        world=tuple(WorldEntry(keys=tuple(_templated(k, questions, used) for k in e.keys),
                               content=_templated(e.content, questions, used),
                               always=e.always, comment=e.comment) for e in world))
    unused = [key for key in questions if key not in used]
    if unused:
        notes.append(f"placeholders declared but never used: {', '.join(unused[:5])}")
    return replace(seed, placeholders=tuple(used.values())), dropped, notes


def _declared(items: list[Any]) -> dict[str, Placeholder]:
    out: dict[str, Placeholder] = {}
    for item in items:
        key = " ".join(item.text("key").split())
        if key and key not in out:
            question = " ".join(item.text("description").split()) or key
            out[key] = Placeholder(name=key, question=question[:200],
                                   default=clean(item.text("defaultValue")))
    return out


def _templated(text: str, declared: dict[str, Placeholder],
               used: dict[str, Placeholder]) -> str:
    out, pos = [], 0
    for match in _PLACEHOLDER.finditer(text):
        key = " ".join(match.group(1).split())
        if not key:
            continue
        out.append(escape(text[pos:match.start()]))
        out.append("{" + _name(key, match.group(2), match.group(3), declared, used) + "}")
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def _name(key: str, default: str | None, description: str | None,
          declared: dict[str, Placeholder], used: dict[str, Placeholder]) -> str:
    if key in used:
        return used[key].name
    base = _NOT_NAME.sub("_", key).strip("_")[:32] or "answer"
    if not (base[0].isalpha() or base[0] == "_"):
        base = f"q_{base}"
    taken = {p.name for p in used.values()}
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    known = declared.get(key)
    question = " ".join((description or "").split()) or (known.question if known else key)
    value = default if default is not None else (known.default if known else "")
    used[key] = Placeholder(name=name, question=question[:200], default=clean(value))
    return name
