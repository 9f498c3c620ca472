"""AI Dungeon scenario exports as story seeds: one per playable branch, ``${...}`` asked as
AI Dungeon asked them."""

from __future__ import annotations

import json

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.importers import convert_bytes
from gpt2_adventure.story.model import Placeholder, WorldEntry
from gpt2_adventure.story.seeds.library import fill_seed
from tests.story.importers import peer_sample
from tests.support.peer_formats import aid_scenario, aid_world_info


def convert(doc: object, as_: str | None = None):  # noqa: ANN201 - a Conversion
    return convert_bytes(json.dumps(doc).encode(), "scenarios.json", as_)  # type: ignore[arg-type]


def test_a_scenario_with_questions_and_lore() -> None:
    doc = [aid_scenario(
        "Tamriel", "Your name is [${character.name}], a [${Enter your age...}] year old "
        "{brave} soul. ${character.name} rides.", memory="You are ${character.name}.",
        authorsNote="[Genre: fantasy]", mode="adventure", worldInfo=aid_world_info()[:2],
        quests=[{"quest": "Find the crown"}])]
    conversion = convert(doc)
    assert conversion.format == "AI Dungeon scenarios"
    [seed] = conversion.seeds
    assert seed.id == "aid-tamriel" and seed.title == "Tamriel" and seed.mode == "adventure"
    assert seed.placeholders == (Placeholder("name", "What is your name?"),
                                 Placeholder("enter_your_age", "Enter your age..."))
    filled = fill_seed(seed, {"name": "Ana", "enter_your_age": "30"})
    assert filled.openings == ("Your name is [Ana], a [30] year old {brave} soul. Ana rides.",)
    assert filled.memory == "You are Ana." and filled.authors_note == "[Genre: fantasy]"
    assert filled.world[1] == WorldEntry(("Ungvid", "Jarl of Winterhold"), "Ungvid is old.")
    assert seed.description == "About Tamriel."
    assert conversion.dropped == [
        'Tamriel: world info Enhanced World Info script settings (#[...]) removed from keys: '
        'entry 1 "Katariah"',
        "Tamriel: quests (no equivalent here)"]


def test_one_seed_per_playable_branch() -> None:
    doc = aid_scenario("Quest", "Choose a class: 1) Mage 2) Thief", options=[
        aid_scenario("Mage", "You are a mage."),
        aid_scenario("Thief", "Pick a city.", options=[
            aid_scenario("Riften", "You lurk in Riften."),
            aid_scenario("Empty", "  "),
        ]),
    ])
    conversion = convert(doc)
    assert [(s.id, s.title, s.openings) for s in conversion.seeds] == [
        ("aid-quest-mage", "Quest / Mage", ("You are a mage.",)),
        ("aid-quest-thief-riften", "Quest / Thief / Riften", ("You lurk in Riften.",)),
    ]
    assert conversion.dropped == [
        "Quest: the menu's own text (each option is a seed)",
        "Quest / Thief: the menu's own text (each option is a seed)",
        "Quest / Thief / Empty: no prompt, so nothing to start from",
    ]


def test_same_titles_get_numbered_ids() -> None:
    conversion = convert([aid_scenario("A", "One."), aid_scenario("A", "Two.")])
    assert [s.id for s in conversion.seeds] == ["aid-a", "aid-a-2"]


@pytest.mark.parametrize(("doc", "as_", "words"), [
    ([aid_scenario("A", "")], None, "no playable scenario in the file (A: no prompt"),
    ([aid_scenario("A", "Go.", worldInfo="none")], None,
     "[0].worldInfo should be a list, not text"),
    ([aid_scenario("A", "Go.")], "save", "makes story seeds"),
])
def test_bad_scenarios(doc: object, as_: str | None, words: str) -> None:
    with pytest.raises(UserError) as info:
        convert(doc, as_)
    assert words in info.value.message and info.value.where == "scenarios.json"


def test_the_real_scenarios() -> None:
    path = peer_sample("aidungeon/javaman_scenarios.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    conversion = convert_bytes(path.read_bytes(), str(path))
    assert [s.title for s in conversion.seeds] == [s["title"] for s in raw]
    create = conversion.seeds[6]
    assert create.placeholders[0] == Placeholder("name", "What is your name?")
    assert len(create.world) == len(raw[6]["worldInfo"]) == 100
    answers = {p.name: f"<{p.name}>" for p in create.placeholders}
    opening = fill_seed(create, answers).openings[0]
    assert "${" not in opening and opening.startswith("Your name is [<name>], and you are a ")
