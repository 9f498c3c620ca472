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
        greeting = f"\n{chat.character}: {chat.greeting.strip()}"
        turns.append(Turn(role="model", text=greeting, speaker=chat.character,
                          alternatives=[greeting]))
    return StoryState(mode=seed.mode, title=filled.title, seed_id=seed.id,
                      memory=filled.memory, authors_note=filled.authors_note,
                      world=list(filled.world), turns=turns, chat=chat,
                      sampling=dict(seed.sampling), values=dict(values), model=model)
