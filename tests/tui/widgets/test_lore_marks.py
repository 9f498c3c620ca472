"""Placing a mid-reply lore mark in the reply as the story keeps it."""

from __future__ import annotations

from rich.text import Text

from gpt2_adventure.tui.widgets.lore_marks import MARK_STYLE, marked, place_in


def test_the_mark_follows_the_words_before_it() -> None:
    streamed = " You meet the blacksmith and he waves. Then the"
    offset = len(" You meet the blacksmith")
    shown = "You meet the blacksmith and he waves."  # stripped, the last sentence cut
    assert place_in(shown, streamed, offset) == len("You meet the blacksmith")


def test_after_a_speaker_and_across_tidied_whitespace() -> None:
    streamed = " Ah,  the blacksmith\tcame by."
    shown = "Bob: Ah, the blacksmith came by."
    assert place_in(shown, streamed, len(" Ah,  the blacksmith")) == len(
        "Bob: Ah, the blacksmith")


def test_in_the_middle_of_a_word_and_in_a_continued_reply() -> None:
    streamed = " Ann went on and Anna smiled."
    shown = "Ann went on. Ann went on and Anna smiled."  # /continue: the old reply first
    offset = len(" Ann went on and Ann")
    assert place_in(shown, streamed, offset) == len("Ann went on. Ann went on and Ann")


def test_words_that_are_not_there_give_no_place() -> None:
    assert place_in("A quiet road.", " You meet the blacksmith.", 20) is None
    assert place_in("Anything", "   ", 2) is None


def test_the_mark_is_dim_and_the_text_literal() -> None:
    text = Text("The [b]smith[/b] nods.")
    out = marked(text, [(len("The [b]smith[/b]"), "lore: smith")])
    assert out.plain == "The [b]smith[/b] [lore: smith] nods."
    spans = [s for s in out.spans if s.style == MARK_STYLE]
    assert [out.plain[s.start:s.end] for s in spans] == [" [lore: smith]"]
