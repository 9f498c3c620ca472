"""A NovelAI ``.story`` file as a saved game: text, memory, author's note and lorebook; a
story whose text is packed is refused naming what cannot be read."""

from __future__ import annotations

import json

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.importers import convert_bytes
from gpt2_adventure.story.model import Turn, WorldEntry
from tests.story.importers import peer_sample
from tests.support.peer_formats import novelai_story


def convert(doc: object, name: str = "tale.story"):  # noqa: ANN201 - a Conversion
    return convert_bytes(json.dumps(doc).encode(), name)


def test_the_story_becomes_a_game() -> None:
    conversion = convert(novelai_story())
    assert conversion.format == "a NovelAI story"
    [(name, state)] = conversion.saves
    assert name == "tale" and state.title == "Tamriel: The Reign" and state.mode == "story"
    assert [turn.text for turn in state.turns] == ["You stand at the gates of Whiterun."]
    assert state.memory == "[Genre: fantasy]" and state.authors_note == "[Style: grim]"
    assert state.world == [WorldEntry(("Ungvid",), "Ungvid is the Jarl of Winterhold.",
                                      comment="Ungvid")]
    assert conversion.dropped == [
        "NovelAI's generation settings (temperature, sampling, banned words)"]


def test_fragments_become_turns_when_they_add_up() -> None:
    parts = [{"text": "You wake.", "origin": "prompt"}, {"text": " The fire is out.",
                                                         "origin": "ai"},
             {"text": " You stand up.", "origin": "user"}]
    state = convert(novelai_story("".join(p["text"] for p in parts), parts)).saves[0][1]
    assert state.turns == [Turn("opening", "You wake."),
                           Turn("model", " The fire is out.", alternatives=[" The fire is out."]),
                           Turn("player", " You stand up.", kind="story", raw="You stand up.")]
    # Fragments that do not add up to the text: the text is kept whole.
    state = convert(novelai_story("Edited text.", parts)).saves[0][1]
    assert [t.text for t in state.turns] == ["Edited text."]


def test_as_seed() -> None:
    [seed] = convert_bytes(json.dumps(novelai_story()).encode(), "tale.story", "seed").seeds
    assert seed.id == "novelai-tale" and seed.openings == ("You stand at the gates of Whiterun.",)
    assert seed.memory == "[Genre: fantasy]" and len(seed.world) == 1


@pytest.mark.parametrize(("doc", "words"), [
    (novelai_story(document="AAECAw=="), "the story text is in NovelAI's packed document "
                                         "(content.document"),
    (novelai_story(""), "the story is empty"),
    ({"storyContainerVersion": 1, "content": "eJzLSM3JyVcozy/KSQEAGgQEXQ=="},
     "packed as text"),
    ({"storyContainerVersion": 1, "content": {"story": {"text": 5}}},
     "content.story.text should be text, not a number"),
])
def test_what_cannot_be_read_is_named(doc: object, words: str) -> None:
    with pytest.raises(UserError) as info:
        convert(doc)
    assert words in info.value.message and info.value.where == "tale.story"


def test_the_packed_story_points_to_its_lorebook() -> None:
    with pytest.raises(UserError) as info:
        convert(novelai_story(document="AAEC"))
    assert info.value.hint is not None and "--into" in info.value.hint


def test_the_real_story() -> None:
    path = peer_sample("novelai/novelai_tamriel_the_reign_of_katariah_create_character_"
                       "20210622.story")
    doc = json.loads(path.read_text(encoding="utf-8"))
    conversion = convert_bytes(path.read_bytes(), str(path))
    [(_, state)] = conversion.saves
    assert state.turns[0].text == doc["content"]["story"]["text"]
    assert state.memory == doc["content"]["context"][0]["text"]
    assert state.title == doc["metadata"]["title"] and len(state.world) == 100
