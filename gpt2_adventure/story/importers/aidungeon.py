"""AI Dungeon 2 (latitudegames/AIDungeon): ``story/story_data.yaml`` seeds and saved games.

story_data.yaml::

    settings:
      fantasy:
        description: "living in the kingdom of Larion. "
        characters:
          knight:
            prompts: ["You are on a quest to defeat the evil dragon of Larion. ..."]
            item1: "steel longsword"
            item2: "wooden shield"

AI Dungeon 2 started a game with the context ``"You are " + name + ", a " + character + " "
+ description + "You have a " + item1 + " and a " + item2 + ". "`` followed by one of the
character's prompts, and kept the context in view for the rest of the game. Each setting x
character becomes one seed: that exact opening (one per prompt) with a ``{name}`` blank, and
the context as memory.

A save (``saved_stories/story<uuid>.json``) holds ``story_start`` (context + prompt + the
first reply), ``context``, and parallel lists ``actions``/``results``; an action was stored
already formatted (``"\\n> You open the door.\\n"``), and the model saw
``action + result`` back to back, so both are kept exactly as stored.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from gpt2_adventure.story.importers.common import (
    MAX_SEEDS,
    ImportProblem,
    first_sentence,
    import_fields,
    kind,
    need_object,
    seed_id,
)
from gpt2_adventure.story.importers.imported import ImportedStory
from gpt2_adventure.story.model import Placeholder, Seed, Turn
from gpt2_adventure.story.seeds.fill import escape

SEEDS_FORMAT = "AI Dungeon 2 story seeds (story_data.yaml)"
SAVE_FORMAT = "an AI Dungeon 2 save"
NAME = Placeholder(name="name", question="What is your name?")
_SAY = re.compile(r"you say\b", re.IGNORECASE)


def _label(key: object) -> str | None:
    """A setting or character name: YAML may give a number (``1984:``) where text was meant."""
    if isinstance(key, bool) or not isinstance(key, (str, int, float)):
        return None
    if isinstance(key, int) and abs(key) >= 10**30:  # str() refuses 4,300+ digit numbers
        return None
    return str(key)


def seeds_from_story_data(doc: object, where: str) -> tuple[list[Seed], list[str]]:
    """One seed per setting x character; parts that cannot become a seed are dropped."""
    root = need_object(doc, where, "an AI Dungeon 2 story_data.yaml")
    settings = root.get("settings")
    if not isinstance(settings, dict):
        raise ImportProblem(f"settings should be a mapping of settings, not {kind(settings)}",
                            where)
    seeds: list[Seed] = []
    dropped: list[str] = []
    taken: set[str] = set()
    for setting_key, setting in settings.items():
        setting_name = _label(setting_key)
        if setting_name is None:
            dropped.append(f"a setting named {kind(setting_key)} (not a name)")
            continue
        for seed in _setting_seeds(setting_name, setting, dropped):
            if len(seeds) >= MAX_SEEDS:
                raise ImportProblem(f"the file would make more than {MAX_SEEDS} seeds", where)
            base = seed.id
            n = 2
            while seed.id in taken:  # "Knight" and "knight" make the same id
                seed = replace(seed, id=f"{base}-{n}")
                n += 1
            taken.add(seed.id)
            seeds.append(seed)
    if not seeds:
        why = f" ({dropped[0]})" if dropped else ""
        raise ImportProblem(f"no setting with a usable character{why}", where)
    return seeds, dropped


def _setting_seeds(setting: str, data: Any, dropped: list[str]) -> list[Seed]:
    if not isinstance(data, dict):
        dropped.append(f"setting {setting!r}: it is {kind(data)}, not a mapping")
        return []
    description = data.get("description")
    if not isinstance(description, str):
        dropped.append(f"setting {setting!r}: description should be text, not "
                       f"{kind(description)}")
        return []
    characters = data.get("characters")
    if not isinstance(characters, dict) or not characters:
        dropped.append(f"setting {setting!r}: no characters")
        return []
    out = []
    for character_key, character in characters.items():
        name = _label(character_key)
        if name is None:
            dropped.append(f"setting {setting!r}: a character named {kind(character_key)}")
            continue
        seed = _seed(setting, description, name, character, dropped)
        if seed is not None:
            out.append(seed)
    return out


def _prompts(value: object, label: str, dropped: list[str]) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        dropped.append(f"{label}: prompts should be a list of text, not {kind(value)}")
        return []
    prompts = []
    for index, prompt in enumerate(value):
        if isinstance(prompt, str) and prompt.strip():
            prompts.append(prompt)
        else:
            dropped.append(f"{label}: prompt {index + 1} (it is {kind(prompt)}, not text)")
    return prompts


def _seed(setting: str, description: str, character: str, data: Any,
          dropped: list[str]) -> Seed | None:
    label = repr(f"{setting}/{character}")  # quoted and escaped: names can hold newlines
    if not isinstance(data, dict):
        dropped.append(f"{label}: it is {kind(data)}, not a mapping")
        return None
    items: list[str] = []
    for key in ("item1", "item2"):
        item = data.get(key)
        if not isinstance(item, str):
            dropped.append(f"{label}: {key} should be text, not {kind(item)}")
            return None
        items.append(item)
    prompts = _prompts(data.get("prompts"), label, dropped)
    if not prompts:
        dropped.append(f"{label}: no prompts")
        return None
    # AI Dungeon 2's own words (play.py, get_curated_exposition), spaces included.
    context = ("You are {name}, a " + escape(character) + " " + escape(description)
               + "You have a " + escape(items[0]) + " and a " + escape(items[1]) + ". ")
    who = " ".join(character.split())
    where = " ".join(setting.split())
    about = " ".join(description.split()).rstrip(".")
    return Seed(
        id=seed_id("aid2", setting, character),
        title=f"{where.capitalize()} {who}".strip() or "AI Dungeon 2 seed",
        mode="adventure",
        openings=tuple(context + escape(prompt) for prompt in prompts),
        genre=where,
        description=f"AI Dungeon 2: a {who} {about}."[:200],
        placeholders=(NAME,),
        memory=context,
    )


def player_turn(action: str) -> Turn:
    """An AI Dungeon 2 action as a player turn, its text exactly as stored."""
    body = action.strip()
    if body.startswith(">"):  # "\n> You open the door.\n" (no regex: texts can be huge)
        body = body[1:].strip()
    return Turn(role="player", text=action, kind="say" if _SAY.match(body) else "do",
                raw=body)


def model_turn(text: str) -> Turn:
    return Turn(role="model", text=text, alternatives=[text])


def story_from_save(doc: object, where: str) -> tuple[ImportedStory, list[str]]:
    fields = import_fields(need_object(doc, where, "an AI Dungeon 2 save"), where)
    opening = fields.text("story_start", required=True)
    if not opening.strip():
        raise ImportProblem("story_start is empty: there is no story to import", where)
    actions = fields.texts("actions")
    results = fields.texts("results")
    dropped = []
    if len(actions) != len(results):
        extra = abs(len(actions) - len(results))
        dropped.append(f"{extra} {'actions' if len(actions) > len(results) else 'results'} "
                       "without a partner (actions and results should pair up)")
    turns: list[Turn] = []
    for action, result in zip(actions, results):
        if action.strip():  # an empty action was "continue"
            turns.append(player_turn(action))
        if result:
            turns.append(model_turn(result))
    if fields.given("choices") and fields.data["choices"] != []:
        dropped.append("choices (the picks from AI Dungeon 2's action menu)")
    if fields.given("possible_action_results"):
        dropped.append("possible_action_results (AI Dungeon 2's unpicked menu options)")
    rating = fields.data.get("rating")
    if rating is not None and rating != -1:
        small = isinstance(rating, (int, float)) and abs(rating) < 1e9  # no 4,000-digit reprs
        shown = repr(rating) if small else kind(rating)
        dropped.append(f"rating ({shown}; gpt2-adventure does not rate stories)")
    if fields.data.get("game_state"):
        dropped.append("game_state (AI Dungeon 2's internal state)")
    story = ImportedStory(title=first_sentence(opening) or "AI Dungeon 2 story",
                          mode="adventure", opening=opening, memory=fields.text("context"),
                          turns=turns)
    return story, dropped
