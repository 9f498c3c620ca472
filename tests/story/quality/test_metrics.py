"""Each metric on hand-written texts whose values are worked out by hand in the comments."""

from __future__ import annotations

import math

import pytest

from gpt2_adventure.story.quality.metrics import (
    bleu,
    content_words,
    distinct_n,
    self_bleu,
    sentence_loop_rate,
    sentence_loops,
    sentences,
    seq_rep_n,
    takes_up,
    words,
)


def test_words_drop_case_and_punctuation() -> None:
    assert words("The door, it's OPEN!") == ["the", "door", "it's", "open"]


def test_distinct_n() -> None:
    texts = ["the cat sat", "the cat ran"]
    # unigrams: the cat sat the cat ran -> 4 distinct of 6
    assert distinct_n(texts, 1) == pytest.approx(4 / 6)
    # bigrams: (the cat) (cat sat) | (the cat) (cat ran) -> 3 distinct of 4
    assert distinct_n(texts, 2) == pytest.approx(3 / 4)
    # trigrams: (the cat sat) (the cat ran): 2 of 2; none runs across the two texts
    assert distinct_n(texts, 3) == 1.0
    assert distinct_n(["a b"], 3) is None


def test_seq_rep_4() -> None:
    # 8 words, 5 four-grams: (a b c d) (b c d a) (c d a b) (d a b c) (a b c d) -> 4 distinct
    assert seq_rep_n("a b c d a b c d", 4) == pytest.approx(1 - 4 / 5)
    assert seq_rep_n("one two three four five", 4) == 0.0
    assert seq_rep_n("too short here", 4) is None


def test_sentence_loops_within_ten_sentences() -> None:
    text = "You see a door. You see a door! A key. you see a DOOR"
    assert sentences(text) == ["you see a door", "you see a door", "a key", "you see a door"]
    said = sentences(text)
    assert sentence_loops(said) == 2  # the 2nd and the 4th repeat the 1st
    assert sentence_loop_rate(said) == 0.5
    far = ["s0"] + [f"s{i}" for i in range(1, 11)] + ["s0"]  # s0 again 11 sentences later
    assert sentence_loops(far) == 0
    assert sentence_loops(far[1:]) == 0 and sentence_loops(["s0", *far[2:]]) == 1
    assert sentence_loop_rate([]) is None


def test_bleu_and_self_bleu() -> None:
    # hypothesis a b c d e, reference a b c d f: clipped precisions 4/5, 3/4, 2/3, 1/2,
    # same length (no brevity penalty): (4/5 * 3/4 * 2/3 * 1/2) ** (1/4) = 0.2 ** 0.25
    assert bleu(words("a b c d e"), [words("a b c d f")]) == pytest.approx(0.2 ** 0.25)
    assert self_bleu(["a b c d e", "a b c d f"]) == pytest.approx(0.2 ** 0.25)
    assert self_bleu(["the same four words", "the same four words"]) == pytest.approx(1.0)
    # nothing shared: every order smoothed to 0.1 match: (0.1/4 * 0.1/3 * 0.1/2 * 0.1/1)**(1/4)
    nothing = (0.1 / 4 * 0.1 / 3 * 0.1 / 2 * 0.1 / 1) ** 0.25
    assert bleu(words("a b c d"), [words("e f g h")]) == pytest.approx(nothing)
    # a 4-word hypothesis against a 6-word reference: brevity penalty exp(1 - 6/4); the
    # reference holds it whole, so every precision is 1
    assert bleu(words("a b c d"), [words("a b c d e f")]) == pytest.approx(math.exp(-0.5))
    # the closest reference length is used: 4 words against 4 and 8 -> no penalty
    assert bleu(words("a b c d"), [words("a b c d"), ["x"] * 8]) == pytest.approx(1.0)
    # clipping: "the the the the" against "the cat": 1 of 4 unigrams counts
    clipped = bleu(words("the the the the"), [words("the cat")])
    assert clipped == pytest.approx((1 / 4 * 0.1 / 3 * 0.1 / 2 * 0.1 / 1) ** 0.25)
    assert self_bleu(["only one"]) is None and self_bleu(["too short", "and this"]) is None


def test_action_uptake() -> None:
    assert content_words("I open the doors slowly") == {"open", "door", "slowly"}
    assert takes_up("open the doors", "The door creaks.") is True  # a plural's s ignored
    assert takes_up("open the door", "Nothing happens.") is False
    assert takes_up("go up", "You climb.") is None  # no content word to take up
    assert takes_up("cross the moss", "Moss grows.") is True  # "moss" keeps its "ss"
