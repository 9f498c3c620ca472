"""Slash commands: the table, parsing, help and completion (what they do is tests/test_game.py)."""

from __future__ import annotations

import pytest

from gpt2_adventure.story.commands import (
    COMMANDS,
    Command,
    CommandError,
    completions,
    help_text,
    parse,
    usage,
)


def test_pick_takes_a_reply_number() -> None:
    assert parse("/pick 3") == Command("pick", "3")
    assert parse("  /PICK   2 ") == Command("pick", "2")
    assert parse("/pick") == Command("pick", "")  # the game says how to use it
    assert usage("pick") == ("/pick N — show reply N of the last turn: 1.. the ones shown, "
                             "then the ones written ahead")
    assert help_text("pick") == [usage("pick")] == help_text("/pick")


def test_alt_says_it_tells_the_order_the_score_and_how_many_more_are_ready() -> None:
    assert usage("alt") == ("/alt [next|prev] — flip the last reply between its alternatives "
                            "(best first), with its score and how many more are ready")


def test_pick_is_listed_with_the_history_commands_and_completes() -> None:
    names = list(COMMANDS)
    assert names.index("retry") < names.index("alt") < names.index("pick") < names.index("undo")
    assert usage("pick") in help_text()
    assert completions("/pi") == ["/pick", "/pin"]
    assert "/pick" in completions("/p")


def test_a_near_miss_suggests_it() -> None:
    with pytest.raises(CommandError, match="did you mean.*/pick"):
        parse("/pikc 2")
