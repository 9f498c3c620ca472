"""Story seeds: the bundled ones, every kind of broken file, placeholders and writing back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.resources import stories_dir
from gpt2_adventure.story.model import ChatSpec, Placeholder, Seed, WorldEntry
from gpt2_adventure.story.seeds.fill import BraceError, escape, placeholder_names
from gpt2_adventure.story.seeds.library import (
    MAX_SEED_BYTES,
    TEMPLATE,
    SeedError,
    fill,
    fill_seed,
    find_seed,
    list_seeds,
    load_seed,
    parse_seed,
    seed_files,
    seed_origin,
    to_toml,
    write_template,
)

GOOD = '''\
format = 1
title = "Test"
mode = "adventure"
openings = ["You are {name}. You see"]

[[placeholders]]
name = "name"
question = "Name?"
'''


def write(tmp_path: Path, text: str | bytes, name: str = "seed.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> SeedError:
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    return caught.value


# --- the bundled seeds -------------------------------------------------------------------

def bundled() -> list[Seed]:
    return [load_seed(path) for path in sorted(stories_dir().glob("*.toml"))]


def test_every_bundled_seed_loads_and_the_set_is_complete() -> None:
    seeds = bundled()
    modes = [seed.mode for seed in seeds]
    assert modes.count("adventure") >= 12
    assert modes.count("chat") >= 3
    assert modes.count("story") >= 2
    assert len({seed.title for seed in seeds}) == len(seeds)


@pytest.mark.parametrize("seed", bundled(), ids=lambda s: s.id)
def test_bundled_seed_is_well_made(seed: Seed) -> None:
    assert seed.genre and seed.description
    filled = fill_seed(seed, {})  # the defaults alone make a playable game
    for opening in filled.openings:
        assert opening == opening.strip(), "openings must not start or end with blanks"
        if seed.mode == "adventure":
            assert 80 <= len(opening.split()) <= 200
            assert "You" in opening or "you" in opening
    if seed.mode == "adventure":
        assert any(p.name == "name" for p in seed.placeholders)
        assert seed.memory and seed.authors_note.startswith("[")
        assert 2 <= len(seed.world) <= 5
    if seed.mode == "chat":
        assert seed.chat and seed.chat.persona and seed.chat.greeting
        for line in filled.chat.example_dialogue.splitlines():  # type: ignore[union-attr]
            speaker = line.split(":", 1)[0]
            assert speaker in (filled.chat.player, *filled.chat.speakers), line  # type: ignore[union-attr]
    assert load_seed(seed.source) == seed  # type: ignore[arg-type]


def test_bundled_adventures_cover_the_classic_settings() -> None:
    ids = {seed.id for seed in bundled()}
    for wanted in ("noble", "knight", "wizard", "rogue", "peasant", "detective", "scavenger",
                   "zombies", "spacer", "cyberpunk", "haunted", "pirates"):
        assert wanted in ids


def test_several_adventures_offer_alternative_openings() -> None:
    assert sum(len(seed.openings) >= 2 for seed in bundled() if seed.mode == "adventure") >= 5


# --- broken seeds: file, line and field ---------------------------------------------------

CASES = {
    # name: (text, line, words that must be in the message)
    "bad toml": ('format = 1\ntitle = "T"\nmode = "adventure"\nopenings = ["x"\n'
                 'memory = "y"\n', 5, ["invalid TOML"]),
    "missing title": ('format = 1\nmode = "adventure"\nopenings = ["x"]\n', 1,
                      ["title", "missing"]),
    "wrong mode": ('format = 1\ntitle = "T"\nmode = "advnture"\nopenings = ["x"]\n', 3,
                   ["mode", "adventure", "advnture"]),
    "unknown field": ('format = 1\ntitle = "T"\nmode = "story"\nopenings = ["x"]\n'
                      'tittle = "y"\n', 5, ["tittle", "did you mean", "title"]),
    "undeclared placeholder": ('format = 1\ntitle = "T"\nmode = "story"\nopenings = [\n'
                               '"""\nOnce there was\n{hero} who""",\n]\n', 7,
                               ["openings#1", "{hero}", "not declared"]),
    "unused placeholder": (GOOD.replace("You are {name}. ", "") , 7,
                           ["placeholders#1.name", "never used"]),
    "lone brace": ('format = 1\ntitle = "T"\nmode = "story"\nmemory = "a { b"\n'
                   'openings = ["x"]\n', 4, ["memory", "lone", "{{"]),
    "chat without [chat]": ('format = 1\ntitle = "T"\n\nmode = "chat"\nopenings = ["x"]\n', 4,
                            ["chat", "character"]),
    "[chat] in an adventure": ('format = 1\ntitle = "T"\nmode = "story"\nopenings = ["x"]\n'
                               '[chat]\ncharacter = "Bob"\n', 5, ["[chat]", "only"]),
    "non-list keys": ('format = 1\ntitle = "T"\nmode = "story"\nopenings = ["x"]\n\n[[world]]\n'
                      'keys = ["a"]\ncontent = "A"\n\n[[world]]\ncontent = "B"\n'
                      'keys = "dragon"\n', 12, ["world#2.keys", "list of texts"]),
    "bad sampling key": ('format = 1\ntitle = "T"\nmode = "story"\nopenings = ["x"]\n'
                         '[sampling]\ntemprature = 0.5\n', 6,
                         ["temprature", "did you mean", "temperature"]),
    "bad sampling value": ('format = 1\ntitle = "T"\nmode = "story"\nopenings = ["x"]\n'
                           '[sampling]\ntop_k = 5\ntemperature = -1.0\n', 7,
                           ["sampling.temperature", ">= 0"]),
    "sampling value of the wrong type": ('format = 1\ntitle = "T"\nmode = "story"\n'
                                         'openings = ["x"]\n[sampling]\nmax_tokens = "many"\n',
                                         6, ["sampling.max_tokens", "whole number"]),
    "empty openings": ('format = 1\ntitle = "T"\nmode = "story"\n\nopenings = []\n', 5,
                       ["openings", "at least one"]),
    "blank opening": ('format = 1\ntitle = "T"\nmode = "story"\nopenings = ["x", "  "]\n', 4,
                      ["openings#2", "empty"]),
    "no openings": ('format = 1\ntitle = "T"\nmode = "story"\n', 1, ["openings", "missing"]),
    "opening and openings": ('format = 1\ntitle = "T"\nmode = "story"\nopenings = ["x"]\n'
                             'opening = "y"\n', 5, ["opening", "not both"]),
    "format 2": ('# a comment\nformat = 2\ntitle = "T"\nmode = "story"\nopenings = ["x"]\n'
                 'new_field = 1\n', 2, ["format 2", "reads format 1", "update"]),
    "no format": ('title = "T"\nmode = "story"\nopenings = ["x"]\n', 1, ["format", "missing"]),
    "title not text": ('format = 1\ntitle = 5\nmode = "story"\nopenings = ["x"]\n', 2,
                       ["title", "text", "whole number"]),
    "duplicate placeholder": (GOOD + '\n[[placeholders]]\nname = "name"\n', 11,
                              ["placeholders#2.name", "twice"]),
    "bad placeholder name": (GOOD.replace('name = "name"', 'name = "two words"'), 7,
                             ["placeholders#1.name", "simple name"]),
    "world entry without content": ('format = 1\ntitle = "T"\nmode = "story"\nopenings = ["x"]'
                                    '\n[[world]]\nkeys = ["a"]\n', 5, ["world#1.content",
                                                                     "missing"]),
    "colon in a speaker": ('format = 1\ntitle = "T"\nmode = "chat"\nopenings = ["x"]\n[chat]\n'
                           'character = "Bob"\nplayer = "Dr: Who"\n', 7, ["chat.player", "':'"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_broken_seed_names_file_line_and_field(tmp_path: Path, case: str) -> None:
    text, line, words = CASES[case]
    path = write(tmp_path, text)
    error = error_of(path)
    assert isinstance(error, UserError)
    assert error.where == f"{path}:{line}", (error.message, error.where)
    for word in words:
        assert word in error.message, error.message
    assert str(error) == f"{error.message} ({path}:{line})"


def test_key_lines_skip_multiline_text_that_looks_like_keys(tmp_path: Path) -> None:
    text = ('format = 1\ntitle = "T"\nmode = "story"\nmemory = """\n[sampling]\n'
            'temperature = 9\n"""\nopenings = ["x"]\n[sampling]\ntemperature = -1.0\n')
    assert error_of(write(tmp_path, text)).where.endswith(":10")


