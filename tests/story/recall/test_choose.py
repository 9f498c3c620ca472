"""Which recalled passage gives way to one about a name the player asks about now."""

from __future__ import annotations

from gpt2_adventure.story.recall.choose import to_give_up

PLACED = [(2, 0, 300, "Ysolde keeps a map sewn into her cloak."),
          (4, 0, 306, "Quillon owes the harbour master forty crowns."),
          (6, 0, 303, "The miller sold his mill to the abbey.")]


def test_the_passage_placed_last_gives_way() -> None:
    # Placed last: the least story after it is evaluated again.
    assert to_give_up(PLACED, frozenset({"brannoc"})) == 1


def test_a_passage_about_a_name_asked_now_stays() -> None:
    assert to_give_up(PLACED, frozenset({"quillon"})) == 2
    assert to_give_up(PLACED[:2], frozenset({"quillon", "ysolde"})) is None


def test_of_two_placed_before_the_same_turn_the_later_one_gives_way() -> None:
    placed = [(2, 0, 310, "Ysolde keeps a map."), (4, 0, 310, "Quillon owes crowns.")]
    assert to_give_up(placed, frozenset()) == 1
    assert to_give_up([], frozenset()) is None
