"""Random documents and bytes into every lorebook reader: a lorebook or an ImportProblem
naming the file, nothing else; and whatever is read makes a valid seed. The normal run is a
few hundred inputs per reader; the slow run (``pytest -m slow
tests/story/lorebooks/test_fuzz.py``) feeds over 10,000."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.lorebooks.attach import world_block
from gpt2_adventure.story.lorebooks.common import Lorebook, escaped
from gpt2_adventure.story.lorebooks.read import lorebook_from_bytes, lorebook_from_doc
from gpt2_adventure.story.lorebooks.sillytavern import export_world_info
from gpt2_adventure.story.seeds.library import parse_seed
from tests.support.fuzz_shapes import near_valid

NAME = "fuzz/lore.json"
KEYS = ["entries", "uid", "key", "keysecondary", "comment", "content", "constant",
        "selective", "selectiveLogic", "order", "position", "disable", "probability",
        "useProbability", "group", "caseSensitive", "keys", "secondary_keys", "enabled",
        "insertion_order", "use_regex", "extensions", "spec", "data", "worldinfo",
        "keyanti", "widisabled", "wigroup", "folder", "0", "1"]
texts = st.text(max_size=20) | st.sampled_from([
    "", " ", "{{char}}", "{{user}}'s", "<BOT>", "/re+gex/i", "a, b", "\ud800", "{x}", "}{",
    "@@depth 4\nx", "\x00\x1b[31m", "lorebook_v3"])
scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=False) | texts)
text_lists = st.lists(st.integers(0, 9).flatmap(lambda i: texts if i else scalars), max_size=4)
keys = st.sampled_from(KEYS) | st.text(max_size=6)
values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                      | st.dictionaries(keys, children, max_size=5), max_leaves=30)


def shaped(base: dict[str, object]) -> st.SearchStrategy[dict[str, object]]:
    """Near-valid objects: each field of a good one may be missing, kept or replaced."""
    return near_valid(base, values)


small = st.integers(0, 4) | st.sampled_from([True, 100, -1, 2**64, 0.5])
st_entry = shaped({"key": text_lists, "keysecondary": text_lists, "content": texts,
                   "comment": texts, "constant": st.booleans(), "selective": st.booleans(),
                   "selectiveLogic": small, "order": small, "position": small,
                   "disable": st.booleans(), "probability": small, "group": texts,
                   "caseSensitive": st.none() | st.booleans()})
kobold_entry = shaped({"key": texts, "keysecondary": texts, "keyanti": texts, "content": texts,
                       "comment": texts, "folder": st.none() | small,
                       "selective": st.booleans(), "constant": st.booleans(),
                       "probability": small, "wigroup": texts, "widisabled": st.booleans()})
book_entry = shaped({"keys": text_lists, "secondary_keys": text_lists, "content": texts,
                     "enabled": st.booleans(), "insertion_order": small,
                     "selective": st.booleans(), "constant": st.booleans(),
                     "use_regex": st.booleans(), "comment": texts, "case_sensitive": values,
                     "extensions": shaped({"selectiveLogic": small})})
book = shaped({"name": texts, "scan_depth": small, "entries": st.lists(book_entry, max_size=4)})
SHAPES = {
    "sillytavern": shaped({"name": texts, "entries": st.dictionaries(
        st.sampled_from(["0", "1", "2", "x"]) | st.text(max_size=4), st_entry, max_size=4)}),
    "kobold-lite": st.lists(kobold_entry, max_size=4),
    "kobold-client": shaped({"worldinfo": st.lists(kobold_entry, max_size=4),
                             "wifolders_d": values}),
    "v2": book,
    "v3": shaped({"spec": "lorebook_v3", "data": book}),
}
documents = st.one_of(*SHAPES.values()) | st.dictionaries(keys, values, max_size=6) | values
names = st.none() | st.tuples(st.sampled_from(["Mira", "You", "{x}"]),
                              st.sampled_from(["You", "Tom"]))
COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEED = 'format = 1\ntitle = "T"\nmode = "story"\nopenings = ["Go."]\n'


def check_document(doc: object, who: tuple[str, str] | None) -> None:
    try:
        book = lorebook_from_doc(doc, NAME, who)
    except UserError as error:
        assert error.where is not None and error.where.startswith("fuzz"), error
        assert error.message.strip() and "\n" not in error.message
        return
    check_book(book)


def check_book(book: Lorebook) -> None:
    for entry in book.entries:
        assert entry.content.strip() and (entry.keys or entry.always)
        assert all(k.strip() for k in (*entry.keys, *entry.secondary_keys))
    # Whatever is read makes a valid seed, and exports as ASCII JSON.
    text = SEED + "".join(world_block(escaped(e)) for e in book.entries)
    assert len(parse_seed(text, "fuzz").world) == len(book.entries)
    json.loads(export_world_info(book.entries))


@settings(max_examples=250, **COMMON)
@given(doc=st.sampled_from(list(SHAPES)).flatmap(lambda k: SHAPES[k]), who=names)
def test_shaped_documents(doc: object, who: tuple[str, str] | None) -> None:
    check_document(doc, who)


@settings(max_examples=150, **COMMON)
@given(doc=documents, who=names)
def test_random_documents(doc: object, who: tuple[str, str] | None) -> None:
    check_document(doc, who)


@settings(max_examples=100, **COMMON)
@given(data=st.binary(max_size=200) | documents.map(
    lambda d: json.dumps(d).encode("utf-8", "surrogatepass")))
def test_random_bytes(data: bytes) -> None:
    try:
        book = lorebook_from_bytes(data, NAME)
    except UserError as error:
        assert error.where is not None and error.where.startswith("fuzz"), error
        return
    check_book(book)


@pytest.mark.slow
@settings(max_examples=6000, **COMMON)
@given(doc=st.sampled_from(list(SHAPES)).flatmap(lambda k: SHAPES[k]) | documents, who=names)
def test_documents_slow(doc: object, who: tuple[str, str] | None) -> None:
    check_document(doc, who)


@pytest.mark.slow
@settings(max_examples=4000, **COMMON)
@given(data=st.binary(max_size=400))
def test_bytes_slow(data: bytes) -> None:
    try:
        check_book(lorebook_from_bytes(data, NAME))
    except UserError as error:
        assert error.where is not None and error.where.startswith("fuzz"), error