def test_too_large(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "# " + "x" * MAX_SEED_BYTES + "\n")
    error = error_of(path)
    assert error.where == f"{path}:1" and "too large" in error.message


def test_not_utf8_points_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.encode() + b'memory = "caf\xe9"\n')
    error = error_of(path)
    assert error.where == f"{path}:9" and "UTF-8" in error.message


def test_byte_order_mark_is_fine(tmp_path: Path) -> None:
    assert load_seed(write(tmp_path, "\ufeff" + GOOD)).title == "Test"


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "no such seed file" in error_of(tmp_path / "nope.toml").message
    assert "folder" in error_of(tmp_path).message


# --- placeholders --------------------------------------------------------------------------

def test_fill_substitutes_literally_and_does_not_re_expand() -> None:
    assert fill("Hi {name}, {{literal}} {x}!", {"name": "{x}", "x": "X"}) == \
        "Hi {x}, {literal} X!"
    assert fill("{a}{b}", {"a": "{b}", "b": "}}"}) == "{b}}}"


def test_fill_missing_value_and_lone_brace() -> None:
    with pytest.raises(KeyError):
        fill("{name}", {})
    with pytest.raises(BraceError):
        fill("a } b", {})
    with pytest.raises(BraceError):
        placeholder_names("{name")
    assert placeholder_names("{a} {{b}} {c} {a}") == ["a", "c"]


