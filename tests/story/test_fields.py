"""One reader of typed fields, two wordings: the importers' and the character cards'."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.cards.fields import card_fields
from gpt2_adventure.story.importers.common import ImportProblem, import_fields

DOC = {"a": None, "b": 3, "c": ["x", None], "d": [1], "e": "on", "f": {"g": []}, "h": [{}],
       "n": "a\0b\ud800c", "long": "x" * 100_001, "many": ["x"] * 1001}


def problem(call: Callable[[], object], error: type[UserError] = UserError) -> str:
    """The message of the error ``call`` raises; it names the file."""
    with pytest.raises(error) as info:
        call()
    assert info.value.where == "f.json"
    return info.value.message


def test_imported_fields_say_should_be_and_read_null_as_absent() -> None:
    fields = import_fields(DOC, "f.json")
    assert fields.text("a") == "" and fields.texts("a") == [] and fields.texts("c") == ["x", ""]
    assert fields.flag("a") is False and fields.given("b") and not fields.given("a")
    assert problem(lambda: fields.text("b")) == "b should be text, not a number"
    assert problem(lambda: fields.text("b"), ImportProblem)  # the importers' own error
    assert problem(lambda: fields.texts("d")) == "d[0] should be text, not a number"
    assert problem(lambda: fields.texts("b")) == "b should be a list of text, not a number"
    assert problem(lambda: fields.text("a", required=True)) == "a is missing"
    assert problem(lambda: fields.flag("e")) == "e should be true or false, not text"
    sub = fields.sub("f", DOC["f"])
    assert problem(lambda: sub.text("g")) == "f.g should be text, not a list"
    assert problem(lambda: fields.sub(2, [])) == "[2] should be an object, not a list"
    assert problem(lambda: fields.text("f")) == "f should be text, not a mapping"


def test_imported_text_is_kept_whole_but_for_lone_surrogates() -> None:
    fields = import_fields(DOC, "f.json")
    assert fields.text("n") == "a\0b\ufffdc"
    assert len(fields.text("long")) == 100_001 and len(fields.texts("many")) == 1001


def test_card_fields_say_field_must_be_and_refuse_null_items() -> None:
    fields = card_fields(DOC, "f.json", "data")
    assert fields.text("a") == "" and fields.texts("a") == [] and fields.flag("a", True)
    assert problem(lambda: fields.text("b")) == "field data.b must be text, not a number"
    assert problem(lambda: fields.texts("c")) == "field data.c[1] must be text, not null"
    assert problem(lambda: fields.texts("b")) == "field data.b must be a list, not a number"
    assert problem(lambda: fields.flag("e", False)) == (
        "field data.e must be true or false, not text")
    assert fields.obj("a") is None
    book = fields.obj("f")
    assert book is not None and book.texts("g") == []
    assert problem(lambda: fields.obj("c")) == "field data.c must be an object, not a list"
    assert [entry.prefix for entry in fields.objs("h")] == ["data.h[0]"]
    assert problem(lambda: fields.objs("c")) == "field data.c[0] must be an object, not text"
    assert fields.filled("b") and not fields.filled("a")


def test_card_text_drops_nuls_and_is_capped() -> None:
    fields = card_fields(DOC, "f.json")
    assert fields.text("n") == "ab\ufffdc"
    assert problem(lambda: fields.text("long")) == (
        "field long is too long (100,001 characters; at most 100,000)")
    assert problem(lambda: fields.text("e", 1)) == (
        "field e is too long (2 characters; at most 1)")
    assert problem(lambda: fields.texts("many")) == (
        "field many has too many items (1,001; at most 1,000)")
