"""KoboldAI story JSON: import, export, and the shape KoboldAI's loader expects."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.importers import convert_bytes, import_file
from gpt2_adventure.story.importers.kobold import export_kobold, to_kobold
from gpt2_adventure.story.model import ChatSpec, StoryState, Turn, WorldEntry
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import fill_seed, find_seed
from tests.story.importers import files_under, peer_sample, write_json

STORY: dict[str, Any] = {
    "gamestarted": True,
    "prompt": "Niko the kobold crept down the alley, looking for a",
    "memory": "Niko is a small red kobold.\nNiko is hungry.",
    "authorsnote": "Things are about to get crazy.",
    "anotetemplate": "[Author's note: <|>]",
    "actions": [" chicken. He crouched", "\n\n> You grab the chicken\n",
                " The butcher yells — «Halt!» 🐔\n\n"],
    "actions_metadata": {
        "0": {"Selected Text": " chicken. He crouched",
              "Alternative Text": [{"Text": " pie.", "Pinned": False,
                                    "Previous Selection": True, "Edited": False},
                                   {"Text": " chicken. He crouched", "Pinned": False,
                                    "Previous Selection": False, "Edited": False}]},
        "1": {"Selected Text": "\n\n> You grab the chicken\n", "Alternative Text": []},
        "2": {"Selected Text": " something else", "Alternative Text": [" lost"]},
        "3": {"Selected Text": "", "Alternative Text": [{"Text": " unused option"}]},
    },
    "worldinfo": [
        {"key": "butcher, Butcher", "keysecondary": "stall", "content": "The butcher is Hans.",
         "comment": "npc", "folder": None, "selective": True, "constant": False},
        {"key": "", "keysecondary": "", "content": "It is winter.", "comment": "",
         "folder": None, "selective": False, "constant": True},
        {"key": "city", "keysecondary": "night", "content": "The city never sleeps.",
         "comment": "", "folder": 12, "selective": False, "constant": False},
        {"key": "", "keysecondary": "", "content": "Never shown.", "comment": "",
         "folder": None, "selective": False, "constant": False},
        {"key": "x", "content": None},
        {"key": 5, "content": "typed wrong"},
    ],
    "wifolders_d": {"12": {"name": "Places", "collapsed": False}}, "wifolders_l": [12],
}


@pytest.fixture
def paths() -> AppPaths:
    return AppPaths.from_env()


def test_import_maps_every_part(tmp_path: Path, paths: AppPaths) -> None:
    result = import_file(write_json(tmp_path / "Niko story.json", STORY), paths)
    [item] = result.created
    assert item.kind == "save" and item.name == "Niko story"
    state = SaveStore(paths).load("Niko story")
    assert state.title == "Niko story" and state.mode == "adventure"  # one action is "> ..."
    assert state.memory == STORY["memory"] and state.authors_note == STORY["authorsnote"]
    assert [(t.role, t.text) for t in state.turns] == [
        ("opening", STORY["prompt"]), ("model", STORY["actions"][0]),
        ("player", STORY["actions"][1]), ("model", STORY["actions"][2])]
    assert state.turns[1].alternatives == [" chicken. He crouched", " pie."]
    assert state.turns[2].kind == "do" and state.turns[2].raw == "You grab the chicken"
    assert state.turns[3].alternatives == [STORY["actions"][2]]  # metadata did not match
    assert state.world == [
        WorldEntry(keys=("butcher", "Butcher"), content="The butcher is Hans.",
                   secondary_keys=("stall",), comment="npc"),
        WorldEntry(keys=(), content="It is winter.", always=True),
        WorldEntry(keys=("city",), content="The city never sleeps."),  # not selective
    ]
    dropped = "\n".join(result.dropped)
    assert "world info entry 4: it has no keys and is not constant" in dropped
    assert "world info entry 5: it has no content" in dropped
    assert "world info entry 6: worldinfo.key should be text, not a number" in dropped
    assert "world info folders" in dropped
    assert "2 generated options that belong to no action" in dropped


def test_story_without_actions_in_adventure_shape_is_a_story(tmp_path: Path,
                                                             paths: AppPaths) -> None:
    sample = {"gamestarted": True, "prompt": "Once", "memory": "", "authorsnote": "",
              "actions": [" upon", " a time."]}
    result = import_file(write_json(tmp_path / "tale.json", sample), paths)
    state = SaveStore(paths).load(result.created[0].name)
    assert state.mode == "story" and [t.role for t in state.turns] == ["opening", "model",
                                                                       "model"]


def test_author_note_templates(tmp_path: Path) -> None:
    def note(**doc: object) -> str:
        base = {"prompt": "Once", "actions": [], **doc}
        conversion = convert_bytes(json.dumps(base).encode(), str(tmp_path / "n.json"))
        return conversion.saves[0][1].authors_note

    assert note(authorsnote="dark") == "dark"  # our prompt builder adds the same wrapper
    assert note(authorsnote="dark", anotetemplate="[Style: <|>]") == "[Style: dark]"
    assert note(authorsnote="[x]") == "[Author's note: [x]]"
    assert note(authorsnote="", anotetemplate="[Style: <|>]") == ""


def test_empty_prompt_takes_the_first_action_like_koboldai(tmp_path: Path) -> None:
    doc = {"gamestarted": True, "prompt": "", "memory": None, "actions": ["  ", "Start.",
                                                                          " Go on."]}
    conversion = convert_bytes(json.dumps(doc).encode(), str(tmp_path / "e.json"))
    state = conversion.saves[0][1]
    assert [t.text for t in state.turns] == ["Start.", " Go on."]
    assert any("prompt was empty" in note for note in conversion.notes)


@pytest.mark.parametrize(("doc", "words"), [
    ({"gamestarted": True, "prompt": "", "actions": [" "]}, "the story is empty"),
    ({"gamestarted": True, "prompt": ["x"], "actions": []}, "prompt should be text, not a list"),
    ({"gamestarted": True, "prompt": "x", "actions": [3]}, r"actions\[0\] should be text"),
    ({"gamestarted": True, "prompt": "x", "memory": {"a": 1}, "actions": []},
     "memory should be text, not a mapping"),
])
def test_bad_stories(tmp_path: Path, paths: AppPaths, doc: dict, words: str) -> None:
    source = write_json(tmp_path / "bad.json", doc)
    with pytest.raises(UserError, match=words) as info:
        import_file(source, paths)
    assert info.value.where == str(source)
    assert files_under(paths.data_dir) == []


def test_import_as_seed_keeps_world_info_and_literal_braces(tmp_path: Path,
                                                            paths: AppPaths) -> None:
    doc = dict(STORY, prompt="The {cursed} door opens.", memory="Use {{x}}.")
    result = import_file(write_json(tmp_path / "door.json", doc), paths, "seed")
    assert [i.name for i in result.created] == ["kobold-door"]
    seed = fill_seed(find_seed(paths, "kobold-door"), {})
    assert seed.openings == ("The {cursed} door opens.",) and seed.memory == "Use {{x}}."
    assert [w.keys for w in seed.world] == [("butcher", "Butcher"), (), ("city",)]
    assert seed.authors_note == STORY["authorsnote"]


def test_real_sample_story(paths: AppPaths) -> None:
    source = peer_sample("koboldai/sample_story.json")
    raw = json.loads(source.read_text(encoding="utf-8"))
    result = import_file(source, paths)
    assert result.dropped == [] and result.notes == []
    state = SaveStore(paths).load(result.created[0].name)
    assert state.turns[0].text == raw["prompt"]
    assert [t.text for t in state.turns[1:]] == raw["actions"]
    assert state.memory == raw["memory"] and state.authors_note == raw["authorsnote"]
    assert state.mode == "story"
    # Our export of it carries the same story.
    doc, _ = to_kobold(state)
    assert {k: doc[k] for k in raw} == raw


# -- export -------------------------------------------------------------------------------

def koboldai_load(js: dict[str, Any]) -> dict[str, Any]:
    """The parts of KoboldAI Client's loadRequest (aiserver.py) that touch the file: it
    indexes these keys directly, so a missing one is a KeyError there."""
    out = {"gamestarted": js["gamestarted"], "prompt": js["prompt"], "memory": js["memory"],
           "actions": list(collections.deque(js["actions"]))}
    folders = {int(k): v for k, v in js.get("wifolders_d", {}).items()}
    wifolders_u: dict[int, list[object]] = {uid: [] for uid in folders}
    metadata = js["actions_metadata"]
    assert isinstance(metadata, dict)
    for value in metadata.values():
        for alt in value["Alternative Text"]:
            assert {"Text", "Pinned", "Previous Selection", "Edited"} <= set(alt)
    out["actions_metadata"] = {int(k): v for k, v in metadata.items()}
    out["world"] = []
    for wi in js["worldinfo"]:
        entry = {"key": wi["key"], "keysecondary": wi.get("keysecondary", ""),
                 "content": wi["content"], "comment": wi.get("comment", ""),
                 "folder": wi.get("folder", None), "selective": wi.get("selective", False),
                 "constant": wi.get("constant", False)}
        if entry["folder"] is not None:
            wifolders_u[entry["folder"]].append(entry)
        out["world"].append(entry)
    out["authorsnote"] = js["authorsnote"]
    out["anotetemplate"] = js["anotetemplate"]
    return out


def game() -> StoryState:
    return StoryState(
        mode="adventure", title="Tëst {castle}", memory="  You are Ana.\n\nYou carry a lamp. ",
        authors_note="[Author's note: grim]",
        world=[WorldEntry(keys=("dragon", "wyrm"), content="The dragon\u00a0sleeps.",
                          secondary_keys=("cave",), comment="boss"),
               WorldEntry(keys=(), content="It rains.", always=True),
               WorldEntry(keys=("a, b",), content="comma key")],
        turns=[Turn("opening", "You stand at the gate.\t"),
               Turn("player", "\n> You open the door.\n", kind="do", raw="open the door"),
               Turn("model", " A cold wind — ❄.", alternatives=[" First try.", " A cold wind — ❄.",
                                                               " Third."], chosen=1),
               Turn("player", "\nThe wind stops.", kind="story", raw="The wind stops."),
               Turn("model", "\r\n  \u200b ok", alternatives=["\r\n  \u200b ok"])],
        sampling={"temperature": 0.9})


def test_export_is_what_koboldai_loads() -> None:
    text, notes = export_kobold(game())
    assert text.isascii() and text.endswith("\n")
    js = json.loads(text)
    loaded = koboldai_load(js)
    assert loaded["prompt"] == "You stand at the gate.\t"
    assert loaded["actions"] == ["\n> You open the door.\n", " A cold wind — ❄.",
                                 "\nThe wind stops.", "\r\n  \u200b ok"]
    assert [a["Text"] for a in loaded["actions_metadata"][1]["Alternative Text"]] == [
        " First try.", " Third."]
    assert loaded["memory"] == "  You are Ana.\n\nYou carry a lamp. "
    # The note is already bracketed, so KoboldAI must not wrap it again.
    assert loaded["anotetemplate"] == "<|>" and loaded["authorsnote"] == "[Author's note: grim]"
    assert loaded["world"][0] == {"key": "dragon, wyrm", "keysecondary": "cave",
                                  "content": "The dragon\u00a0sleeps.", "comment": "boss",
                                  "folder": None, "selective": True, "constant": False}
    assert loaded["world"][1]["constant"] and not loaded["world"][1]["selective"]
    assert any("comma" in n for n in notes) and any("generation settings" in n for n in notes)


def test_export_then_import_gives_back_the_same_game(tmp_path: Path) -> None:
    state = game()
    state.world.pop()  # a key with a comma cannot survive KoboldAI's comma-separated keys
    text, _ = export_kobold(state)
    back = convert_bytes(text.encode(), str(tmp_path / "x.json")).saves[0][1]
    assert back.title == state.title and back.mode == state.mode
    assert back.memory == state.memory and back.authors_note == state.authors_note
    assert back.world == state.world
    assert [t.to_dict() for t in back.turns] == [t.to_dict() for t in state.turns]


def test_chat_export_puts_the_persona_in_memory_and_comes_back(tmp_path: Path) -> None:
    chat = ChatSpec(character="Mira", persona="Mira's persona: a cartographer.",
                    example_dialogue="You: Hi\nMira: Hello!", player="You")
    state = StoryState(mode="chat", title="Mira", memory="They are lost.", chat=chat,
                       turns=[Turn("opening", "A map room."),
                              Turn("player", "\nYou: Where are we?", kind="say",
                                   raw="Where are we?", speaker="You"),
                              Turn("model", "\nMira: Nowhere.", speaker="Mira",
                                   alternatives=["\nMira: Nowhere."])])
    text, notes = export_kobold(state)
    js = json.loads(text)
    assert js["memory"] == ("Mira's persona: a cartographer.\n\nYou: Hi\nMira: Hello!\n\n"
                            "They are lost.")
    assert any("persona" in n for n in notes)
    back = convert_bytes(text.encode(), str(tmp_path / "m.json")).saves[0][1]
    assert back.mode == "chat" and back.chat == chat and back.memory == "They are lost."
    assert [t.to_dict() for t in back.turns] == [t.to_dict() for t in state.turns]


def test_extension_is_ignored_when_the_story_was_edited(tmp_path: Path) -> None:
    js = json.loads(export_kobold(game())[0])
    js["actions"].append(" More text written in KoboldAI.")
    conversion = convert_bytes(json.dumps(js).encode(), str(tmp_path / "e.json"))
    state = conversion.saves[0][1]
    assert any("does not match" in note for note in conversion.notes)
    assert state.title == "e" and state.turns[-1].text == " More text written in KoboldAI."
    assert state.turns[1].role == "player"  # "\n> ..." still reads as an action


@pytest.mark.parametrize("bad", [
    "nonsense", {"format": 2}, {"format": 1, "mode": "x"},
    {"format": 1, "mode": "story", "title": "t", "memory": "m", "turns": [{}]},
])
def test_broken_extension_falls_back(tmp_path: Path, bad: object) -> None:
    doc = {"prompt": "Once", "memory": "m", "actions": [" on"], "gpt2_adventure": bad}
    conversion = convert_bytes(json.dumps(doc).encode(), str(tmp_path / "b.json"))
    assert [t.text for t in conversion.saves[0][1].turns] == ["Once", " on"]