def test_fill_seed_uses_answers_then_defaults(tmp_path: Path) -> None:
    seed = load_seed(stories_dir() / "western.toml")
    filled = fill_seed(seed, {"name": "Ada {horse}"})
    assert filled.openings[0].startswith("You are Ada {horse}, and")
    assert "Your horse, Dusty," in filled.openings[0]
    assert "horse called Dusty" in filled.memory and not filled.placeholders
    chat = fill_seed(load_seed(stories_dir() / "tavern-keeper.toml"), {"name": "Brom"})
    assert chat.chat is not None and chat.chat.player == "Brom"
    assert chat.chat.example_dialogue.startswith("Brom: Evening.")


@given(st.text())
def test_escape_fills_back_to_the_text(text: str) -> None:
    assert fill(escape(text), {}) == text


# --- finding and listing ---------------------------------------------------------------------

def own_dir() -> Path:
    folder = AppPaths.from_env().stories_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_players_seed_overrides_a_bundled_id() -> None:
    paths = AppPaths.from_env()
    assert seed_origin(find_seed(paths, "knight"), paths) == "bundled"
    write(own_dir(), GOOD.replace('"Test"', '"My knight"'), "knight.toml")
    mine = find_seed(paths, "knight")
    assert mine.title == "My knight" and seed_origin(mine, paths) == "own"
    seeds, errors = list_seeds(paths)
    knights = [s for s in seeds if s.id == "knight"]
    assert [s.title for s in knights] == ["My knight"] and not errors
    assert seed_files(paths)[-1] == own_dir() / "knight.toml"


def test_a_broken_own_seed_does_not_hide_the_others() -> None:
    paths = AppPaths.from_env()
    write(own_dir(), "format = 1\ntitle = [\n", "broken.toml")
    write(own_dir(), GOOD, "fine.toml")
    seeds, errors = list_seeds(paths)
    assert len(errors) == 1 and errors[0].path.endswith("broken.toml")
    ids = {s.id for s in seeds}
    assert "fine" in ids and "knight" in ids


