"""Thirty turns of each mode through real llama.cpp on a tiny generated GPT-2."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.events import Done
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.support.evaluated import prompt_evaluated


@pytest.fixture(scope="module")
def backend(tiny_gguf: Path) -> LlamaBackend:
    b = LlamaBackend(tiny_gguf, threads=2, seed=5)
    yield b
    b.close()


@pytest.mark.parametrize("story, kind", [("knight", "do"), ("tavern-keeper", "say"),
                                         ("noir", "story")])
def test_thirty_turns(backend: LlamaBackend, story: str, kind: str) -> None:
    rng = random.Random(3)
    store = SaveStore(AppPaths.from_env())
    state = new_state(find_seed(AppPaths.from_env(), story), {"name": "Anna"}, rng)
    session = Session(state, backend, Sampling(max_tokens=24, temperature=0.9),
                      on_change=store.autosave)
    evaluated, prompts = [], []
    for turn in range(30):
        done = None
        for event in session.act(f"I look at the thing number {turn}", kind):  # type: ignore[arg-type]
            if isinstance(event, Done):
                done = event
        assert done is not None and not done.cancelled
        stats = done.stats
        assert stats is not None
        assert stats.prompt_tokens + stats.generated_tokens <= backend.n_ctx
        evaluated.append(stats.evaluated_tokens)
        prompts.append(stats.prompt_tokens)
    players = [t for t in session.state.turns if t.role == "player"]
    assert len(players) == 30
    # llama.cpp reused the story it had already seen on most turns
    assert sum(e < p / 2 for e, p in zip(evaluated, prompts)) >= 20
    assert store.load(f"autosave/{session.state.id}") == session.state


def test_warming_leaves_only_the_action_to_evaluate(backend: LlamaBackend) -> None:
    from gpt2_adventure.engine.backend import CancelToken

    state = new_state(find_seed(AppPaths.from_env(), "knight"), {"name": "Anna"},
                      random.Random(4))
    session = Session(state, backend, Sampling(max_tokens=24, temperature=0.9), max_rerolls=0)
    for turn in range(3):
        list(session.act(f"I walk to the gate number {turn}"))
    backend.reset_cache()  # as if the cache had been lost: warming rebuilds it
    assert session.warm() > 100
    done = list(session.act("I knock on the gate"))[-1]
    assert isinstance(done, Done)
    stats = done.stats
    assert stats is not None
    action = len(backend.tokenize("\n> You knock on the gate.\n"))
    assert prompt_evaluated(session, stats) <= action + 2

    cancel = CancelToken()
    cancel.cancel()
    backend.reset_cache()
    assert session.warm(cancel) == 0  # cancelled before the first chunk
