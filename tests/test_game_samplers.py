"""`/settings` sets DRY, XTC and top-n-sigma like any other sampling setting."""

from __future__ import annotations

import random

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game import Game, Info
from gpt2_adventure.game_commands.outcomes import OpenSettings
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.support.fake_backend import FakeBackend


def test_settings_lists_and_sets_dry_xtc_and_top_n_sigma() -> None:
    paths = AppPaths.from_env()
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
    game = Game(Session(state, FakeBackend([]), Sampling()), SaveStore(paths)).open()
    try:
        shown = game.handle("/settings")
        assert isinstance(shown, OpenSettings)
        lines = shown.fallback.lines
        for line in ("dry_multiplier = 0.0", "xtc_probability = 0.0", "top_n_sigma = 0.0"):
            assert line in lines
        for line, name, value in (("/settings dry_multiplier 0.8", "dry_multiplier", 0.8),
                                  ("/settings dry_penalty_last_n 256", "dry_penalty_last_n", 256),
                                  ("/settings xtc_probability 0.5", "xtc_probability", 0.5),
                                  ("/settings top_n_sigma 1.5", "top_n_sigma", 1.5)):
            outcome = game.handle(line)
            assert isinstance(outcome, Info) and outcome.lines == [f"{name} = {value}"]
            assert getattr(game.session.sampling, name) == value
        refused = game.handle("/settings dry_base 0.5")
        assert isinstance(refused, Info) and "dry_base must be >= 1" in refused.lines[0]
    finally:
        game.close()
