"""AI Dungeon 2: story_data.yaml seeds and story<uuid>.json saves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.importers import convert_bytes, convert_file, import_file
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import fill_seed, find_seed, list_seeds, load_seed
from tests.story.importers import files_under, peer_sample, write_json

STORY_DATA = """\
settings:

  fantasy:
    description: "living in the kingdom of Larion. "
    characters:

      knight:
        prompts: ["You enter the dark forest and see",
                  "You ride to the {gate} of Larion and"]
        item1: "steel longsword"
        item2: "wooden shield"

      noitems:
        prompts: ["You wait."]
        item1: "rope"

      empty:
        prompts: []
        item1: "a"
        item2: "b"

  space:
    description: " floating in the void. "
    characters:
      Pilot:
        prompts: "Alarms blare and you see"
        item1: "flight suit"
        item2: "laser"

  broken: "not a mapping"
"""
CONTEXT = ("You are Bob, a knight living in the kingdom of Larion. You have a steel longsword "
           "and a wooden shield. ")
AID2_SAVE = {
    "story_start": CONTEXT + "You enter the dark forest and see a dragon.\n\nIt is huge. ",
    "context": CONTEXT,
    "actions": ["\n> You attack the dragon.\n", "", 'You say "hello"'],
    "results": [" The dragon roars — «ça brûle»!  \n", " It flies away.\n\n", " Nobody\u00a0"
                "answers. 🐉"],
    "choices": [], "possible_action_results": None, "game_state": {}, "seed": None,
    "uuid": "0b7a5c32-2f1e-11ea-9e2f-0242ac1c0002", "rating": 7,
}


@pytest.fixture
def paths() -> AppPaths:
    return AppPaths.from_env()


def test_each_setting_and_character_becomes_a_seed(tmp_path: Path, paths: AppPaths) -> None:
    source = tmp_path / "story_data.yaml"
    source.write_text(STORY_DATA, encoding="utf-8")
    result = import_file(source, paths)
    assert [item.name for item in result.created] == ["aid2-fantasy-knight",
                                                      "aid2-space-pilot"]
    assert all(item.path.parent == paths.stories_dir for item in result.created)
    dropped = "\n".join(result.dropped)
    assert "'fantasy/noitems': item2 should be text, not null" in dropped
    assert "'fantasy/empty': no prompts" in dropped
    assert "setting 'broken': it is text, not a mapping" in dropped

    knight = find_seed(paths, "aid2-fantasy-knight")
    assert knight.mode == "adventure" and knight.genre == "fantasy"
    assert [p.question for p in knight.placeholders] == ["What is your name?"]
    filled = fill_seed(knight, {"name": "Bob"})
    # AI Dungeon 2's own opening, one per prompt; braces from the file stay literal.
    assert filled.openings == (CONTEXT + "You enter the dark forest and see",
                               CONTEXT + "You ride to the {gate} of Larion and")
    assert filled.memory == CONTEXT
    pilot = fill_seed(find_seed(paths, "aid2-space-pilot"), {"name": "Ada"})
    assert pilot.openings == ("You are Ada, a Pilot  floating in the void. You have a flight "
                              "suit and a laser. Alarms blare and you see",)


def test_importing_again_skips_existing_seeds(tmp_path: Path, paths: AppPaths) -> None:
    source = tmp_path / "story_data.yaml"
    source.write_text(STORY_DATA, encoding="utf-8")
    import_file(source, paths)
    knight = paths.stories_dir / "aid2-fantasy-knight.toml"
    knight.write_text(knight.read_text() + "# my edit\n")
    again = import_file(source, paths)
    assert again.created == [] and len(again.skipped) == 2
    assert knight.read_text().endswith("# my edit\n")


def test_no_usable_character_is_an_error_and_writes_nothing(tmp_path: Path,
                                                            paths: AppPaths) -> None:
    source = tmp_path / "story_data.yaml"
    source.write_text("settings:\n  fantasy:\n    description: 3\n", encoding="utf-8")
    with pytest.raises(UserError, match="no setting with a usable character") as info:
        import_file(source, paths)
    assert info.value.where == str(source)
    assert files_under(paths.stories_dir) == []


def test_a_character_name_with_a_newline_keeps_the_error_on_one_line(tmp_path: Path) -> None:
    # Found by the fuzzer: the dropped character's name went into the message as it was.
    data = b'{"settings": {"": {"description": "", "characters": {"\\n> x": null}}}}'
    with pytest.raises(UserError, match="no setting with a usable character") as info:
        convert_bytes(data, str(tmp_path / "story.json"))
    assert "\n" not in info.value.message
    assert "'/\\n> x'" in info.value.message


def test_too_many_seeds_is_refused(tmp_path: Path) -> None:
    # YAML aliases multiply cheaply: 30 settings x 30 characters from a tiny file.
    characters = "\n".join(f"    c{i}: *c" for i in range(1, 30))
    text = ("base: &c {prompts: [p], item1: a, item2: b}\nchars: &chars\n    c0: *c\n"
            + characters + "\nsettings:\n"
            + "\n".join(f"  s{i}: {{description: d, characters: *chars}}" for i in range(30)))
    with pytest.raises(UserError, match="more than 500 seeds"):
        convert_bytes(text.encode(), str(tmp_path / "story_data.yaml"))


def test_save_as_seed_is_refused_for_story_data(tmp_path: Path) -> None:
    source = tmp_path / "story_data.yaml"
    source.write_text(STORY_DATA, encoding="utf-8")
    with pytest.raises(UserError, match="not a saved game"):
        convert_file(source, "save")


def test_real_story_data_yaml(paths: AppPaths) -> None:
    source = peer_sample("aidungeon2/story_data.yaml")
    result = import_file(source, paths)
    assert len(result.created) == 14 and result.dropped == []
    seeds, errors = list_seeds(paths)
    assert errors == [] and {s.id for s in seeds} >= {i.name for i in result.created}
    knight = fill_seed(load_seed(paths.stories_dir / "aid2-fantasy-knight.toml"),
                       {"name": "Bob"})
    assert knight.openings == (
        "You are Bob, a knight living in the kingdom of Larion. You have a steel longsword "
        "and a wooden shield. You are on a quest to defeat the evil dragon of Larion. You've "
        "heard he lives up at the north of the kingdom. You set on the path to defeat him and "
        "walk into a dark forest. As you enter the forest you see",)
    # A double-quoted YAML string over two lines folds into one line, as PyYAML read it
    # for AI Dungeon 2.
    soldier = fill_seed(load_seed(paths.stories_dir / "aid2-zombies-soldier.toml"),
                        {"name": "Bob"})
    assert "keep the small town you're stationed near safe" in soldier.openings[0]
    assert soldier.openings[0].startswith("You are Bob, a soldier  trying to survive")


def test_save_turns_keep_the_text_exactly(tmp_path: Path, paths: AppPaths) -> None:
    source = write_json(tmp_path / "story0b7a5c32.json", AID2_SAVE)
    result = import_file(source, paths)
    [item] = result.created
    assert item.kind == "save" and item.name == "story0b7a5c32"
    state = SaveStore(paths).load(item.name)
    assert state.mode == "adventure" and state.memory == CONTEXT
    assert state.title == "You are Bob, a knight living in the kingdom of Larion."
    assert [(t.role, t.text, t.kind, t.raw) for t in state.turns] == [
        ("opening", AID2_SAVE["story_start"], None, ""),
        ("player", "\n> You attack the dragon.\n", "do", "You attack the dragon."),
        ("model", " The dragon roars — «ça brûle»!  \n", None, ""),
        ("model", " It flies away.\n\n", None, ""),  # "" was AI Dungeon 2's "continue"
        ("player", 'You say "hello"', "say", 'You say "hello"'),
        ("model", " Nobody\u00a0answers. 🐉", None, ""),
    ]
    assert all(t.alternatives == [t.text] for t in state.turns if t.role == "model")
    dropped = "\n".join(result.dropped)
    assert "possible_action_results" not in dropped  # null: nothing lost
    assert "rating (7" in dropped


def test_save_with_nulls_and_odd_lengths(tmp_path: Path, paths: AppPaths) -> None:
    doc = {"story_start": "Once.", "context": None, "actions": ["\n> You sit.\n", "x"],
           "results": [" Fine."], "choices": [1, 2], "possible_action_results": [["a", "b"]]}
    result = import_file(write_json(tmp_path / "s.json", doc), paths)
    state = SaveStore(paths).load(result.created[0].name)
    assert [t.text for t in state.turns] == ["Once.", "\n> You sit.\n", " Fine."]
    dropped = "\n".join(result.dropped)
    assert "1 actions without a partner" in dropped and "choices" in dropped
    assert "possible_action_results" in dropped


@pytest.mark.parametrize(("doc", "words"), [
    ({"story_start": 3}, "story_start should be text, not a number"),
    ({"story_start": None, "actions": []}, "story_start is missing"),
    ({"story_start": "  "}, "story_start is empty"),
    ({"story_start": "x", "actions": "oops"}, "actions should be a list of text"),
    ({"story_start": "x", "actions": ["a"], "results": [{"t": 1}]},
     r"results\[0\] should be text, not a mapping"),
])
def test_bad_saves_are_clear_errors(tmp_path: Path, paths: AppPaths, doc: dict,
                                    words: str) -> None:
    source = write_json(tmp_path / "story1.json", doc)
    with pytest.raises(UserError, match=words) as info:
        import_file(source, paths)
    assert info.value.where == str(source)
    assert files_under(paths.saves_dir) == []


def test_save_as_seed(tmp_path: Path, paths: AppPaths) -> None:
    doc = dict(AID2_SAVE, story_start="You find a {strange} chest.")
    result = import_file(write_json(tmp_path / "story1.json", doc), paths, "seed")
    [item] = result.created
    assert item.kind == "seed" and item.name == "aid2-story1"
    seed = fill_seed(find_seed(paths, "aid2-story1"), {})
    assert seed.openings == ("You find a {strange} chest.",) and seed.memory == CONTEXT
    assert any("turns after the opening" in d for d in result.dropped)
    assert json.loads(json.dumps(AID2_SAVE))  # the fixture itself is plain JSON
