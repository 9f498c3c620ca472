"""Replies written ahead on real llama.cpp (a tiny generated GPT-2): what retry shows is what
a live retry with the same random state writes (best first), the chosen one's cache is what
the next turn continues, and the context meter does not move while they are written."""

from __future__ import annotations

import random
from pathlib import Path

from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.choices import Choices
from gpt2_adventure.story.events import Done
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.support.evaluated import prompt_evaluated

SAMPLING = Sampling(max_tokens=20, temperature=1.0, candidates=3)


def session(path: Path, sequences: int) -> Session:
    state = new_state(find_seed(AppPaths.from_env(), "knight"), {"name": "Anna"},
                      random.Random(4))
    backend = LlamaBackend(path, threads=2, seed=11, sequences=sequences)
    return Session(state, backend, SAMPLING)


def done(events: object) -> Done:
    last = list(events)[-1]  # type: ignore[call-overload]
    assert isinstance(last, Done)
    return last


def test_retry_shows_what_a_live_retry_would_have_written(tiny_gguf: Path) -> None:
    ahead, live = session(tiny_gguf, 4), session(tiny_gguf, 1)
    try:
        for s in (ahead, live):
            done(s.act("open the door"))
        meter = ahead.preview().used
        job = ahead.ahead_job()
        assert job is not None and job.count == 2
        assert live.ahead_job() is None  # one sequence: nothing is written ahead
        assert ahead.write_ahead(job) == 2
        assert ahead.preview().used == meter
        assert ahead.collect_ahead() == 2
        shown = [done(ahead.retry()).text for _ in range(2)]
        written = [done(live.retry()).text for _ in range(2)]
        # The same replies; retry shows the best first (story/quality/score.py).
        assert sorted(shown) == sorted(written)
        scores = [s.value for s in Choices.scores(ahead.state.turns, shown)]
        assert scores == sorted(scores, reverse=True)
        assert ahead.state.turns[:-1] == live.state.turns[:-1]
        last, other = ahead.state.turns[-1], live.state.turns[-1]
        assert last.alternatives[0] == other.alternatives[0]  # the reply itself
        assert sorted(last.alternatives) == sorted(other.alternatives)
        assert len(set(last.alternatives)) == 3  # three different replies
    finally:
        ahead.backend.close()
        live.backend.close()


def test_the_next_turn_continues_the_chosen_replys_cache(tiny_gguf: Path) -> None:
    s = session(tiny_gguf, 4)
    try:
        done(s.act("open the door"))
        job = s.ahead_job()
        assert job is not None
        s.write_ahead(job)
        s.collect_ahead()
        done(s.retry())  # the first one written ahead
        stats = done(s.act("go in")).stats
        assert stats is not None
        # Only the new action (and the reply's unevaluated last token) was evaluated.
        action = len(s.backend.tokenize(s.state.turns[-2].text))
        assert prompt_evaluated(s, stats) <= action + 2
    finally:
        s.backend.close()
