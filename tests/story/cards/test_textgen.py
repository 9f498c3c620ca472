"""text-generation-webui characters (YAML, and the same fields in JSON) as chat seeds."""

from __future__ import annotations

import json

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.importers import convert_bytes
from gpt2_adventure.story.seeds.library import fill_seed
from tests.story.importers import peer_sample
from tests.support.peer_formats import textgen_character


def test_the_fields_come_through() -> None:
    conversion = convert_bytes(textgen_character().encode(), "Example.yaml")
    assert conversion.format == "a text-generation-webui character"
    [seed] = conversion.seeds
    chat = fill_seed(seed, {}).chat
    assert chat is not None and seed.mode == "chat" and seed.id == "chiharu-yamada"
    assert chat.character == "Chiharu Yamada" and chat.player == "You"
    # The "Name's Persona:" header is the seed's own, not written twice.
    assert chat.persona == "Chiharu Yamada's persona: Chiharu is a computer engineer."
    assert chat.greeting == "*Chiharu waves* Hey! Let's get started!"
    assert chat.example_dialogue.splitlines() == [
        "You: So how did you start?", "Chiharu Yamada: I've always loved tinkering."]
    assert conversion.dropped == []


def test_your_name_names_the_player_and_other_fields_are_listed() -> None:
    text = textgen_character() + 'your_name: "Tom"\nchat_style: cai\n'
    [seed] = (conversion := convert_bytes(text.encode(), "x.yaml")).seeds
    chat = fill_seed(seed, {}).chat
    assert chat is not None and chat.player == "Tom"
    assert chat.example_dialogue.startswith("Tom: So how did you start?")
    assert conversion.dropped == ["field 'chat_style' (no equivalent here)"]


def test_old_pygmalion_names_and_json() -> None:
    doc = {"char_name": "Brann", "char_persona": "A smith.", "char_greeting": "Hm.",
           "world_scenario": "The forge.", "example_dialogue": ""}
    for data, name in ((json.dumps(doc).encode(), "brann.json"),
                       ("".join(f"{k}: {json.dumps(v)}\n" for k, v in doc.items()).encode(),
                        "brann.yaml")):
        [seed] = convert_bytes(data, name).seeds
        assert seed.title == "Brann" and seed.openings == ("The forge.",)


@pytest.mark.parametrize(("text", "words"), [
    ("name: [1, 2]\ncontext: x\n", "name should be text, not a list"),
    ("name: ''\ngreeting: hi\n", "name is missing or empty"),
    ("name: A\ngreeting: hi\nyour_name: {a: 1}\n", "your_name should be text"),
])
def test_bad_characters(text: str, words: str) -> None:
    with pytest.raises(UserError) as info:
        convert_bytes(text.encode(), "bad.yaml")
    assert words in info.value.message and info.value.where == "bad.yaml"


def test_the_real_example() -> None:
    path = peer_sample("textgen-webui/Example.yaml")
    [seed] = convert_bytes(path.read_bytes(), str(path)).seeds
    chat = fill_seed(seed, {}).chat
    assert chat is not None and chat.character == "Chiharu Yamada"
    assert chat.greeting.startswith("*Chiharu strides into the room with a smile")
    assert len(chat.example_dialogue.splitlines()) == 10
