from gpt2_adventure.story.postprocess import (
    clean_reply,
    cut_to_sentence,
    loop_reason,
    repeated_ngram,
    tidy,
)


def test_stops_where_the_model_writes_the_players_turn() -> None:
    assert clean_reply(" The door opens.\n> You run away.", ["\n>"]) == " The door opens."


def test_cuts_to_the_last_complete_sentence() -> None:
    assert cut_to_sentence('He nods. "Come in," he says. The') == 'He nods. "Come in," he says.'
    assert cut_to_sentence("no end at all") == "no end at all"


def test_tidies_whitespace_and_closes_a_quote() -> None:
    assert tidy('a  b \n\n\n\nc "open') == 'a b\n\nc "open"'


def test_keeps_a_single_leading_space_or_newline() -> None:
    assert clean_reply("  Rain.", []) == " Rain."
    assert clean_reply("\n\nRain.", []) == "\nRain."
    assert clean_reply("Rain.", []) == "Rain."
    assert clean_reply(" ", []) == ""


def test_detects_repeated_phrases_and_replies() -> None:
    loop = "You walk on. You walk on. You walk on. You walk on."
    assert repeated_ngram(loop, n=3, times=3) == "you walk on"
    assert loop_reason(loop, []) is not None
    assert loop_reason("The cave is dark and cold, water drips.",
                       ["The cave is dark and cold; water drips!"]) == "repeats an earlier reply"
    assert loop_reason("A fresh and different sentence about a bird.", ["The cave is dark."]) \
        is None
