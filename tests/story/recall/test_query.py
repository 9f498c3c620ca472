"""What recall searches for: the newest action's salient words, and names from the last turns."""

from __future__ import annotations

from gpt2_adventure.story.recall.query import Query, build_query, tells_more, words


def test_stop_words_and_short_words_are_left_out() -> None:
    query = build_query("You ask her about the old key", [])
    assert query.strong == ("old", "key") and query.weak == ()


def test_names_are_capitalised_words_that_do_not_start_a_sentence() -> None:
    assert words("Anna meets Brannoc. Then Tobias") == [
        ("Anna", False), ("meets", False), ("Brannoc", True), ("Then", False),
        ("Tobias", True)]


def test_the_last_turns_give_names_and_longer_words_newest_first() -> None:
    query = build_query("You follow", [" Old Brannoc nods at the cat.", " Then Ysolde laughs."])
    assert query.strong == ("follow",)
    assert query.weak == ("ysolde", "laughs", "brannoc")  # "cat" is short, "Old" not a name
    assert query.names == {"ysolde", "brannoc"}


def test_possessives_count_as_the_name() -> None:
    assert build_query("You take Brannoc's hammer", []).strong == ("brannoc", "hammer")


def test_an_empty_action_searches_the_last_turns_only() -> None:
    assert not build_query("", [])
    assert build_query("", [" Then Ysolde waits."]) == Query((), ("ysolde", "waits"),
                                                             frozenset({"ysolde"}))


def test_a_passage_must_tell_more_than_the_question() -> None:
    query = build_query("You ask about Brannoc", [])
    assert not tells_more("You talk to Brannoc.", query)
    assert tells_more("Brannoc hid the silver key.", query)
