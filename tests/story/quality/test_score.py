"""The reply score (story/quality/score.py) on hand-written texts whose parts are counted by
hand: each part, then the weighted mean with and without an action to take up."""

from __future__ import annotations

import pytest

from gpt2_adventure.story.quality.score import (
    best_first,
    length,
    no_loop,
    novelty,
    score_reply,
    uptake,
    whole_sentence,
)


def test_a_loop_scores_zero_and_a_repeat_inside_a_reply_costs_its_share() -> None:
    assert no_loop("the cat sat on the mat " * 3) == 0.0  # "the cat sat on" three times
    # 6 four-grams, "one two three four" twice: 5 distinct, 1/6 repeats.
    assert no_loop("one two three four one two three four five") == pytest.approx(5 / 6)
    assert no_loop("The door opens.") == 1.0  # under 4 words: nothing repeats


def test_novelty_is_the_share_not_seen_in_earlier_turns() -> None:
    # (a b c d) was seen, (b c d e) was not.
    assert novelty("a b c d e", ["x a b c d"]) == 0.5
    assert novelty("a b c d e", []) == 1.0
    assert novelty("The door opens.", ["It is dark. The door opens!"]) == 0.0  # its sentence
    assert novelty("The door opens.", ["It is dark."]) == 1.0
    assert novelty("...", []) == 0.0  # nothing said


def test_uptake_is_the_share_of_the_actions_content_words() -> None:
    # {open, heavy, door}: "door" and "open" are used ("will", "not" are stop words).
    assert uptake("The door will not open.", "open the heavy door") == pytest.approx(2 / 3)
    assert uptake("He runs to the gate.", "run to the gates") == 1.0  # plurals count
    assert uptake("Anything.", "") is None
    assert uptake("Anything.", "go on") is None  # no content word


@pytest.mark.parametrize(("reply", "whole"), [
    (" He runs.", 1.0), (' He says, "Stop!"', 1.0), (" It ends…", 1.0), (" (Done.) ", 1.0),
    (" He runs to the", 0.0), (" A list:", 0.0)])
def test_a_whole_sentence_ends_in_a_sentence_mark(reply: str, whole: float) -> None:
    assert whole_sentence(reply) == whole


def test_length_is_sensible_between_short_and_long() -> None:
    assert length("one two") == 0.5  # 2 of 4
    assert length("one two three four") == 1.0
    assert length(" ".join(["word"] * 150)) == 1.0
    assert length(" ".join(["word"] * 300)) == 0.5  # 150 / 300


def test_the_score_is_the_weighted_mean_of_its_parts() -> None:
    # No loop 1; new 1/2 (of "he runs to the" and "runs to the gate", the first was said);
    # uptake 1/2 (of {climb, gate}, "gate"); not whole 0; length 1 (5 words):
    # 0.30 + 0.25 / 2 + 0.20 / 2 + 0 + 0.10.
    score = score_reply("He runs to the gate", earlier=[" He runs to the door."],
                        action="climb the gate")
    assert (score.no_loop, score.new, score.uptake, score.whole, score.length) == \
        (1.0, 0.5, 0.5, 0.0, 1.0)
    assert score.value == pytest.approx(0.625)
    # Nothing to take up: the other weights (0.80) share its place.
    quiet = score_reply("The hall is quiet and", earlier=["It is night."])
    assert quiet.uptake is None and quiet.whole == 0.0
    assert quiet.value == pytest.approx((0.30 + 0.25 + 0.10) / 0.80)


def test_a_reply_that_repeats_an_earlier_turn_scores_below_a_fresh_one() -> None:
    earlier = [" The knight draws his sword and steps into the dark hall."]
    repeat = score_reply(" The knight draws his sword and steps into the dark hall.",
                         earlier=earlier, action="open the door")
    fresh = score_reply(" The door swings open and cold air rushes into the hall.",
                        earlier=earlier, action="open the door")
    assert repeat.new == 0.0 and fresh.new > 0.8
    assert fresh.value > repeat.value


def test_best_first_orders_by_score_keeping_ties_in_order() -> None:
    assert best_first([0.5, 0.9, 0.5, 0.7]) == [1, 3, 0, 2]
    assert best_first([]) == []
