"""Scripted games scored per preset: a game of known replies gives the figures worked out by
hand below (each metric's own cases are in test_metrics.py)."""

from __future__ import annotations

import math

import pytest

from gpt2_adventure.engine.sampling import PRESETS
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.quality.play import GameRecord, TurnRecord, run_quality, score
from gpt2_adventure.story.quality.script import action
from gpt2_adventure.story.seeds.library import find_seed
from tests.support.fake_backend import FakeBackend

R1 = " The hall is dark. A door stands open."  # the hall is dark a door stands open
R2 = " The door stands open. The door stands open."  # the door stands open (twice)
A1 = " The hall is empty."  # the alternative to R1


def test_a_scripted_game_is_played_and_scored() -> None:
    replies = [" the hall the hall the hall the hall.",  # a loop: re-rolled
               R1, A1,  # turn 1: "look around" -> R1, and A1 written ahead
               R2, R2]  # turn 2: "open the door" -> R2, and the same again ahead
    backend = FakeBackend(replies)
    backend.ahead = True
    knight = find_seed(AppPaths.from_env(), "knight")
    [got] = run_quality(backend, [knight], {"default": PRESETS["default"]}, turns=2,
                        candidates=2)
    assert [action("adventure", t)[0] for t in range(2)] == ["look around", "open the door"]
    assert (got.preset, got.games, got.turns) == ("default", 1, 2)
    assert got.rerolls_per_turn == 0.5  # 1 then 0
    assert got.mean_reply_words == 8.0
    # unigrams: R1's 8 words are all new, R2's 8 add none -> 8 of 16
    assert got.distinct_1 == pytest.approx(8 / 16)
    # bigrams: R1's 7 are new; R2 adds "the door" and "open the" -> 9 of 14
    assert got.distinct_2 == pytest.approx(9 / 14)
    # trigrams: R1's 6; R2 adds "the door stands", "stands open the", "open the door" -> 9/12
    assert got.distinct_3 == pytest.approx(9 / 12)
    # R1: 5 distinct 4-grams of 5 -> 0; R2: "the door stands open" twice in 5 -> 0.2
    assert got.seq_rep_4 == pytest.approx(0.1)
    # sentences in order: the hall is dark | a door stands open | the door stands open |
    # the door stands open -> the 4th repeats the 3rd: 1 of 4
    assert got.sentence_loop_rate == 0.25
    # "look around": R1 has neither word; "open the door": R2 has both -> 1 of 2
    assert got.action_uptake == 0.5
    # turn 1: R1 against A1: 3/8, 2/7, 1/6, no 4-gram (0.1/5), R1 longer (no penalty);
    # A1 against R1: 3/4, 2/3, 1/2, 0.1/1, shorter than R1: exp(1 - 8/4). Turn 2: the same
    # reply twice, 1.0.
    r1 = (3 / 8 * 2 / 7 * 1 / 6 * 0.1 / 5) ** 0.25
    a1 = math.exp(1 - 8 / 4) * (3 / 4 * 2 / 3 * 1 / 2 * 0.1 / 1) ** 0.25
    assert got.self_bleu_4 == pytest.approx(((r1 + a1) / 2 + 1.0) / 2)
    assert set(got.to_dict()) == {
        "preset", "games", "turns", "distinct_1", "distinct_2", "distinct_3", "seq_rep_4",
        "sentence_loop_rate", "self_bleu_4", "action_uptake", "mean_reply_words",
        "rerolls_per_turn"}


def test_nothing_to_measure_is_none_not_zero() -> None:
    got = score("x", [GameRecord("s", [TurnRecord("go up", " Hm.", [" Hm."], 0)])])
    assert got.seq_rep_4 is None and got.self_bleu_4 is None and got.action_uptake is None
    assert got.distinct_3 is None and got.distinct_1 == 1.0 and got.sentence_loop_rate == 0.0
