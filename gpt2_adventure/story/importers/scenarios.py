"""AI Dungeon scenario exports as story seeds: one seed per playable branch.

The export is a list of scenarios (or one)::

    [{"title": "Tamriel", "description": "...", "prompt": "Your name is ${character.name}...",
      "memory": "...", "authorsNote": "[Genre: fantasy]", "mode": "creative",
      "worldInfo": [{"keys": "Ungvid,Jarl of Winterhold", "entry": "..."}],
      "quests": [], "tags": [], "options": [<scenario>, ...], "isOption": true, ...}]

A scenario with ``options`` was a menu: its prompt was the question ("Choose a class: ...")
and each option a scenario of its own. Each scenario that can be played (one without options)
becomes a seed titled by its path (``Tamriel / Mage``), so the player picks a branch from the
story list as AI Dungeon let them pick from its menu. ``${...}`` placeholders become the
seed's questions, asked as AI Dungeon asked them (``${Enter your age...}`` asks "Enter your
age..."; ``${character.name}`` asks for your name); one question is asked once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.importers.common import (
    MAX_SEEDS,
    ImportProblem,
    import_fields,
    seed_id,
    slug,
)
from gpt2_adventure.story.lorebooks.aidungeon import read_entries
from gpt2_adventure.story.lorebooks.common import Dropped, lorebook_fields, plain
from gpt2_adventure.story.model import Mode, Placeholder, Seed, WorldEntry
from gpt2_adventure.story.seeds.fill import escape

FORMAT = "AI Dungeon scenarios"
MAX_DEPTH = 12  # options inside options
MAX_QUESTION_CHARS = 200
NAME_QUESTIONS = ("character.name", "character name", "name")
_PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")
_NOT_NAME = re.compile(r"[^a-z0-9]+")


def is_scenario(doc: object) -> bool:
    return (isinstance(doc, dict) and "prompt" in doc and "actions" not in doc
            and any(key in doc for key in ("options", "authorsNote", "isOption", "publicId",
                                           "worldInfo")))


def looks_like(doc: object) -> bool:
    """A scenario export: one scenario, or a list of them."""
    if isinstance(doc, list):
        return bool(doc) and all(is_scenario(item) for item in doc)
    return is_scenario(doc)


@dataclass
class _Found:
    seeds: list[Seed] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


def seeds_from_scenarios(doc: object, where: str) -> tuple[list[Seed], list[str], list[str]]:
    """The seeds, what was dropped and notes."""
    items = doc if isinstance(doc, list) else [doc]
    root = import_fields({"": items}, where)
    found = _Found()
    for i, scenario in enumerate(root.objs("")):
        _walk(scenario, [], found, 0, where, f"scenario {i + 1}")
    if not found.seeds:
        why = f" ({found.dropped[0]})" if found.dropped else ""
        raise ImportProblem(f"no playable scenario in the file{why}", where)
    return found.seeds, found.dropped, found.notes


def _walk(scenario: Fields, path: list[str], found: _Found, depth: int, where: str,
          place: str) -> None:
    title = " ".join(scenario.text("title").split())[:80] or place
    titles = [*path, title]
    shown = " / ".join(titles)
    options = scenario.objs("options", MAX_SEEDS)
    if options:
        if depth >= MAX_DEPTH:
            found.dropped.append(f"{shown}: options nested deeper than {MAX_DEPTH} levels")
            return
        if scenario.text("prompt").strip():
            found.dropped.append(f"{shown}: the menu's own text (each option is a seed)")
        for i, option in enumerate(options):
            _walk(option, titles, found, depth + 1, where, f"option {i + 1}")
        return
    seed = _seed(scenario, shown, titles, found)
    if seed is None:
        return
    if len(found.seeds) >= MAX_SEEDS:
        raise ImportProblem(f"the file would make more than {MAX_SEEDS} seeds", where)
    found.seeds.append(seed)


def _seed(scenario: Fields, shown: str, titles: list[str], found: _Found) -> Seed | None:
    prompt = scenario.text("prompt").strip()
    if not prompt:
        found.dropped.append(f"{shown}: no prompt, so nothing to start from")
        return None
    questions: dict[str, Placeholder] = {}
    dropped = Dropped()
    lore = lorebook_fields(scenario.data, scenario.where, scenario.prefix)
    world = read_entries(lore, "worldInfo", plain, dropped, found.notes)
    found.dropped += [f"{shown}: world info {line}" for line in dropped.lines()]
    if scenario.filled("quests"):
        found.dropped.append(f"{shown}: quests (no equivalent here)")
    mode_name = scenario.data.get("mode")
    mode: Mode = "adventure" if mode_name == "adventure" else "story"
    opening = templated(prompt, questions)
    memory = templated(scenario.text("memory").strip(), questions)
    authors_note = templated(scenario.text("authorsNote").strip(), questions)
    entries = tuple(WorldEntry(keys=tuple(templated(k, questions) for k in entry.keys),
                               content=templated(entry.content, questions),
                               comment=entry.comment) for entry in world)
    base = "aid-" + slug(" ".join(titles), 56) if slug(" ".join(titles)) else seed_id(
        "aid", shown)
    ident, n = base, 2
    while ident in found.ids:
        ident, n = f"{base}-{n}", n + 1
    found.ids.add(ident)
    description = " ".join(scenario.text("description").split())[:200]
    return Seed(id=ident, title=shown[:120], mode=mode, openings=(opening,),
                description=description or f"An AI Dungeon scenario: {shown}"[:200],
                placeholders=tuple(questions.values()), memory=memory,
                authors_note=authors_note, world=entries)


def templated(text: str, questions: dict[str, Placeholder]) -> str:
    """Plain text as seed text, each ``${question}`` a ``{placeholder}`` asking it."""
    out, pos = [], 0
    for match in _PLACEHOLDER.finditer(text):
        out.append(escape(text[pos:match.start()]))
        out.append("{" + _placeholder(match.group(1), questions).name + "}")
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def _short_name(question: str) -> str:
    """``Enter your eye color...`` -> ``enter_your_eye_color``: whole words, at most 32."""
    name = ""
    for word in _NOT_NAME.split(question.lower()):
        if word and len(name) + len(word) + 1 > 32:
            break
        name = f"{name}_{word}" if name and word else name or word
    return name or "answer"


def _placeholder(question: str, questions: dict[str, Placeholder]) -> Placeholder:
    question = " ".join(question.split())[:MAX_QUESTION_CHARS]
    if question in questions:
        return questions[question]
    if question.lower() in NAME_QUESTIONS:
        base, asked = "name", "What is your name?"
    else:
        base = _short_name(question)
        if not base[0].isalpha():
            base = f"q_{base}"
        asked = question or "?"
    taken = {p.name for p in questions.values()}
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    questions[question] = Placeholder(name=name, question=asked)
    return questions[question]
