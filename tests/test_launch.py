"""launch.session_sampling: a seed's or save's suggestions over the player's settings."""

from __future__ import annotations

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.launch import session_sampling


def test_each_refused_suggestion_is_dropped_alone() -> None:
    base = Sampling(temperature=0.7, max_tokens=30)
    got = session_sampling(base, {
        "temperature": -1.0,  # out of bounds
        "max_tokens": "many",  # the wrong type
        "bogus": 1,  # not a setting
        "top_k": 5, "top_p": 1, "banned_strings": ["x"], "logit_bias": {"50256": -100},
    })
    assert (got.temperature, got.max_tokens) == (0.7, 30)
    assert (got.top_k, got.top_p, got.banned_strings) == (5, 1.0, ("x",))
    assert isinstance(got.top_p, float) and got.logit_bias == {50256: -100.0}
    assert session_sampling(base, {}) is base
