"""KoboldAI United's own story format (``"file_version": 2``): detection, import, the CLI,
hostile files (pickles are never unpickled) and fuzzing."""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gpt2_adventure.cli.imports import import_command
from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.importers import convert_bytes, convert_document, import_file
from gpt2_adventure.story.importers import kobold_united as united_module
from gpt2_adventure.story.importers.detect import detect
from gpt2_adventure.story.model import ChatSpec, WorldEntry
from gpt2_adventure.story.saves import format as save_format
from gpt2_adventure.story.saves.store import SaveStore
from tests.story.importers import files_under
from tests.support.kobold_united import (
    MakesDirectory,
    action,
    entry,
    option,
    pickled,
    register,
    united_story,
)

PROMPT = "Ana stood before the gate of Varn, the rain cold on her neck."
ACTIONS = [
    action(" The gate was shut. A guard watched her from the wall.", options=(
        option(" The gate stood open.", previous=True),
        option(" Nobody was there.", pinned=True),
        option(" The gate was shut. A guard watched her from the wall.", previous=True),
        option(" The gate was shut.", edited=True))),
    action("\n\n> You knock on the gate.\n", origin="user"),
    action(" The guard shouts: «Who goes there?» 🛡", origin="ai"),
    action("\n\n> You say \"A friend.\"\n", origin="user",
           options=(option("\n\n> You say \"Hello.\"\n", edited=True),)),
    action(" He lets her in."),  # chosen from generated options: United marks no origin
]
ENTRIES = [
    entry(0, ["guard", "Guard"], "The guard is Tomas, old and tired.", comment="npc",
          secondary=["wall", "gate"]),
    entry(1, [], "It has rained for a week.", constant=True, title="Weather"),
    entry(2, ["Varn"], "Varn is a city of bridges.", folder="Places", title="The city"),
    entry(3, ["inn"], "typed text", folder="Places", manual_text="The inn is the Red Boar."),
    entry(4, ["Tomas"], '[Character("Tomas")\n{\nAge("60")\n}]', folder="People",
          use_wpp=True, manual_text="", wpp={"name": "Tomas", "type": "Character",
                                             "format": "W++", "attributes": {"Age": ["60"]}}),
    entry(5, [], "Never shown.", folder="People"),
    entry(6, ["x"], "Commentary.", wi_type="commentator"),
]


def story(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        prompt=PROMPT, story_name="The Gate of Varn", memory="Ana is a courier.",
        authornote="Keep it tense.", adventure=True, storymode=1, actionmode=1,
        actions=register(ACTIONS, extra={
            5: action("", options=(option(" Then night fell.", previous=True),
                                   option(" A bell rang."))),
        }), entries=ENTRIES, notes="Remember the bridge.")
    fields.update(changes)
    return united_story(**fields)


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc, indent="\t"), encoding="utf-8")  # as United writes it
    return path


@pytest.fixture
def paths() -> AppPaths:
    return AppPaths.from_env()


# -- detection ----------------------------------------------------------------------------

@pytest.mark.parametrize("doc", [
    story(),
    {"file_version": 2, "prompt": "x", "actions": {"action_count": -1, "actions": {}}},
    {"prompt": "x", "actions": {"action_count": -1, "actions": {}}},  # no file_version
])
def test_detected_from_content(doc: dict[str, Any]) -> None:
    for suffix in (".json", ".txt", ""):
        assert detect(json.dumps(doc), "f" + suffix, suffix).format == "kobold-united"


def test_older_formats_are_still_told_apart() -> None:
    assert detect('{"prompt": "x", "actions": ["a"]}', "f.json", ".json").format == "kobold"
    clover = '{"context": "c", "actions": {"0": "a"}, "results": []}'
    assert detect(clover, "f.json", ".json").format == "clover-save"


def test_read_as_an_older_kobold_story_it_is_refused_by_name() -> None:
    with pytest.raises(UserError, match="KoboldAI United's own story format"):
        convert_document(story(), "kobold", "f.json")


# -- import -------------------------------------------------------------------------------

