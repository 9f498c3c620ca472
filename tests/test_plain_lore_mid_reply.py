"""Plain mode and lore in the same reply: the reply reads as one, with no note inside it."""

from __future__ import annotations

import random

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game import Game
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.model import WorldEntry
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.support.fake_backend import FakeBackend
from tests.test_plain import play

LORE = "Bram the blacksmith hid the silver key."


def test_the_reply_prints_whole_and_the_entry_stays_out_of_it() -> None:
    def reply(prompt: str) -> str:
        return " and he hides something." if LORE in prompt else " You meet the blacksmith."

    paths = AppPaths.from_env()
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
    state.world.append(WorldEntry(keys=("blacksmith",), content=LORE))
    backend = FakeBackend(reply)
    game = Game(Session(state, backend, Sampling(max_tokens=60)), SaveStore(paths)).open()
    out, _ = play("look around\n", game=game)
    assert len(backend.prompts) == 2  # the entry was put in mid-reply
    assert "> You look around.\n\nYou meet the blacksmith and he hides something.\n" in out
    assert LORE not in out and "[lore" not in out
