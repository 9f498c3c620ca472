"""A NovelAI .scenario as a story seed: prompt, memory, author's note, lorebook, and each
placeholder asked as NovelAI asked it, with its default."""

from __future__ import annotations

import json

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.importers import convert_bytes
from gpt2_adventure.story.model import Placeholder
from gpt2_adventure.story.seeds.library import fill_seed
from tests.support.peer_formats import novelai_scenario


def test_the_scenario_becomes_a_seed() -> None:
    conversion = convert_bytes(json.dumps(novelai_scenario()).encode(), "knight.scenario")
    assert conversion.format == "a NovelAI scenario"
    [seed] = conversion.seeds
    assert seed.id == "novelai-the-knight" and seed.mode == "story"
    assert seed.placeholders == (Placeholder("name", "Your name", "Bob"),
                                 Placeholder("q_1city", "Your city", "Larion"))
    filled = fill_seed(seed, {"name": "Ana", "q_1city": "Riften"})
    assert filled.openings == ("You are Ana, a knight of Riften. {Braces} stay. Ana rides.",)
    assert filled.memory == "Ana is brave." and filled.authors_note == "[Style: grim]"
    assert [w.comment for w in filled.world] == ["Rome Burning", "World", "Wyrm", "Harbor"]
    assert conversion.dropped[:2] == ["NovelAI's generation settings", "tags"]
    assert 'lorebook disabled entries dropped: entry 3 "Off"' in conversion.dropped


@pytest.mark.parametrize(("doc", "words"), [
    ({"scenarioVersion": 3, "prompt": " "}, "no prompt"),
    ({"scenarioVersion": 3, "prompt": "Go.", "placeholders": "x"},
     "placeholders should be a list"),
    ({"scenarioVersion": 3, "title": "T"}, "the scenario has no prompt"),
])
def test_bad_scenarios(doc: object, words: str) -> None:
    with pytest.raises(UserError) as info:
        convert_bytes(json.dumps(doc).encode(), "bad.scenario")
    assert words in info.value.message and info.value.where == "bad.scenario"
