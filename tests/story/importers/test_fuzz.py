"""Random documents and bytes into every importer: a conversion or a UserError naming the
file, nothing else. The fast run is a few hundred inputs per importer; the slow run
(``pytest -m slow tests/story/importers/test_fuzz.py``) feeds over 10,000."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.importers import FORMATS, convert_bytes, convert_document
from gpt2_adventure.story.importers.kobold import export_kobold
from gpt2_adventure.story.saves import format as save_format
from tests.support.fuzz_shapes import near_valid

NAME = "fuzz/story.json"
KEYS = ["story_start", "context", "actions", "results", "choices", "possible_action_results",
        "game_state", "rating", "memory", "gamestarted", "prompt", "authorsnote",
        "anotetemplate", "actions_metadata", "worldinfo", "wifolders_d", "settings",
        "description", "characters", "prompts", "item1", "item2", "key", "keysecondary",
        "content", "comment", "selective", "constant", "folder", "Selected Text",
        "Alternative Text", "Text", "gpt2_adventure", "format", "mode", "title", "turns",
        "role", "kind", "raw", "speaker", "chosen", "chat", "character", "0", "1", "temp"]

texts = st.text(max_size=30) | st.sampled_from([
    "", " ", "\n> You go.\n", "{x}", "}{", "<|>", "a, b", "\ud800", "story", "chat", "player",
    "model", "do", "\x00\x1b[31m", "You say hi", "Mira: hello", "\r\n"])
scalars = (st.none() | st.booleans() | st.integers(-2**40, 2**40)
           | st.floats(allow_nan=False) | texts)
text_lists = st.lists(st.integers(0, 9).flatmap(lambda i: texts if i else scalars), max_size=5)
keys = st.sampled_from(KEYS) | st.text(max_size=8)
values = st.recursive(scalars, lambda children: st.lists(children, max_size=5)
                      | st.dictionaries(keys, children, max_size=6), max_leaves=40)


def shaped(base: dict[str, object]) -> st.SearchStrategy[dict[str, object]]:
    """Near-valid documents: each key of a good one may be missing, kept, or replaced."""
    return near_valid(base, values)


world_entry = shaped({"key": texts, "keysecondary": texts, "content": texts,
                      "comment": "", "folder": None, "selective": True, "constant": False})
turn_info = shaped({"role": st.sampled_from(["player", "model", "opening"]),
                    "kind": st.sampled_from(["do", "say", "story", None]), "raw": "go",
                    "speaker": "", "chosen": st.integers(-1, 3)})
character = shaped({"prompts": text_lists, "item1": "rope", "item2": "lamp"})
SHAPES = [  # in FORMATS order
    shaped({"story_start": "You are Bob.", "context": "Ctx. ", "actions": text_lists,
            "results": text_lists, "choices": [], "rating": -1}),
    shaped({"context": "Ctx.", "memory": text_lists, "actions": text_lists,
            "results": text_lists, "temp": 0.4}),
    shaped({"gamestarted": True, "prompt": texts, "memory": texts, "authorsnote": texts,
            "anotetemplate": texts, "actions": text_lists,
            "actions_metadata": st.dictionaries(st.sampled_from(["0", "1", "2", "x"]), shaped(
                {"Selected Text": texts, "Alternative Text": st.lists(
                    shaped({"Text": texts}) | texts, max_size=3)})),
            "worldinfo": st.lists(world_entry, max_size=3),
            "gpt2_adventure": shaped({"format": 1, "title": "t", "mode": st.sampled_from(
                ["story", "adventure", "chat"]), "memory": texts, "chat": shaped(
                {"character": "Mira", "player": "You", "others": []}),
                "turns": st.lists(turn_info, max_size=4)})}),
    shaped({"settings": st.dictionaries(keys, shaped({
        "description": "in a land. ", "characters": st.dictionaries(keys, character,
                                                                    max_size=3)}), max_size=3)}),
]
documents = st.one_of(*SHAPES) | st.dictionaries(keys, values, max_size=10) | values
# (format, content) pairs: mostly content shaped for that format, sometimes anything.
SHAPED = {"aid2-save": SHAPES[0], "clover-save": SHAPES[1], "kobold": SHAPES[2],
          "aid2-seeds": SHAPES[3], "clover-prompt": st.text(max_size=200)}
inputs = st.one_of(*(st.tuples(st.just(f), shape) for f, shape in SHAPED.items()),
                   st.tuples(st.sampled_from(FORMATS), documents))
as_kinds = st.sampled_from([None, "seed", "save"])
COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(run: object) -> None:
    try:
        run()  # type: ignore[operator]
    except UserError as error:
        assert error.where is not None and error.where.startswith("fuzz"), error
        assert error.message.strip()


def documents_in(fmt: str, doc: object, as_: str | None) -> None:
    conversion = None

    def run() -> None:
        nonlocal conversion
        conversion = convert_document(doc, fmt, NAME, as_)  # type: ignore[arg-type]

    check(run)
    if conversion is not None:
        for name, state in conversion.saves:  # every save loads back, and exports
            save_format.decode(save_format.encode(state, name), name)
            text, _ = export_kobold(state)
            assert text.isascii()


@settings(max_examples=300, **COMMON)
@given(given_input=inputs, as_=as_kinds)
def test_random_documents(given_input: tuple[str, object], as_: str | None) -> None:
    documents_in(*given_input, as_)


@settings(max_examples=200, **COMMON)
@given(doc=documents, as_=as_kinds, suffix=st.sampled_from([".json", ".yaml", ".txt", ""]))
def test_random_files(doc: object, as_: str | None, suffix: str) -> None:
    try:
        data = (yaml.safe_dump(doc) if suffix == ".yaml" else json.dumps(doc)).encode(
            "utf-8", "surrogatepass")
    except (ValueError, yaml.YAMLError):
        return
    check(lambda: convert_bytes(data, "fuzz/story" + suffix, as_))  # type: ignore[arg-type]


@settings(max_examples=200, **COMMON)
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
       suffix=st.sampled_from([".json", ".yaml", ".txt", ".bin"]))
def test_random_bytes(data: bytes, suffix: str) -> None:
    check(lambda: convert_bytes(data, "fuzz/story" + suffix))


@pytest.mark.slow
@settings(max_examples=6000, **COMMON)
@given(given_input=inputs, as_=as_kinds)
def test_random_documents_slow(given_input: tuple[str, object], as_: str | None) -> None:
    documents_in(*given_input, as_)


@pytest.mark.slow
@settings(max_examples=4000, **COMMON)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".json", ".yaml", ".txt"]))
def test_random_bytes_slow(data: bytes, suffix: str) -> None:
    check(lambda: convert_bytes(data, "fuzz/story" + suffix))
