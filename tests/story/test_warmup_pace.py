"""The player's pace (story/warmup.py ``Pace``): how long they take to act after a warm-up
begins, which a warm-up's cancel token carries as when the action is expected, so that the
backend sizes the chunks an action throws away to end before then."""

from __future__ import annotations

import random
import types

import pytest

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game import Game
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story import warmup as warmup_module
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from gpt2_adventure.story.warmup import Pace
from tests.support.fake_backend import FakeBackend


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_usual_pause_is_the_median_of_the_last_few() -> None:
    clock = Clock()
    pace = Pace(keep=3, clock=clock)
    assert pace.usual() is None
    for pause in (1.0, 9.0, 3.0, 4.0):
        pace.started()
        clock.now += pause
        pace.acted()
    assert pace.usual() == 4.0  # of 9, 3 and 4: the first has gone
    clock.now += 50.0
    pace.acted()  # a line with no warm-up before it is no pause
    assert pace.usual() == 4.0


def test_a_warm_up_expects_the_action_after_the_usual_pause(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(warmup_module, "time", types.SimpleNamespace(perf_counter=clock))
    paths = AppPaths.from_env()
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
    backend = FakeBackend([" The door creaks open.", " A draft blows.", " It is dark."])
    backend.prefilled = []  # (it evaluates prompts ahead)
    game = Game(Session(state, backend, Sampling(max_tokens=30)), SaveStore(paths)).open()
    try:
        first = game.warm_up()
        assert first is not None and first.cancel.expected_at is None  # no pause seen yet
        game.warm(first)
        clock.now += 2.5
        list(game.handle("open the door").events)  # type: ignore[union-attr]
        second = game.warm_up()
        assert second is not None and second.cancel.expected_at == clock.now + 2.5
    finally:
        game.close()