def test_import_maps_every_part(tmp_path: Path, paths: AppPaths) -> None:
    result = import_file(write(tmp_path / "varn.json", story()), paths)
    assert result.format == ("a KoboldAI United story (5 turns, 3 alternatives, "
                             "5 world entries)")
    [item] = result.created
    assert item.kind == "save" and item.name == "varn"
    state = SaveStore(paths).load("varn")
    assert state.title == "The Gate of Varn" and state.mode == "adventure"
    assert state.memory == "Ana is a courier."
    assert state.authors_note == "Keep it tense."  # the default template is ours too
    texts = [a["Selected Text"] for a in ACTIONS]
    assert [(t.role, t.text) for t in state.turns] == [
        ("opening", PROMPT), ("model", texts[0]), ("player", texts[1]), ("model", texts[2]),
        ("player", texts[3]), ("model", texts[4])]
    first = state.turns[1]
    assert first.alternatives == [texts[0], " The gate stood open.", " Nobody was there.",
                                  " The gate was shut."]
    assert first.chosen == 0
    assert (state.turns[2].kind, state.turns[2].raw) == ("do", "You knock on the gate.")
    assert (state.turns[4].kind, state.turns[4].raw) == ("say", 'You say "A friend."')
    assert state.turns[3].alternatives == [texts[2]] and state.turns[5].alternatives == [texts[4]]
    assert state.world == [
        WorldEntry(keys=("guard", "Guard"), content="The guard is Tomas, old and tired.",
                   secondary_keys=("wall", "gate"), comment="npc"),
        WorldEntry(keys=(), content="It has rained for a week.", always=True,
                   comment="Weather"),
        WorldEntry(keys=("Varn",), content="Varn is a city of bridges.", comment="The city"),
        WorldEntry(keys=("inn",), content="The inn is the Red Boar."),  # manual_text
        WorldEntry(keys=("Tomas",), content='[Character("Tomas")\n{\nAge("60")\n}]'),  # W++
    ]
    assert result.dropped == [
        "lua_edited, lua_deleted (stored as Python pickles, which are never read: a story "
        "file could run code through them)",
        "2 options of undone or unfinished actions (redo)",
        "1 earlier versions of the player's actions",
        "world info entry 6: it has no keys and is not constant, so it never shows",
        "1 world info commentator entries",
        "world info folders Places, People (the entries are kept, without folders)",
        "story notes (KoboldAI United's; no equivalent here)",
    ]
    assert result.notes == []


def test_actions_follow_action_count_and_their_numbers(tmp_path: Path) -> None:
    # Numbers out of order in the file; the action after action_count holds options not
    # chosen yet; an emptied (undone) action adds nothing.
    table = {"2": action(" three."), "0": action(" one."), "1": action(""),
             "10": action(" ten."), "3": action(" pending", options=(option(" a"),)),
             "x": action(" not a number")}
    doc = united_story(prompt="Start.", actions={"action_count": "2", "actions": table})
    conversion = convert_bytes(json.dumps(doc).encode(), str(tmp_path / "n.json"))
    state = conversion.saves[0][1]
    assert [t.text for t in state.turns] == ["Start.", " one.", " three.", " ten."]
    assert state.mode == "story"
    assert "1 action whose key is not a number" in conversion.dropped
    assert "1 options of undone or unfinished actions (redo)" in conversion.dropped


def test_who_wrote_what_in_a_story(tmp_path: Path) -> None:
    actions = register([action(" The player wrote this.", origin="user"),
                        action("\n> looks like an action\n", origin="ai"),
                        action(" Model text.")])
    doc = united_story(prompt="Once.", actions=actions)
    state = convert_bytes(json.dumps(doc).encode(), str(tmp_path / "s.json")).saves[0][1]
    assert state.mode == "story"
    assert [(t.role, t.kind) for t in state.turns[1:]] == [
        ("player", "story"), ("model", None), ("model", None)]
    assert state.turns[1].raw == "The player wrote this."