def test_find_by_path_by_case_and_unknown(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    path = write(tmp_path, GOOD, "elsewhere.toml")
    seed = find_seed(paths, str(path))
    assert seed.id == "elsewhere" and seed_origin(seed, paths) == "file"
    assert find_seed(paths, "KNIGHT").id == "knight"
    with pytest.raises(UserError) as caught:
        find_seed(paths, "knigt")
    assert "unknown story 'knigt'" in caught.value.message
    assert "'knight'" in caught.value.message and "stories list" in (caught.value.hint or "")
    with pytest.raises(SeedError):
        find_seed(paths, str(tmp_path / "missing.toml"))


# --- template -------------------------------------------------------------------------------

def test_template_is_a_valid_seed_and_is_written_once() -> None:
    paths = AppPaths.from_env()
    assert parse_seed(TEMPLATE, "template").mode == "adventure"
    path = write_template(paths, "my-story")
    assert path == paths.stories_dir / "my-story.toml"
    seed = load_seed(path)
    assert seed.title == "my-story" and find_seed(paths, "my-story") == seed
    path.write_text(GOOD)
    with pytest.raises(UserError, match="already exists"):
        write_template(paths, "my-story.toml")
    assert path.read_text() == GOOD


@pytest.mark.parametrize("name", ["knight", "Knight", "knight.toml"])
def test_template_never_shadows_a_bundled_seed_unasked(name: str) -> None:
    paths = AppPaths.from_env()
    with pytest.raises(UserError, match="bundled story") as refused:
        write_template(paths, name)
    assert "--force" in (refused.value.hint or "")
    assert not paths.stories_dir.exists()
    assert find_seed(paths, "knight").source == stories_dir() / "knight.toml"
    mine = write_template(paths, name, shadow=True)
    assert find_seed(paths, mine.stem).source == mine


@pytest.mark.parametrize("name", ["../escape", "a/b", "a\\b", "..", "", ".hidden", "x" * 80,
                                  "a..b"])
def test_template_refuses_names_that_are_not_plain_file_names(name: str) -> None:
    with pytest.raises(UserError, match="simple file name"):
        write_template(AppPaths.from_env(), name)
    assert not AppPaths.from_env().stories_dir.exists()


# --- writing seeds back -----------------------------------------------------------------------

def test_to_toml_round_trips_every_bundled_seed() -> None:
    for seed in bundled():
        again = parse_seed(to_toml(seed), seed.id)
        assert again == replace(seed, source=None), seed.id


def test_to_toml_round_trips_a_full_chat_seed(tmp_path: Path) -> None:
    seed = Seed(
        id="full", title='A "quoted" \\ title', mode="chat", openings=("Scene with {who}.",),
        genre="g", description="d", memory="m {{x}}", authors_note="[n]",
        placeholders=(Placeholder("who", "Who?", "me"),),
        world=(WorldEntry(keys=("k",), content="c", secondary_keys=("s",), comment="note"),
               WorldEntry(keys=(), content="always on", always=True)),
        sampling={"temperature": 0.9, "max_tokens": 30, "ignore_eos": True,
                  "banned_strings": ["\n\n", "You:"], "logit_bias": {"50256": -100.0}},
        chat=ChatSpec(character="Bot", persona="p", example_dialogue="{who}: hi\nBot: hello",
                      greeting="g", player="{who}", others=("Eve", "Mallory")))
    path = write(tmp_path, to_toml(seed), "full.toml")
    assert load_seed(path) == replace(seed, source=path)


TEXT = st.text(st.characters(codec="utf-8"), max_size=300)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(title=TEXT.filter(lambda t: t.strip()), openings=st.lists(
    TEXT.filter(lambda t: t.strip()), min_size=1, max_size=3), memory=TEXT, note=TEXT)
def test_to_toml_round_trips_arbitrary_text(title: str, openings: list[str], memory: str,
                                            note: str) -> None:
    seed = Seed(id="x", title=title, mode="story", openings=tuple(escape(o) for o in openings),
                memory=escape(memory), authors_note=escape(note))
    again = parse_seed(to_toml(seed), "x")
    assert again == seed
    assert [fill(o, {}) for o in again.openings] == openings
    assert fill(again.memory, {}) == memory


def test_long_texts_are_wrapped_for_editing() -> None:
    words = " ".join(["word"] * 200) + "  two  spaces and\ttab \\ end "
    seed = Seed(id="x", title="T", mode="story", openings=(words,))
    text = to_toml(seed)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert parse_seed(text, "x").openings == (words,)
