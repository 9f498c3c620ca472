import pytest

from gpt2_adventure.story.person import format_do, format_say, to_second_person


@pytest.mark.parametrize("typed, action", [
    ("I open my bag", "You open your bag."),
    ("open the door", "You open the door."),
    ("I am tired", "You are tired."),
    ("I'm going home", "You're going home."),
    ("check myself for wounds", "You check yourself for wounds."),
    ("  look   around  ", "You look around."),
    ("You draw your sword!", "You draw your sword!"),
    ("ask the guard where I was", "You ask the guard where you were."),
])
def test_do_is_second_person_with_a_full_stop(typed: str, action: str) -> None:
    assert format_do(typed) == action


def test_quoted_speech_is_left_alone() -> None:
    assert to_second_person('I shout "I am the king!"') == 'you shout "I am the king!"'


@pytest.mark.parametrize("typed, said", [
    ("hello there", 'You say "Hello there."'),
    ('"Where is the king?"', 'You say "Where is the king?"'),
])
def test_say_quotes_the_words(typed: str, said: str) -> None:
    assert format_say(typed) == said


def test_empty_input_is_no_action() -> None:
    assert format_do("   ") == "" and format_say("") == ""
