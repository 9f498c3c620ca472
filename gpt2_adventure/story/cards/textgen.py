"""text-generation-webui characters (``characters/<name>.yaml``) as chat seeds.

The shape (oobabooga/text-generation-webui, ``characters/Example.yaml``)::

    name: "Chiharu Yamada"
    context: "Chiharu Yamada's Persona: Chiharu is a computer engineer..."
    greeting: |-
      *Chiharu strides into the room* Hey! ...
    example_dialogue: |-
      {{user}}: So how did you get into computer engineering?
      {{char}}: I've always loved tinkering with technology since I was a kid.
    your_name: "Tom"          # optional: the player's name

Older files used Pygmalion's names (``char_name``, ``char_persona``, ``char_greeting``,
``world_scenario``, ``example_dialogue``). Either becomes a V1-shaped card and goes through
the same mapping as a SillyTavern card (``cards/to_seed.py``): ``context`` is the persona
(without the ``Name's Persona:`` header it usually starts with, which the seed writes
itself), ``greeting`` the first message. ``your_name`` names the player, so ``{{user}}``
becomes it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.cards.reader import card_to_seed
from gpt2_adventure.story.json_kind import kind
from gpt2_adventure.story.model import Seed
from gpt2_adventure.story.seeds.fill import escape

FORMAT = "a text-generation-webui character"
_FIELDS = {"name": "name", "context": "description", "greeting": "first_mes",
           "example_dialogue": "mes_example", "scenario": "scenario",
           "char_name": "name", "char_persona": "description", "char_greeting": "first_mes",
           "world_scenario": "scenario"}
_USER = re.compile(r"\{\{\s*user\s*\}\}|<USER>", re.IGNORECASE)
_QUIET = {"your_name"}


def looks_like(doc: object) -> bool:
    return isinstance(doc, dict) and "settings" not in doc and (
        ("name" in doc and ("context" in doc or "greeting" in doc)) or "char_name" in doc)


def seed_from_character(doc: object, where: str) -> tuple[Seed, list[str]]:
    """The chat seed and what did not carry over."""
    if not isinstance(doc, dict):
        raise UserError(f"a character should be a mapping, not {kind(doc)}", where)
    card: dict[str, Any] = {}
    dropped = []
    player = _player(doc.get("your_name"), where)
    for key, value in doc.items():
        target = _FIELDS.get(str(key))
        if target is None:
            if str(key) not in _QUIET:
                dropped.append(f"field {str(key)[:40]!r} (no equivalent here)")
            continue
        if value is None:
            continue
        if not isinstance(value, str):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = str(value)  # YAML reads `name: 2B` as text but `name: 42` as a number
            else:
                raise UserError(f"{key} should be text, not {kind(value)}", where)
        if player:
            value = _USER.sub(player.replace("\\", "\\\\"), value)
        card.setdefault(target, value)
    name = card.get("name", "")
    if isinstance(name, str) and card.get("description"):
        header = re.compile(rf"^\s*(?:\{{\{{char\}}\}}|{re.escape(name.strip())})'s persona:\s*",
                            re.IGNORECASE)
        card["description"] = header.sub("", card["description"], count=1)
    seed, notes = card_to_seed(card, where)
    if player and seed.chat is not None:
        if player.casefold() == seed.chat.character.casefold():
            notes.append(f"your_name {player!r} is the character's name; you are "
                         f"{seed.chat.player!r}")
        else:
            seed = replace(seed, chat=replace(seed.chat, player=escape(player)))
    return seed, dropped + notes


def _player(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UserError(f"your_name should be text, not {kind(value)}", where)
    name = " ".join(value.replace(":", " ").split())[:60]
    return "" if name.lower() in ("you", "user") else name
