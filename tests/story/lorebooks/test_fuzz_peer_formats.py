"""Random near-valid NovelAI lorebooks and stories (and their PNGs), AI Dungeon story cards
and world info and Agnai memory books into the lorebook readers, as ``test_fuzz.py`` does for
the others: a lorebook or an ImportProblem naming the file, nothing else; whatever is read
makes a valid seed. The slow run (``pytest -m slow``) feeds thousands."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.lorebooks.read import lorebook_from_bytes
from tests.story.lorebooks.test_fuzz import (
    COMMON,
    NAME,
    check_book,
    check_document,
    names,
    shaped,
    small,
    text_lists,
    texts,
    values,
)
from tests.support.peer_formats import base64_json, png_with_text

novelai_entry = shaped({
    "text": texts, "keys": text_lists, "displayName": texts, "enabled": st.booleans(),
    "forceActivation": st.booleans(), "searchRange": small, "keyRelative": st.booleans(),
    "nonStoryActivatable": st.booleans(), "category": texts | values,
    "contextConfig": shaped({"prefix": texts, "suffix": texts, "budgetPriority": small,
                             "insertionPosition": small}),
    "loreBiasGroups": st.lists(shaped({"phrases": values}), max_size=2)})
novelai_book = shaped({"lorebookVersion": small, "settings": shaped({
    "orderByKeyLocations": st.booleans()}), "entries": st.lists(novelai_entry, max_size=4),
    "categories": st.lists(shaped({"id": texts, "enabled": st.booleans()}), max_size=2)})
novelai_story = shaped({"storyContainerVersion": small, "metadata": values,
                        "content": shaped({"lorebook": novelai_book, "document": values,
                                           "story": values, "context": values})})
patterns = texts | st.sampled_from(["a|(b|c)d#[t=1]", "(|the )x", "((x))", "a.*", "(a|b)(c|d)",
                                    "x,(y|z)", "#[", "(", ")|("])
aid_entry = shaped({"keys": patterns | text_lists, "value": texts, "entry": texts,
                    "title": texts, "description": texts, "hidden": values,
                    "useForCharacterCreation": st.booleans()})
agnai_book = shaped({"kind": "memory", "name": texts, "entries": st.lists(shaped({
    "name": texts, "entry": texts, "keywords": text_lists, "priority": small,
    "weight": small, "enabled": st.booleans()}), max_size=4)})
SHAPES = {"novelai": novelai_book, "novelai-story": novelai_story, "agnai": agnai_book,
          "aidungeon": st.lists(aid_entry, min_size=1, max_size=4)}
shapes = st.sampled_from(list(SHAPES)).flatmap(lambda k: SHAPES[k])


@settings(max_examples=200, **COMMON)
@given(doc=shapes, who=names)
def test_shaped_documents(doc: object, who: tuple[str, str] | None) -> None:
    check_document(doc, who)


def check_png(doc: object) -> None:
    try:
        check_book(lorebook_from_bytes(png_with_text({"naidata": base64_json(doc)}), NAME))
    except UserError as error:
        assert error.where is not None and error.where.startswith("fuzz"), error


@settings(max_examples=60, **COMMON)
@given(doc=novelai_book | values)
def test_lorebook_images(doc: object) -> None:
    check_png(doc)


@pytest.mark.slow
@settings(max_examples=5000, **COMMON)
@given(doc=shapes, who=names)
def test_documents_slow(doc: object, who: tuple[str, str] | None) -> None:
    check_document(doc, who)


@pytest.mark.slow
@settings(max_examples=1000, **COMMON)
@given(doc=novelai_book | values)
def test_lorebook_images_slow(doc: object) -> None:
    check_png(doc)
