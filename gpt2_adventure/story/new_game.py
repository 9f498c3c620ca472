"""A new game from a story seed: placeholders filled, an opening drawn."""

from __future__ import annotations

import random
from collections.abc import Mapping

from gpt2_adventure.story.events import SessionError
from gpt2_adventure.story.model import Seed, StoryState, Turn
from gpt2_adventure.story.seeds.library import fill_seed


def new_state(seed: Seed, values: Mapping[str, str], rng: random.Random,
              model: str = "") -> StoryState:
    """Start a game from a seed: fill the placeholders and pick an opening."""
    for name, value in values.items():
        if seed.mode == "chat" and ":" in value:
            raise SessionError(f"{name} cannot contain ':' in a chat (it marks who speaks)")
    filled = fill_seed(seed, values)
    opening = rng.choice(filled.openings)
    turns = [Turn(role="opening", text=opening)]
    chat = filled.chat
    if chat is not None and chat.greeting.strip():
        # The first message, and its alternate versions as alternatives (/alt flips them).
        greetings = list(dict.fromkeys(  # in order, each once
            f"\n{chat.character}: {text.strip()}"
            for text in (chat.greeting, *chat.alternate_greetings) if text.strip()))
        turns.append(Turn(role="model", text=greetings[0], speaker=chat.character,
                          alternatives=greetings))
    return StoryState(mode=seed.mode, title=filled.title, seed_id=seed.id,
                      memory=filled.memory, authors_note=filled.authors_note,
                      world=list(filled.world), turns=turns, chat=chat,
                      sampling=dict(seed.sampling), values=dict(values), model=model)
