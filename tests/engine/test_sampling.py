import pytest

from gpt2_adventure.engine.sampling import PRESETS, Sampling, preset


def test_aidungeon2_preset_matches_what_it_shipped() -> None:
    aid = preset("aidungeon2")
    assert (aid.temperature, aid.top_k, aid.top_p, aid.max_tokens) == (0.4, 40, 0.9, 60)


@pytest.mark.parametrize("changes, word", [
    ({"temperature": -0.1}, "temperature"),
    ({"top_p": 1.5}, "top_p"),
    ({"min_p": -1}, "min_p"),
    ({"mirostat": 3}, "mirostat"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"repeat_penalty": 0}, "repeat_penalty"),
])
def test_out_of_range_values_are_refused_by_name(changes: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        Sampling(**changes)


def test_from_dict_round_trips_and_rejects_unknown_keys() -> None:
    s = Sampling(temperature=0.9, banned_strings=("dragon",), logit_bias={50256: -5.0})
    assert Sampling.from_dict(s.to_dict()) == s
    with pytest.raises(ValueError, match="temprature"):
        Sampling.from_dict({"temprature": 1.0})


def test_with_changes_ignores_none() -> None:
    s = PRESETS["default"].with_changes(temperature=None, top_k=7)
    assert s.top_k == 7 and s.temperature == PRESETS["default"].temperature


def test_unknown_preset_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="aidungeon2"):
        preset("nope")


def test_unbannable_names_words_no_bias_can_ban_with_their_token_count() -> None:
    from gpt2_adventure.engine.sampling import unbannable

    pieces = {"dragon": [1, 2], " dragon": [3], "Gandalf": [4, 5, 6], " Gandalf": [7, 8],
              "the": [9], " the": [10]}
    assert unbannable(["dragon", "Gandalf", "the"], pieces.__getitem__) == [("Gandalf", 2)]
    assert unbannable([], pieces.__getitem__) == []
