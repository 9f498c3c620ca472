"""Long made-up adventures with facts planted early, for the recall tests."""

from __future__ import annotations

import random

from gpt2_adventure.story.model import StoryState, Turn

PLACES = ["river", "mill", "forest", "hill", "bridge", "meadow", "road", "tower", "field",
          "valley", "marsh", "orchard", "ridge", "ford", "village"]
DOINGS = ["walk along the", "rest by the", "look across the", "head toward the",
          "sit near the", "wander past the"]
WEATHER = ["The wind is cold.", "Rain begins to fall.", "The sun is low.", "Birds sing.",
           "Clouds gather overhead.", "It is quiet."]

# Entities that the filler never names, each with one distinctive fact.
FACTS = {
    "Brannoc": "Brannoc the smith hid the silver key beneath the old anvil.",
    "Ysolde": "Ysolde keeps a map of the sunken catacombs sewn into her cloak.",
    "Quillon": "Quillon owes the harbour master forty crowns and fears the gallows.",
}


def filler(rng: random.Random, i: int) -> tuple[str, str]:
    """One exchange of an adventure that names none of the FACTS' entities."""
    place = rng.choice(PLACES)
    action = f"\n> You {rng.choice(DOINGS)} {place}.\n"
    reply = (f" You reach the {place} at step {i}. {rng.choice(WEATHER)}"
             f" The {rng.choice(PLACES)} lies ahead.")
    return action, reply


def planted_story(exchanges: int = 120, seed: int = 1) -> StoryState:
    """An opening, the FACTS told in the first turns, then ``exchanges`` of filler."""
    rng = random.Random(seed)
    state = StoryState(mode="adventure", title="long", turns=[
        Turn(role="opening", text="You arrive in the town of Harrow at dusk.")])
    for name, fact in FACTS.items():
        state.turns.append(Turn(role="player", text=f"\n> You talk to {name}.\n",
                                kind="do", raw=f"You talk to {name}"))
        state.turns.append(Turn(role="model", text=f" {fact} The talk moves on."))
    for i in range(exchanges):
        action, reply = filler(rng, i)
        state.turns.append(Turn(role="player", text=action, kind="do", raw=action.strip("\n> ")))
        state.turns.append(Turn(role="model", text=reply))
    return state


def act(state: StoryState, raw: str) -> None:
    """The player's next action, as the session would append it."""
    state.turns.append(Turn(role="player", text=f"\n> {raw}\n", kind="do", raw=raw))
