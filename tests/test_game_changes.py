"""Each outcome says which turns it changes, so that a front end neither compares the story
before and after nor guesses: a stream its first turn and what the reply becomes, a
``Reloaded`` the turns to draw again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gpt2_adventure.game import Game, Reloaded, Stream
from tests.test_game import open_game, play


@pytest.fixture
def game() -> Iterator[Game]:
    game = open_game(replies=[" The door creaks open.", " A draft blows.", " It is dark.",
                              " Rain falls."])
    yield game
    game.close()


def stream(outcome: object) -> Stream:
    assert isinstance(outcome, Stream), outcome
    return outcome


def reloaded(outcome: object) -> Reloaded:
    assert isinstance(outcome, Reloaded), outcome
    return outcome


def test_an_action_writes_new_turns_after_the_story() -> None:
    game = open_game(replies=[" The door creaks open.", " A draft blows."])
    try:
        turns = len(game.state.turns)
        action = stream(game.handle("open the door"))
        assert (action.writes, action.from_turn) == ("new", turns)
        play(action)
        assert len(game.state.turns) == turns + 2  # the player's turn there, then the reply
        again = stream(game.handle(""))  # Enter alone: only a reply, after the last one
        assert (again.writes, again.from_turn) == ("new", turns + 2)
    finally:
        game.close()


def test_retry_and_continue_rewrite_the_last_reply(game: Game) -> None:
    play(game.handle("open the door"))
    last = len(game.state.turns) - 1
    retry = stream(game.handle("/retry"))
    assert (retry.writes, retry.from_turn) == ("alternative", last)
    play(retry)
    more = stream(game.handle("/continue"))
    assert (more.writes, more.from_turn) == ("extend", last)
    play(more)
    assert len(game.state.turns) == last + 1


def test_continue_after_the_players_turn_writes_a_new_reply(game: Game) -> None:
    play(game.handle("/story The rain began."))
    game.state.turns.pop()  # the story ends on the player's words
    turns = len(game.state.turns)
    more = stream(game.handle("/continue"))
    assert (more.writes, more.from_turn) == ("new", turns)
    play(more)
    assert game.state.turns[turns].role == "model"


def test_alt_and_pick_change_only_the_last_turn(game: Game) -> None:
    play(game.handle("open the door"))
    play(game.handle("/retry"))
    last = len(game.state.turns) - 1
    assert reloaded(game.handle("/alt")).changed == range(last, last + 1)
    assert reloaded(game.handle("/pick 2")).changed == range(last, last + 1)


def test_undo_draws_nothing_again_and_redo_the_turns_it_brings_back(game: Game) -> None:
    play(game.handle("open the door"))
    undone = reloaded(game.handle("/undo"))
    assert undone.changed == range(1, 1) and len(game.state.turns) == 1
    redone = reloaded(game.handle("/redo"))
    assert redone.changed == range(1, 3) and len(game.state.turns) == 3


def test_edit_changes_that_turn_only(game: Game) -> None:
    play(game.handle("open the door"))
    play(game.handle("look around"))
    assert reloaded(game.handle("/edit 2 You open the door slowly.")).changed == range(1, 2)
    assert reloaded(game.handle("/edit It is pitch dark.")).changed == range(4, 5)
    assert game.edit(0, "A new opening.").changed == range(0, 1)


def test_load_draws_everything_again(game: Game) -> None:
    play(game.handle("open the door"))
    game.handle("/save mine")
    assert reloaded(game.handle("/load mine")).changed is None
