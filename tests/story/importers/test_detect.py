"""Format detection: by content first, the extension only breaks ties."""

from __future__ import annotations

import json

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.importers.detect import Detected, detect

KOBOLD = {"gamestarted": True, "prompt": "Once", "memory": "", "authorsnote": "",
          "actions": []}
AID2_SAVE = {"story_start": "You are Bob.", "context": "", "actions": [], "results": [],
             "choices": [], "possible_action_results": None, "game_state": {}, "seed": None,
             "uuid": "u", "rating": -1}
CLOVER_SAVE = {"temp": 0.4, "context": "You are Bob.", "memory": [], "actions": ["Hi"],
               "results": ["Hello"]}


@pytest.mark.parametrize(("doc", "expected"), [
    (KOBOLD, "kobold"),
    ({"prompt": "Once", "actions": ["a"]}, "kobold"),  # KoboldAI Lite without gamestarted
    (AID2_SAVE, "aid2-save"),
    (CLOVER_SAVE, "clover-save"),
    ({"settings": {}}, "aid2-seeds"),
    ({"spec": "chara_card_v2", "data": {}}, "card"),  # a card is imported as a chat seed
    ({"name": "Mira", "first_mes": "Hi"}, "card"),
    ({"lorebookVersion": 5, "entries": [], "settings": {}}, "lorebook"),  # NovelAI
])
def test_json_formats_by_content_whatever_the_extension(doc: dict, expected: str) -> None:
    text = json.dumps(doc)
    for suffix in (".json", ".txt", ".save", ""):
        assert detect(text, "f" + suffix, suffix).format == expected


def test_yaml_and_prompts() -> None:
    assert detect("settings:\n  fantasy: {}\n", "story_data", "").format == "aid2-seeds"
    assert detect("settings: {}\n", "s.yml", ".yml").format == "aid2-seeds"
    assert detect("{settings: {fantasy: {}}}", "s.yaml", ".yaml").format == "aid2-seeds"
    detected = detect("You are a knight.\nYou ride north.", "knight.txt", ".txt")
    assert detected == Detected("clover-prompt", "You are a knight.\nYou ride north.")
    # A prompt that happens to start with a brace is still a prompt.
    assert detect("{The Tale}\nOnce", "tale.txt", ".txt").format == "clover-prompt"


@pytest.mark.parametrize(("text", "name", "words"), [
    ("[1, 2]", "x.json", "holds a list, not an object"),
    ('"just text"', "x.json", "holds text, not an object"),
    ("{oops", "x.json", "not valid JSON"),
    ("- a\n- b\n", "s.yaml", "the YAML holds a list, not a mapping"),
    ("just: text\n", "s.yaml", "has no settings:"),
    ('{"hello": 1}', "x.json", "not a format gpt2-adventure imports"),
    ("plain words", "notes.md", "not a format gpt2-adventure imports"),
    ('{"format": "gpt2-adventure-save", "version": 1}', "x.json", "already a gpt2-adventure"),
])
def test_clear_errors_name_the_file(text: str, name: str, words: str) -> None:
    with pytest.raises(UserError, match=words) as info:
        detect(text, name, "." + name.rsplit(".", 1)[-1])
    assert info.value.where is not None and info.value.where.startswith(name)
