"""Transcript export: order, visible player actions, and text that stays text."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.export import export_markdown, export_text, markdown_escape, transcript
from gpt2_adventure.story.model import ChatSpec, StoryState, Turn

HOSTILE = "**bold** [link](x) <script>alert(1)</script> \x1b[31mred\x1b]0;title\x07 `code`"


def render(markdown: str) -> str:
    """HTML as a GitHub-like Markdown viewer would make it."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


def words(text: str) -> str:
    return " ".join(text.split())


def shown_words(markdown: str) -> str:
    """What a reader sees: the rendered HTML without tags, entities decoded."""
    return words(html.unescape(re.sub(r"<[^>]*>", " ", render(markdown))))


def adventure() -> StoryState:
    return StoryState(mode="adventure", title="The Castle", turns=[
        Turn("opening", "You are a knight at the castle gate."),
        Turn("player", "\n> You open the door.\n", kind="do", raw="open the door"),
        Turn("model", " The door creaks open.", alternatives=[" Locked.", " The door creaks open."],
             chosen=1),
        Turn("model", " A cold wind blows.\n\nSomewhere, a bell rings."),
        Turn("player", '\n> You say "Hello?"\n', kind="say", raw="hello?"),
        Turn("model", " " + HOSTILE),
    ])


def test_markdown_transcript_in_order_with_actions_quoted() -> None:
    md = export_markdown(adventure())
    assert md.startswith("# The Castle\n\n")
    order = ["You are a knight", "> You open the door.", "The door creaks open. A cold wind",
             "Somewhere, a bell rings.", '> You say "Hello?"', "\\*\\*bold\\*\\*"]
    positions = [md.index(part) for part in order]
    assert positions == sorted(positions)
    assert "Locked." not in md  # only the chosen alternative
    page = render(md)
    assert page.count("<blockquote>") == 2 and "<h1>The Castle</h1>" in page


def test_replies_written_ahead_are_never_exported() -> None:
    from gpt2_adventure.story.importers.kobold import export_kobold

    state = adventure()
    state.turns[2].ahead = [" A troll waits.", " Unshown."]
    state.turns[-1].ahead = [" The bell stops."]  # the last reply: where they usually are
    kobold, _notes = export_kobold(state)
    for text in (export_markdown(state), export_text(state), kobold,
                 " ".join(e.text for e in transcript(state))):
        assert not [w for w in ("troll", "Unshown", "bell stops") if w in text], text
    assert export_markdown(state) == export_markdown(adventure())  # as if there were none


def test_markup_and_escapes_in_a_reply_stay_literal() -> None:
    md = export_markdown(adventure())
    page = render(md)
    for tag in ("<strong>", "<a ", "<script>", "<code>", "<em>"):
        assert tag not in page
    assert "\x1b" not in md and "\x07" not in md
    expected = words(printable(HOSTILE))
    assert expected in shown_words(md)
    assert "\\x1b[31mred" in shown_words(md)


def test_plain_text_shows_markup_as_is_and_controls_as_escapes() -> None:
    text = export_text(adventure())
    assert text.startswith("The Castle\n==========\n\n")
    assert "> You open the door.\n" in text and '> You say "Hello?"' in text
    assert "**bold** [link](x) <script>alert(1)</script> \\x1b[31mred\\x1b]0;title\\x07" in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", text)


def test_line_starts_that_would_be_markup() -> None:
    reply = ("# not a heading\n> not a quote\n- not a list\n+ nor this\n1. nor this\n"
             "2) nor this\n    not code\n---\n===\n```\n~~~\n| a | b |\n|---|---|\n"
             "[ref]: http://x\n&amp; &#65; &copy;")
    state = StoryState(mode="story", title="# Title *with* _marks_\nand a newline",
                       turns=[Turn("opening", reply)])
    md = export_markdown(state)
    page = render(md)
    for tag in ("<h2", "<blockquote", "<ul", "<ol", "<pre", "<hr", "<table", "<del", "<em"):
        assert tag not in page, tag
    assert page.count("<h1>") == 1
    assert shown_words(md) == words("# Title *with* _marks_ and a newline " + reply)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"ab 1.\n\t#>*_-+=`~[]()<>!&;|\\:$x0:/\x1bé\u00a0",
                                 "&amp;", "&#65;", "http://x.y", "    "]),
               max_size=40).map("".join))
def test_any_text_renders_as_exactly_its_words(text: str) -> None:
    assert shown_words(markdown_escape(text)) == words(printable(text))


def test_chat_transcript() -> None:
    state = StoryState(mode="chat", title="The Tavern",
                       chat=ChatSpec(character="Greta", player="Ann", others=("Old Bob",)))
    state.turns = [
        Turn("opening", "Greta: Welcome, traveller!", speaker="Greta"),
        Turn("player", "\nAnn: Hi *there*\n", speaker="Ann", raw="Hi *there*"),
        Turn("model", " An ale, then?\nOld Bob: Make it two!", speaker="Greta"),
    ]
    assert [(e.speaker, e.text) for e in transcript(state)] == [
        ("Greta", "Welcome, traveller!"), ("Ann", "Hi *there*"), ("Greta", "An ale, then?"),
        ("Old Bob", "Make it two!")]
    md = export_markdown(state)
    assert "**Ann:** Hi \\*there\\*" in md and "**Old Bob:** Make it two!" in md
    assert render(md).count("<strong>") == 4
    text = export_text(state)
    assert "Ann: Hi *there*\n\nGreta: An ale, then?\n\nOld Bob: Make it two!\n" in text


def test_story_mode_is_one_piece_of_prose() -> None:
    state = StoryState(mode="story", title="Co-written", turns=[
        Turn("opening", "It was a dark"),
        Turn("player", " and stormy", kind="story"),
        Turn("model", " night."),
    ])
    assert export_text(state) == "Co-written\n==========\n\nIt was a dark and stormy night.\n"


def test_empty_and_untitled() -> None:
    state = StoryState(mode="adventure", title="  ")
    assert export_markdown(state) == "# Untitled\n"
    assert export_text(state) == "Untitled\n========\n"
