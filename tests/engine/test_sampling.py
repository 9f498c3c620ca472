from pathlib import Path

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


def test_banned_tokens_are_the_one_token_spellings_and_the_ignored_end_of_text() -> None:
    from gpt2_adventure.engine.sampling import banned_tokens

    pieces = {"dragon": [1, 2], " dragon": [3], "Gandalf": [4, 5, 6], " Gandalf": [7, 8],
              "the": [9], " the": [10]}
    banning = Sampling(banned_strings=("dragon", "Gandalf", "the"))
    assert banned_tokens(banning, pieces.__getitem__, eos=99) == [3, 9, 10]
    ignoring = banning.with_changes(ignore_eos=True)
    assert banned_tokens(ignoring, pieces.__getitem__, eos=99) == [99, 3, 9, 10]
    assert banned_tokens(ignoring, pieces.__getitem__, eos=None) == [3, 9, 10]  # not known
    assert banned_tokens(Sampling(), pieces.__getitem__, eos=99) == []


def test_dry_preset_puts_dry_first_with_a_light_repeat_penalty() -> None:
    dry = preset("dry")
    assert (dry.dry_multiplier, dry.dry_base, dry.dry_allowed_length) == (0.8, 1.75, 2)
    assert dry.dry_penalty_last_n == 0 and dry.dry_sequence_breakers == ("\n", ":", '"', "*")
    assert 1.0 < dry.repeat_penalty < PRESETS["default"].repeat_penalty
    assert all(p.dry_multiplier == 0 and p.xtc_probability == 0 and p.top_n_sigma == 0
               for name, p in PRESETS.items() if name != "dry")  # the others as they were


@pytest.mark.parametrize("changes, word", [
    ({"dry_multiplier": -0.1}, "dry_multiplier"),
    ({"dry_base": 0.5}, "dry_base"),
    ({"dry_allowed_length": 0}, "dry_allowed_length"),
    ({"dry_penalty_last_n": -1}, "dry_penalty_last_n"),
    ({"xtc_probability": 1.5}, "xtc_probability"),
    ({"xtc_threshold": -0.1}, "xtc_threshold"),
    ({"top_n_sigma": -1.0}, "top_n_sigma"),
])
def test_dry_xtc_and_top_n_sigma_bounds(changes: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        Sampling(**changes)


def test_dry_xtc_and_top_n_sigma_come_from_the_sampling_table(tmp_path: Path) -> None:
    from gpt2_adventure.config import load_settings

    config = tmp_path / "config.toml"
    config.write_text('[sampling]\npreset = "dry"\ndry_multiplier = 1.2\n'
                      'dry_sequence_breakers = ["\\n", ">"]\nxtc_probability = 0.5\n'
                      'xtc_threshold = 0.2\ntop_n_sigma = 1.5\n', encoding="utf-8")
    s = load_settings(config, {}).sampling
    assert (s.dry_multiplier, s.dry_sequence_breakers) == (1.2, ("\n", ">"))
    assert (s.xtc_probability, s.xtc_threshold, s.top_n_sigma) == (0.5, 0.2, 1.5)
    assert s.dry_base == preset("dry").dry_base  # the rest from the preset
    assert Sampling.from_dict(s.to_dict()) == s
