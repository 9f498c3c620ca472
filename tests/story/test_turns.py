"""How each mode talks to the model: the player's turn, the cue, the stops, the reply's turn."""

from __future__ import annotations

import pytest

from gpt2_adventure.story.events import SessionError
from gpt2_adventure.story.model import ChatSpec, StoryState, Turn
from gpt2_adventure.story.turns import player_turn, reply_cue, reply_turn, stop_strings


def _state(mode: str, chat: ChatSpec | None = None) -> StoryState:
    return StoryState(mode=mode, title="T", turns=[Turn(role="opening", text="It begins.")],
                      chat=chat)  # type: ignore[arg-type]


def test_an_adventure_writes_moves_and_stops_at_the_next() -> None:
    state = _state("adventure")
    turn = player_turn(state, "open the door", "do")
    assert turn is not None and turn.text == "\n> You open the door.\n"
    assert reply_cue(state) == ""
    assert "\n>" in stop_strings(state)
    assert reply_turn(state, " The door creaks.") == (" The door creaks.", "")
    assert player_turn(state, "   ", "do") is None


def test_a_chat_with_one_character_is_cued_by_its_name() -> None:
    state = _state("chat", ChatSpec(character="Mira", player="Anna"))
    turn = player_turn(state, "  hello   there ", "do")
    assert turn is not None and turn.text == "\nAnna: hello there" and turn.speaker == "Anna"
    assert reply_cue(state) == "\nMira:"
    assert stop_strings(state) == ["\nAnna:", "\nMira:", "\n\n\n"]
    assert reply_turn(state, " Welcome. ") == ("\nMira: Welcome.", "Mira")


def test_a_thread_of_several_voices_names_the_speaker_from_the_reply() -> None:
    state = _state("chat", ChatSpec(character="Mira", others=("Bo",)))
    assert reply_cue(state) == "\n"
    assert stop_strings(state) == ["\nYou:", "\n\n\n"]
    assert reply_turn(state, "\nBo: Me too.") == ("\nBo: Me too.", "Bo")


def test_a_story_joins_text_with_a_space_only_where_needed() -> None:
    state = _state("story")
    turn = player_turn(state, "And then", "story")
    assert turn is not None and turn.text == " And then"
    assert stop_strings(state) == []


def test_a_chat_without_its_chat_part_is_refused() -> None:
    with pytest.raises(SessionError, match="no character"):
        player_turn(_state("chat"), "hi", "say")
