"""`import FILE` tells every format it knows of by content (issue 22, items 21-23): what it
reads is imported as what it is, what it only recognises is named in the refusal."""

from __future__ import annotations

import json

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.importers import convert_bytes
from gpt2_adventure.story.importers.summary import what_found
from tests.support.peer_formats import (
    base64_json,
    novelai_lorebook,
    png_with_text,
    sillytavern_chat_lines,
    textgen_character,
    v2_card,
)


def refusal(data: bytes, name: str) -> UserError:
    with pytest.raises(UserError) as info:
        convert_bytes(data, name)
    assert info.value.where is not None and info.value.where.startswith(name)
    return info.value


@pytest.mark.parametrize("name", ["Ripple.lorebook", "Ripple.json", "Ripple"])
def test_a_novelai_lorebook_is_a_lorebook_not_story_data(name: str) -> None:
    error = refusal(json.dumps(novelai_lorebook()).encode(), name)
    assert "NovelAI lorebook" in error.message and "orderByKeyLocations" not in error.message
    assert error.hint is not None and "--into" in error.hint


def test_a_png_card_imports_as_a_chat_seed() -> None:
    png = png_with_text({"chara": base64_json(v2_card("Mira"))})
    conversion = convert_bytes(png, "Mira.png")
    assert "character card" in conversion.format
    [seed] = conversion.seeds
    assert seed.mode == "chat" and seed.chat is not None
    assert seed.chat.character == "Mira" and seed.chat.greeting.startswith("Ahoy, ")


def test_a_json_card_imports_as_a_chat_seed() -> None:
    conversion = convert_bytes(json.dumps(v2_card("Brann")).encode(), "brann.json")
    assert [seed.title for seed in conversion.seeds] == ["Brann"]


def test_a_png_without_a_card_says_so() -> None:
    error = refusal(png_with_text({"Comment": "just a picture"}), "photo.png")
    assert "no character card" in error.message and "binary" not in error.message


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"PK\x03\x04" + b"\0" * 26, "x.zip", "zip archive"),
    (b"\xff\xd8\xff\xe0", "x.jpg", "JPEG"),
])
def test_other_binary_files_are_named(data: bytes, name: str, words: str) -> None:
    assert words in refusal(data, name).message


def test_a_sillytavern_chat_is_a_chat_not_a_json_syntax_error() -> None:
    text = "\n".join(json.dumps(line) for line in sillytavern_chat_lines()) + "\n"
    conversion = convert_bytes(text.encode(), "1673181146000.jsonl")
    assert conversion.format == "a SillyTavern chat"
    assert what_found(conversion.format, conversion) == (
        "a SillyTavern chat (1 message, 1 swipe) with Aqua")


@pytest.mark.parametrize("name", ["Example.yaml", "Example.yml", "Example"])
def test_a_textgen_character_is_a_character(name: str) -> None:
    conversion = convert_bytes(textgen_character().encode(), name)
    assert conversion.format == "a text-generation-webui character"
    assert [seed.title for seed in conversion.seeds] == ["Chiharu Yamada"]


def test_a_prompt_that_starts_like_a_character_is_still_a_prompt() -> None:
    text = "name: the tale of Bob\ncontext: none: at all: [\nYou ride north."
    assert convert_bytes(text.encode(), "bob.txt").format == "a Clover Edition prompt"