def test_chat_mode_moves_the_bots_name_to_its_reply(tmp_path: Path) -> None:
    actions = register([action("\nAna: Hello there.\nMira:", origin="user"),
                        action(" Hi, Ana!\n", options=(option(" Go away.\n", previous=True),)),
                        action("\nAna: How are you?\nMira:")])  # an older save: no origin
    doc = united_story(prompt="Mira runs the shop.", actions=actions, chatmode=True,
                       storymode=2, chatname="Ana", botname="Mira")
    state = convert_bytes(json.dumps(doc).encode(), str(tmp_path / "c.json")).saves[0][1]
    assert state.mode == "chat" and state.chat == ChatSpec(character="Mira", player="Ana")
    turns = state.turns[1:]
    assert [(t.role, t.text, t.speaker) for t in turns] == [
        ("player", "\nAna: Hello there.", "Ana"), ("model", "\nMira: Hi, Ana!\n", "Mira"),
        ("player", "\nAna: How are you?", "Ana")]
    assert turns[0].raw == "Hello there." and turns[2].raw == "How are you?"
    assert turns[1].alternatives == ["\nMira: Hi, Ana!\n", "\nMira: Go away.\n"]
    # The story reads as United had it, up to the cue the game writes before each reply.
    assert "".join(t.text for t in state.turns) + "\nMira:" == PROMPT_CHAT(actions)


def PROMPT_CHAT(actions: dict[str, Any]) -> str:  # noqa: N802 (reads as a constant)
    return "Mira runs the shop." + "".join(
        a["Selected Text"] for a in actions["actions"].values())


def test_author_note_template_and_title(tmp_path: Path) -> None:
    doc = united_story(prompt="Once.", authornote="grim", authornotetemplate="[Style: <|>]")
    name = tmp_path / "Stories" / "Grim tale" / "story.json"
    name.parent.mkdir(parents=True)
    conversion = convert_bytes(json.dumps(doc).encode(), str(name))
    save_name, state = conversion.saves[0]
    assert state.authors_note == "[Style: grim]"
    assert state.title == "story" and save_name == "story"  # "New Game" is no name
    doc["story_name"] = "Grim tale"
    conversion = convert_bytes(json.dumps(doc).encode(), str(name))
    save_name, state = conversion.saves[0]
    assert state.title == "Grim tale" and save_name == "Grim tale"  # not "story"


def test_empty_prompt_takes_the_first_action(tmp_path: Path) -> None:
    doc = united_story(prompt="", actions=register([action(" "), action("Start."),
                                                     action(" Go on.")]))
    conversion = convert_bytes(json.dumps(doc).encode(), str(tmp_path / "e.json"))
    assert [t.text for t in conversion.saves[0][1].turns] == ["Start.", " Go on."]
    assert any("prompt was empty" in note for note in conversion.notes)


def test_as_seed(tmp_path: Path, paths: AppPaths) -> None:
    result = import_file(write(tmp_path / "varn.json", story()), paths, "seed")
    assert [i.name for i in result.created] == ["kobold-varn"]
    assert "5 turns after the opening" in " ".join(result.dropped)


def test_other_united_settings_are_named_when_they_hold_something(tmp_path: Path) -> None:
    doc = united_story(prompt="Once.", biases={"dragon": [2.0, 0]}, genres=["horror"],
                       substitutions=[{"target": "--", "substitution": "–", "enabled": True}],
                       revisions=[{"prompt": "old"}], auto_memory="", stop_sequence=[])
    dropped = convert_bytes(json.dumps(doc).encode(), str(tmp_path / "o.json")).dropped
    assert dropped[-1] == ("phrase biases, genres, earlier revisions, text substitutions "
                           "(KoboldAI United's; no equivalent here)")


# -- hostile files: pickles -----------------------------------------------------------------

def test_pickles_are_never_unpickled(tmp_path: Path, paths: AppPaths) -> None:
    # The payload is live: unpickling it creates a directory.
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(MakesDirectory(proof)))  # noqa: S301 (our own payload)
    assert proof.is_dir()
    target = tmp_path / "pwned"
    payload = pickled(MakesDirectory(target))
    doc = story(lua_edited=payload, memory=payload, biases=payload)
    result = import_file(write(tmp_path / "evil.json", doc), paths)
    assert not target.exists()
    assert result.created and SaveStore(paths).load("evil").memory == ""
    assert result.dropped[0] == (
        "memory, lua_edited, lua_deleted, biases (stored as Python pickles, which are never "
        "read: a story file could run code through them)")


def test_a_pickled_story_or_world_is_dropped_not_run(tmp_path: Path, paths: AppPaths) -> None:
    target = tmp_path / "pwned"
    payload = pickled(MakesDirectory(target))
    doc = story(actions=payload, worldinfo_v2=payload, prompt=payload)
    source = write(tmp_path / "evil.json", doc)
    with pytest.raises(UserError, match="the story is empty"):
        import_file(source, paths)
    assert not target.exists() and files_under(paths.data_dir) == []
    doc["prompt"] = "Once."
    result = import_file(write(source, doc), paths)
    assert "prompt" not in result.dropped[0]
    assert result.dropped[0].startswith("actions, worldinfo_v2, lua_edited, lua_deleted (")
    assert not target.exists()


