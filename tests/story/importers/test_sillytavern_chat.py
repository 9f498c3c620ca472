"""SillyTavern chat logs in and out: messages as turns, swipes as alternatives, hidden and
narrator messages as SillyTavern treats them; round trips keep every message and swipe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.importers import convert_bytes, convert_file
from gpt2_adventure.story.importers.sillytavern_chat import export_chat
from gpt2_adventure.story.importers.summary import what_found
from gpt2_adventure.story.model import ChatSpec, StoryState, Turn
from tests.story.importers import peer_sample
from tests.support.peer_formats import base64_json, png_with_text, st_chat, st_message, v2_card


def chat_text() -> str:
    return st_chat(
        st_message("Seraphina", "Welcome to the glade.", swipes=[
            "Welcome to the glade.", "You wake in a forest."], swipe_id=0),
        st_message("Tom", "Where am I?\nWho are you?", user=True),
        st_message("Seraphina", "Rest now.", swipes=["Easy.", "Rest now.", "Sleep."],
                   swipe_id=1),
        st_message("Tom", "(an OOC aside)", user=True, is_system=True),
        st_message("System", "Night falls.", extra={"type": "narrator"}),
        st_message("Seraphina", "Goodnight."),
        note_prompt="[Seraphina is kind.]", world_info="Glade", variables={"x": 1})


def imported(text: str, name: str = "Seraphina - 2023-1-24.jsonl",
             **kwargs: object) -> tuple[StoryState, object]:
    conversion = convert_bytes(text.encode(), name, **kwargs)  # type: ignore[arg-type]
    [(_, state)] = conversion.saves
    return state, conversion


def test_messages_become_turns_with_their_swipes() -> None:
    state, conversion = imported(chat_text())
    assert what_found(conversion.format, conversion) == (  # type: ignore[arg-type]
        "a SillyTavern chat (5 messages, 3 swipes) with Seraphina")
    assert state.mode == "chat" and state.chat == ChatSpec(character="Seraphina", player="Tom")
    assert state.authors_note == "[Seraphina is kind.]"
    assert [t.to_dict() for t in state.turns] == [
        {"role": "opening", "text": ""},
        {"role": "model", "text": "\nSeraphina: Welcome to the glade.", "speaker": "Seraphina",
         "alternatives": ["\nSeraphina: Welcome to the glade.",
                          "\nSeraphina: You wake in a forest."], "chosen": 0},
        {"role": "player", "text": "\nTom: Where am I?\nWho are you?", "kind": "say",
         "raw": "Where am I?\nWho are you?", "speaker": "Tom"},
        {"role": "model", "text": "\nSeraphina: Rest now.", "speaker": "Seraphina",
         "alternatives": ["\nSeraphina: Easy.", "\nSeraphina: Rest now.",
                          "\nSeraphina: Sleep."], "chosen": 1},
        {"role": "model", "text": "\nNight falls.", "alternatives": ["\nNight falls."],
         "chosen": 0},
        {"role": "model", "text": "\nSeraphina: Goodnight.", "speaker": "Seraphina",
         "alternatives": ["\nSeraphina: Goodnight."], "chosen": 0},
    ]
    assert conversion.dropped == [  # type: ignore[attr-defined]
        "the linked World Info 'Glade' (add it with: gpt2-adventure import FILE --into "
        "THIS_SAVE)",
        "chat metadata without an equivalent: variables",
        "1 hidden message(s) (SillyTavern keeps them out of the AI's view)"]


def test_a_group_chat_has_each_speaker_as_a_voice() -> None:
    text = st_chat(st_message("Ana", "Hi."), st_message("Bo", "Yo."),
                   st_message("Tom", "Hello both.", user=True), character="unused",
                   user="unused")
    state, conversion = imported(text)
    assert state.chat == ChatSpec(character="Ana", player="Tom", others=("Bo",))
    assert what_found(conversion.format, conversion) == (  # type: ignore[arg-type]
        "a SillyTavern group chat (3 messages) with Ana, Bo")


def test_the_card_given_or_found_beside_the_log(tmp_path: Path) -> None:
    log = tmp_path / "1674559896839.jsonl"
    log.write_text(chat_text(), encoding="utf-8")
    card = tmp_path / "Seraphina.png"
    data = v2_card("Seraphina")
    data["data"].update(scenario="A glade at dusk.", description="A guardian.")
    card.write_bytes(png_with_text({"chara": base64_json(data)}))
    conversion = convert_file(log)
    [(name, state)] = conversion.saves
    assert name == "Seraphina chat" and state.title == "Seraphina chat"
    assert f"character card: {card} (found beside the chat)" in conversion.notes
    assert state.turns[0].text == "A glade at dusk."
    assert state.chat is not None and state.chat.persona == "Seraphina's persona: A guardian."
    assert state.turns[1].text == "\nSeraphina: Welcome to the glade."  # the log's, not card's
    other = tmp_path / "other.json"
    other.write_text(json.dumps(v2_card("Seraphina")), encoding="utf-8")
    conversion = convert_file(log, character=other)
    assert f"character card: {other}" in conversion.notes


def test_a_chat_round_trips_through_sillytavern() -> None:
    state = StoryState(mode="chat", title="Glade", memory="Long ago.", authors_note="[Kind]",
                       chat=ChatSpec(character="Seraphina", player="You",
                                     persona="Seraphina's persona: kind.",
                                     example_dialogue="You: hi\nSeraphina: hello"),
                       turns=[Turn("opening", "A glade at dusk."),
                              Turn("model", "\nSeraphina: Hi {x}.", speaker="Seraphina",
                                   alternatives=["\nSeraphina: Hi {x}.", "\nSeraphina: Yo"]),
                              Turn("player", "\nYou: Where\nam I?", kind="say",
                                   raw="Where\nam I?", speaker="You"),
                              Turn("model", "\nSeraphina: b", speaker="Seraphina",
                                   alternatives=["\nSeraphina: a", "\nSeraphina: b",
                                                 "\nSeraphina:  c \x1b"], chosen=1)])
    text, notes = export_chat(state, now_ms=1)
    assert text.isascii() and len(text.splitlines()) == 4
    assert notes == ["the scene above the first message: SillyTavern shows it nowhere (it "
                     "is kept in chat_metadata.gpt2_adventure, so importing the chat back "
                     "restores it)"]
    back, _ = imported(text, "glade.jsonl")
    assert [t.to_dict() for t in back.turns] == [t.to_dict() for t in state.turns]
    assert (back.title, back.memory, back.authors_note, back.chat) == (
        state.title, state.memory, state.authors_note, state.chat)
    # ... and what SillyTavern reads: each message, every swipe, the chosen one shown.
    messages = [json.loads(line) for line in text.splitlines()[1:]]
    assert messages[2]["swipes"] == ["a", "b", " c \x1b"] and messages[2]["mes"] == "b"
    assert messages[2]["swipe_id"] == 1 and messages[1]["is_user"] is True


def test_an_imported_chat_exports_every_message_and_swipe() -> None:
    state, _ = imported(chat_text())
    text, _ = export_chat(state)
    again, _ = imported(text)
    assert [t.to_dict() for t in again.turns] == [t.to_dict() for t in state.turns]
    messages = [json.loads(line) for line in text.splitlines()[1:]]
    assert [m["mes"] for m in messages] == ["Welcome to the glade.",
                                            "Where am I?\nWho are you?", "Rest now.",
                                            "Night falls.", "Goodnight."]
    assert messages[3]["extra"] == {"type": "narrator"}


def test_only_chats_export() -> None:
    with pytest.raises(UserError, match="only a chat exports"):
        export_chat(StoryState(mode="story", title="t", turns=[Turn("opening", "x")]))


@pytest.mark.parametrize(("text", "where", "words"), [
    ('{"user_name": "You", "character_name": "A"}\n{oops\n', ":2:2", "not valid JSON"),
    ('{"user_name": "You", "character_name": "A"}\n[1]\n', ":2", "should be an object"),
    ('{"user_name": "You", "character_name": "A"}\n{"name": "A", "mes": 5}\n', ":2",
     "mes should be text, not a number"),
    ('{"user_name": "You", "character_name": "A"}\n{"name": "A", "mes": "x", "swipes": 3}\n',
     ":2", "swipes should be a list of text"),
])
def test_bad_logs_name_the_line(text: str, where: str, words: str) -> None:
    with pytest.raises(UserError) as info:
        convert_bytes(text.encode(), "chat.jsonl")
    assert words in info.value.message and info.value.where == "chat.jsonl" + where


def test_the_real_log() -> None:
    path = peer_sample("sillytavern/chats/1673181146000.jsonl")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    [(_, state)] = convert_file(path).saves
    assert state.chat is not None and state.chat.character == lines[0]["character_name"]
    assert [t.text for t in state.turns[1:]] == [f"\n{m['name']}: {m['mes']}"
                                                 for m in lines[1:]]
    again, _ = imported(export_chat(state)[0])
    assert [t.to_dict() for t in again.turns] == [t.to_dict() for t in state.turns]
