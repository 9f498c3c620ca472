"""Random near-valid NovelAI stories, AI Dungeon scenario exports, character cards,
text-generation-webui characters and RisuAI .charx archives into the importers, as
``test_fuzz.py`` does for the others: a conversion or a UserError naming
the file, nothing else; every seed made is valid and every save loads back. The slow run
(``pytest -m slow``) feeds thousands."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.story.importers.test_fuzz import (
    COMMON,
    NAME,
    check,
    documents_in,
    shaped,
    text_lists,
    texts,
    values,
)
from tests.support.peer_formats import base64_json, charx, png_with_text

question_texts = texts | st.sampled_from(["${character.name}", "${Enter your age...}",
                                          "${}", "${1st}", "a ${x} b ${x}", "${{}}"])
wi = st.lists(shaped({"keys": texts | text_lists, "entry": question_texts, "hidden": values}),
              max_size=3)
scenario = st.deferred(lambda: shaped({
    "title": texts, "prompt": question_texts, "memory": question_texts,
    "authorsNote": question_texts, "mode": st.sampled_from(["adventure", "creative", 1]),
    "worldInfo": wi, "quests": values, "options": st.lists(scenario, max_size=2)
    | values}))
fragment = shaped({"text": texts, "origin": st.sampled_from(["prompt", "ai", "user", 3])})
story = shaped({"storyContainerVersion": 1, "metadata": shaped({"title": texts}),
                "content": shaped({"story": shaped({"text": texts, "fragments": st.lists(
                    fragment, max_size=3)}), "context": st.lists(shaped({"text": texts}),
                                                                 max_size=3),
                    "lorebook": values, "document": values, "settings": values})})
card = shaped({"spec": "chara_card_v2", "data": shaped({"name": texts, "first_mes": texts,
                                                       "description": texts})})
textgen = shaped({"name": texts, "context": texts, "greeting": texts,
                  "example_dialogue": texts, "your_name": texts, "char_name": texts})
nai_scenario = shaped({"scenarioVersion": 3, "title": texts, "prompt": question_texts
                       | st.sampled_from(["${a[b]:c}", "${[x]}", "${a:}", "${:b}"]),
                       "placeholders": st.lists(shaped({"key": texts, "description": texts,
                                                        "defaultValue": texts}), max_size=2),
                       "context": st.lists(shaped({"text": question_texts}), max_size=3),
                       "lorebook": values, "settings": values, "tags": values})
SHAPED = {"aid-scenarios": st.lists(scenario, max_size=3) | scenario,
          "novelai-scenario": nai_scenario,
          "novelai-story": story, "card": card, "textgen-character": textgen}
member_names = st.sampled_from(["card.json", "assets/a.png", "../x", "/abs", "a/../../b",
                                "C:\\x", "card.json"]) | st.text(min_size=1, max_size=12).filter(
                                    lambda name: "\0" not in name and name.strip("/"))
inputs = st.one_of(*(st.tuples(st.just(f), shape) for f, shape in SHAPED.items()))
as_kinds = st.sampled_from([None, "seed", "save"])


@settings(max_examples=200, **COMMON)
@given(given_input=inputs, as_=as_kinds)
def test_shaped_documents(given_input: tuple[str, object], as_: str | None) -> None:
    documents_in(*given_input, as_)


@settings(max_examples=60, **COMMON)
@given(doc=card | values, keyword=st.sampled_from(["chara", "ccv3", "naidata"]))
def test_png_files(doc: object, keyword: str) -> None:
    from gpt2_adventure.story.importers import convert_bytes

    data = png_with_text({keyword: base64_json(doc)})
    check(lambda: convert_bytes(data, NAME))


@settings(max_examples=60, **COMMON)
@given(lines=st.lists(values, min_size=1, max_size=4))
def test_json_lines(lines: list[object]) -> None:
    from gpt2_adventure.story.importers import convert_bytes

    data = "\n".join(json.dumps(line) for line in lines).encode("utf-8", "surrogatepass")
    check(lambda: convert_bytes(data, NAME + "l"))


@settings(max_examples=60, **COMMON)
@given(card_doc=card | values, members=st.lists(st.tuples(member_names, st.binary(
    max_size=20)), max_size=3), cut=st.integers(0, 400))
def test_charx_archives(card_doc: object, members: list[tuple[str, bytes]], cut: int) -> None:
    import warnings

    from gpt2_adventure.story.importers import convert_bytes

    with warnings.catch_warnings():  # zipfile warns about duplicate names
        warnings.simplefilter("ignore")
        data = charx(card_doc, dict(members))
    for sample in (data, data[:cut] if cut else data):
        check(lambda sample=sample: convert_bytes(sample, NAME))


names_ = st.sampled_from(["Seraphina", "Tom", "You", "unused", "A:B", "", " x "]) | texts
message = shaped({"name": names_, "is_user": st.booleans(), "is_system": st.booleans(),
                  "mes": texts, "swipes": text_lists, "swipe_id": st.integers(-2, 4),
                  "extra": shaped({"type": st.sampled_from(["narrator", "x"])})})
header = shaped({"user_name": names_, "character_name": names_, "create_date": 1,
                 "chat_metadata": shaped({"note_prompt": texts, "note_depth": values,
                                          "world_info": texts, "variables": values})})
chat_logs = st.tuples(header, st.lists(message, max_size=5))


def chat_text(log: tuple[object, list[object]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in (log[0], *log[1])).encode(
        "utf-8", "surrogatepass")


@settings(max_examples=150, **COMMON)
@given(log=chat_logs, as_=as_kinds)
def test_chat_logs_and_their_round_trip(log: tuple[object, list[object]], as_: str | None
                                        ) -> None:
    from gpt2_adventure.story.importers import convert_bytes
    from gpt2_adventure.story.importers.sillytavern_chat import export_chat

    result = []
    check(lambda: result.append(convert_bytes(chat_text(log), NAME + "l", as_)))
    if not result or not result[0].saves:
        return
    state = result[0].saves[0][1]
    text, _ = export_chat(state)
    again = convert_bytes(text.encode(), NAME + "l").saves[0][1]
    assert [t.to_dict() for t in again.turns] == [t.to_dict() for t in state.turns]
    assert again.chat == state.chat and again.authors_note == state.authors_note


@pytest.mark.slow
@settings(max_examples=5000, **COMMON)
@given(given_input=inputs, as_=as_kinds)
def test_shaped_documents_slow(given_input: tuple[str, object], as_: str | None) -> None:
    documents_in(*given_input, as_)