def test_the_importer_cannot_unpickle() -> None:
    """No pickle, marshal, eval or exec anywhere in the module (read as source)."""
    tree = ast.parse(Path(united_module.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names} | {node.module for node in ast.walk(tree)
                                            if isinstance(node, ast.ImportFrom)}
    called = {node.func.id for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not {"pickle", "marshal", "shelve", "dill", "base64"} & imported
    assert not {"eval", "exec", "compile", "__import__"} & called


# -- bad files ------------------------------------------------------------------------------

BAD = [
    ({"file_version": 2, "prompt": "", "actions": {"action_count": -1, "actions": {}}},
     "the story is empty"),
    ({"file_version": 2, "prompt": ["x"]}, "prompt should be text, not a list"),
    ({"file_version": 2, "prompt": "x", "actions": ["a"]}, "actions should be an object"),
    ({"file_version": 2, "prompt": "x", "actions": {"action_count": "many", "actions": {}}},
     "actions.action_count should be a number, not text"),
    ({"file_version": 2, "prompt": "x", "actions": {"action_count": "--1", "actions": {}}},
     "actions.action_count should be a number, not text"),
    ({"file_version": 2, "prompt": "x", "actions": {"action_count": True, "actions": {}}},
     "actions.action_count should be a number, not true"),
    ({"file_version": 2, "prompt": "x", "actions": {"action_count": 0, "actions": {"0": 5}}},
     r"actions.actions.0 should be an object, not a number"),
    ({"file_version": 2, "prompt": "x", "actions": {"action_count": 0, "actions": {
        "0": {"Selected Text": ["a"]}}}}, r"actions.actions.0.Selected Text should be text"),
    ({"file_version": 2, "prompt": "x", "memory": {"a": 1}}, "memory should be text"),
]


@pytest.mark.parametrize(("doc", "words"), BAD)
def test_bad_files(tmp_path: Path, paths: AppPaths, doc: dict[str, Any], words: str) -> None:
    source = write(tmp_path / "bad.json", doc)
    with pytest.raises(UserError, match=words) as info:
        import_file(source, paths)
    assert info.value.where == str(source)
    assert files_under(paths.data_dir) == []


def test_bad_world_info_drops_only_what_is_wrong(tmp_path: Path) -> None:
    doc = united_story(prompt="Once.", worldinfo_v2={"folders": [], "entries": {
        "0": {"key": "a, b", "content": "Old-style keys."}, "1": {"key": [3], "content": "x"},
        "2": "not an entry"}})
    conversion = convert_bytes(json.dumps(doc).encode(), str(tmp_path / "w.json"))
    assert conversion.saves[0][1].world == [WorldEntry(keys=("a", "b"),
                                                       content="Old-style keys.")]
    assert conversion.dropped[1:] == [
        "world info entry 2: worldinfo_v2.entries.1.key[0] should be text, not a number",
        "world info entry 3: worldinfo_v2.entries.2 should be an object, not text"]
    doc["worldinfo_v2"] = {"entries": []}
    conversion = convert_bytes(json.dumps(doc).encode(), str(tmp_path / "w.json"))
    assert conversion.dropped[1] == ("world info: worldinfo_v2.entries should be an object, "
                                     "not a list")


# -- the command line -----------------------------------------------------------------------

app = typer.Typer()
app.command()(import_command)


def test_cli_import_reports_created_and_dropped(tmp_path: Path) -> None:
    source = write(tmp_path / "varn.json", story())
    result = CliRunner().invoke(app, [str(source)])
    assert result.exit_code == 0, result.output
    save = AppPaths.from_env().saves_dir / "varn.json"
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"{source}: a KoboldAI United story (5 turns, 3 alternatives, 5 world "
                         "entries)", f"created save varn: {save}",
                         "dropped: lua_edited, lua_deleted (stored as Python pickles, which "
                         "are never read: a story file could run code through them)"]
    assert "dropped: story notes (KoboldAI United's; no equivalent here)" in lines
    result = CliRunner().invoke(app, [str(source), "--as", "seed"])
    assert result.exit_code == 0 and "created seed kobold-varn:" in result.stdout


def test_cli_hostile_file_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    doc = {"file_version": 2, "prompt": pickled(MakesDirectory(target)),
           "actions": pickled(MakesDirectory(target))}
    source = write(tmp_path / "evil.json", doc)
    result = CliRunner().invoke(app, [str(source)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: the story is empty (no prompt and no actions) ({source})"]
    assert not target.exists() and files_under(AppPaths.from_env().data_dir) == []


# -- fuzzing --------------------------------------------------------------------------------

texts = st.text(max_size=20) | st.sampled_from([
    "", " ", "\n\n> You go.\n", "\nYou: hi\nBot:", "base64:gASVAAAA", "<|>", "a, b", "\ud800",
    "user", "ai", "root", "New Game", "story"])
scalars = st.none() | st.booleans() | st.integers(-3, 12) | st.floats(allow_nan=False) | texts
values = st.recursive(scalars, lambda c: st.lists(c, max_size=4)
                      | st.dictionaries(texts, c, max_size=4), max_leaves=20)


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a good value, sometimes anything."""
    return st.integers(0, 7).flatmap(lambda i: good if i else values)


options = st.lists(maybe(st.fixed_dictionaries({"text": texts, "Pinned": st.booleans(),
                                                "Previous Selection": st.booleans()})),
                   max_size=3)
actions_st = st.dictionaries(
    st.sampled_from(["0", "1", "2", "3", "-1", "x"]),
    maybe(st.fixed_dictionaries({"Selected Text": texts}, optional={
        "Options": maybe(options), "Origin": maybe(st.sampled_from(["user", "ai"]))})),
    max_size=5)
entries_st = st.dictionaries(st.sampled_from(["0", "1", "2", "a"]), maybe(st.fixed_dictionaries(
    {"key": maybe(st.lists(texts, max_size=3)), "content": texts}, optional={
        "keysecondary": maybe(st.lists(texts, max_size=2)), "constant": st.booleans(),
        "title": texts, "comment": texts, "manual_text": texts, "use_wpp": st.booleans(),
        "type": st.sampled_from(["wi", "constant", "commentator", "chatcharacter"]),
        "folder": texts})), max_size=4)
documents = st.fixed_dictionaries({"file_version": maybe(st.just(2))}, optional={
    "prompt": maybe(texts), "story_name": maybe(texts), "memory": maybe(texts),
    "authornote": maybe(texts), "authornotetemplate": maybe(texts),
    "adventure": maybe(st.booleans()), "chatmode": maybe(st.booleans()),
    "storymode": maybe(st.integers(0, 2)), "chatname": maybe(texts), "botname": maybe(texts),
    "actions": maybe(st.fixed_dictionaries({"actions": maybe(actions_st)}, optional={
        "action_count": maybe(st.integers(-2, 4))})),
    "worldinfo_v2": maybe(st.fixed_dictionaries({"entries": maybe(entries_st)}, optional={
        "folders": maybe(st.dictionaries(texts, st.lists(st.integers(0, 3)), max_size=3))})),
    "notes": values, "biases": values, "substitutions": values, "lua_edited": values})
as_kinds = st.sampled_from([None, "seed", "save"])
COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def convert_or_refuse(doc: dict[str, Any], as_: str | None) -> None:
    """A conversion whose saves load back, or a UserError naming the file; nothing else."""
    try:
        conversion = convert_document(doc, "kobold-united", "fuzz/story.json",
                                      as_)  # type: ignore[arg-type]
    except UserError as error:
        assert error.where is not None and error.where.startswith("fuzz"), error
        assert error.message.strip()
        return
    for name, state in conversion.saves:
        save_format.decode(save_format.encode(state, name), name)
    assert all(isinstance(line, str) and line for line in conversion.dropped)


@settings(max_examples=300, **COMMON)
@given(doc=documents, as_=as_kinds)
def test_fuzz(doc: dict[str, Any], as_: str | None) -> None:
    convert_or_refuse(doc, as_)


@pytest.mark.slow
@settings(max_examples=10_000, **COMMON)
@given(doc=documents, as_=as_kinds)
def test_fuzz_slow(doc: dict[str, Any], as_: str | None) -> None:
    convert_or_refuse(doc, as_)
