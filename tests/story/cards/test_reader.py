"""Character cards (V1/V2/V3, .json/.png) -> chat seeds: the mapping, the limits, the errors."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import struct
import sys
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpt2_adventure import fileio
from gpt2_adventure.errors import UserError
from gpt2_adventure.story.cards import reader as cards
from gpt2_adventure.story.cards.fields import MAX_FIELD_CHARS, curly_braced, substitute
from gpt2_adventure.story.cards.png_text import read_text_chunks
from gpt2_adventure.story.cards.reader import card_to_seed, load_card, load_card_report
from gpt2_adventure.story.cards.to_seed import NEUTRAL_GREETING, example_dialogue, slug
from gpt2_adventure.story.model import Placeholder, Seed
from gpt2_adventure.story.seeds.library import fill_seed, parse_seed, to_toml
from tests.story.importers import PEER_SAMPLES  # ../shared/peer-samples
from tests.support.png_cards import (
    SIGNATURE,
    card_png,
    chunk,
    encode_card,
    itxt_chunk,
    minimal_png,
    text_chunk,
    ztxt_chunk,
)

V1 = {
    "name": "Alice",
    "description": "{{char}} is a witch who keeps {{user}}'s cat.",
    "personality": "sly, kind",
    "scenario": "{{user}} is lost in {{char}}'s forest.",
    "first_mes": "*looks up* Oh, hello {{user}}.",
    "mes_example": "<START>\n{{user}}: Hi\n{{char}}: Hello.\n<START>\n<USER>: Bye\n<BOT>: Go.",
}


def v2_card(**data: Any) -> dict[str, Any]:
    base = {
        "name": "Brann", "description": "A dwarf smith.", "personality": "gruff",
        "scenario": "", "first_mes": "What do you want?", "mes_example": "",
        "creator_notes": "Made for testing.", "system_prompt": "You are Brann.",
        "post_history_instructions": "Stay in character.",
        "alternate_greetings": ["Back again, {{user}}?", "", "  "],
        "tags": ["fantasy", "dwarf"], "creator": "me", "character_version": "1",
        "extensions": {"talkativeness": "0.5", "fav": False, "world": "",
                       "depth_prompt": {"prompt": "{{char}} hates elves.", "depth": 4}},
        "character_book": {
            "scan_depth": 4, "token_budget": 500, "extensions": {},
            "entries": [
                {"keys": ["anvil"], "content": "The anvil is old.", "enabled": True,
                 "insertion_order": 0, "comment": "Anvil", "extensions": {}},
                {"keys": ["forge"], "secondary_keys": ["fire", ""], "selective": True,
                 "content": "The forge burns.", "enabled": True, "insertion_order": 1,
                 "name": "Forge", "extensions": {}},
                {"keys": ["hammer"], "secondary_keys": ["iron"], "selective": False,
                 "content": "A hammer.", "enabled": True, "insertion_order": 2,
                 "extensions": {}},
                {"keys": [], "content": "Brann is a dwarf.", "constant": True,
                 "enabled": True, "insertion_order": 3, "extensions": {}},
                {"keys": ["secret"], "content": "Hidden.", "enabled": False,
                 "insertion_order": 4, "comment": "Off", "extensions": {}},
            ],
        },
    }
    base.update(data)
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": base}


def v3_card(**data: Any) -> dict[str, Any]:
    card = v2_card(**data)
    card["spec"], card["spec_version"] = "chara_card_v3", "3.0"
    card["data"].setdefault("group_only_greetings", [])
    card["data"].setdefault("assets", [{"type": "icon", "uri": "ccdefault:", "name": "main",
                                        "ext": "png"}])
    return card


def write(tmp_path: Path, content: Any, name: str = "card.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def refused(path: Path, *fragments: str) -> UserError:
    """Loading fails with a UserError naming the file and containing every fragment."""
    with pytest.raises(UserError) as info:
        load_card(path)
    error = info.value
    assert error.where is not None and str(path) in error.where
    for fragment in fragments:
        assert fragment in error.message, (fragment, error.message)
    return error


def greetings(seed: Seed) -> tuple[str, ...]:
    """The chat's first message and its alternatives, as the game shows them."""
    assert seed.chat is not None
    return tuple(t for t in (seed.chat.greeting, *seed.chat.alternate_greetings) if t)


def plain(seed: Seed) -> Seed:
    """What a game sees: the seed's templates filled (card braces come back as written)."""
    return fill_seed(seed, {})


# -- V1 ------------------------------------------------------------------------------------


def test_v1_json_maps_every_field(tmp_path: Path) -> None:
    path = write(tmp_path, V1)
    seed, notes = load_card_report(path)
    assert (seed.id, seed.title, seed.mode, seed.source) == ("alice", "Alice", "chat", path)
    assert seed.description == "Alice is a witch who keeps your cat."
    assert seed.genre == "character card" and seed.sampling == {}
    # The scenario is the scene above the greeting; the first message is the greeting only.
    assert seed.openings == ("You are lost in Alice's forest.",) and seed.memory == ""
    # "hello you" would not do: the player is asked for the name Alice greets them by.
    assert greetings(seed) == ("*looks up* Oh, hello {name}.",)
    assert seed.placeholders == (Placeholder("name", "What does Alice call you?", "User"),)
    assert greetings(fill_seed(seed, {"name": "Tom"})) == ("*looks up* Oh, hello Tom.",)
    chat = seed.chat
    assert chat is not None
    assert chat.character == "Alice" and chat.player == "You" and chat.others == ()
    assert chat.persona == ("Alice's persona: Alice is a witch who keeps your cat.\n"
                            "Alice's personality: sly, kind")
    assert chat.example_dialogue == "You: Hi\nAlice: Hello.\n\nYou: Bye\nAlice: Go."
    assert seed.world == () and seed.authors_note == ""
    assert notes == []
    assert load_card(path) == seed


def test_pygmalion_style_v1_field_names_are_understood(tmp_path: Path) -> None:
    card = {"char_name": "Pyg", "char_persona": "A bot.", "world_scenario": "A lab.",
            "char_greeting": "Beep.", "example_dialogue": "<START>\nYou: hi\nPyg: boop"}
    seed = load_card(write(tmp_path, card))
    assert seed.title == "Pyg" and greetings(seed) == ("Beep.",) and seed.openings == ("A lab.",)
    assert seed.chat is not None and seed.chat.example_dialogue == "You: hi\nPyg: boop"


# -- V2 ------------------------------------------------------------------------------------


def test_v2_greetings_lorebook_and_notes(tmp_path: Path) -> None:
    seed, notes = load_card_report(write(tmp_path, v2_card()))
    assert seed.title == "Brann" and seed.genre == "fantasy, dwarf"
    assert greetings(seed) == ("What do you want?", "Back again, {name}?")  # blanks dropped
    assert seed.authors_note == "Brann hates elves."  # SillyTavern's character note
    assert seed.openings == ("",) and seed.memory == ""  # no scenario: no scene above
    keys = [(w.keys, w.secondary_keys, w.always, w.comment, w.content) for w in seed.world]
    assert keys == [
        (("anvil",), (), False, "Anvil", "The anvil is old."),
        (("forge",), ("fire",), False, "Forge", "The forge burns."),  # selective: kept
        (("hammer",), (), False, "", "A hammer."),  # not selective: secondary dropped
        ((), (), True, "", "Brann is a dwarf."),  # constant -> always
    ]
    text = "\n".join(notes)
    for fragment in ("system prompt", "post-history instructions", "creator notes",
                     "lorebook settings ignored: scan_depth, token_budget",
                     'disabled lorebook entries dropped: entries[4] "Off"',
                     'secondary keys ignored on non-selective lorebook entries: '
                     'entries[2] "hammer"'):
        assert fragment in text, fragment
    assert "talkativeness" not in text and "fav" not in text


def test_creator_notes_describe_a_card_without_description(tmp_path: Path) -> None:
    seed, notes = load_card_report(write(tmp_path, v2_card(description="")))
    assert seed.description == "Made for testing."
    assert not any("creator notes" in n for n in notes)
    bare = load_card(write(tmp_path, {"name": "Zed"}, "bare.json"))
    assert bare.description == "A chat with Zed."


def test_unused_extensions_and_linked_lorebook_are_noted(tmp_path: Path) -> None:
    card = v2_card(extensions={"world": "Big World", "regex_scripts": [{"x": 1}],
                               "depth_prompt": "not an object", "empty": {}})
    seed, notes = load_card_report(write(tmp_path, card))
    text = "\n".join(notes)
    assert "separate lorebook ('Big World')" in text
    assert "extensions ignored: regex_scripts" in text
    assert "depth_prompt ignored" in text and "empty" not in text
    assert seed.authors_note == ""


def test_lorebook_entries_that_cannot_work_are_dropped_and_noted(tmp_path: Path) -> None:
    entries = [
        {"keys": ["a"], "content": "   ", "comment": "blank"},
        {"keys": ["", " "], "content": "never", "comment": "keyless"},
        {"keys": ["b"], "content": "B.", "selective": True, "secondary_keys": ["c"],
         "extensions": {"selectiveLogic": 2}},
        {"keys": ["d"], "content": "D.", "selective": True, "secondary_keys": ["e"],
         "extensions": {"selectiveLogic": 3}},
        {"keys": ["f"], "content": "F.", "selective": True, "secondary_keys": ["g"],
         "extensions": {"selectiveLogic": True}},
    ]
    seed, notes = load_card_report(write(tmp_path, v2_card(character_book={"entries": entries})))
    assert [(w.keys, w.secondary_keys) for w in seed.world] == [
        (("b",), ()), (("d",), ("e",)), (("f",), ("g",))]
    text = "\n".join(notes)
    assert 'without content dropped: entries[0] "blank"' in text
    assert 'without keys dropped (they could never trigger): entries[1] "keyless"' in text
    assert "NOT logic ignored" in text and "AND ALL logic" in text


def test_many_dropped_entries_are_summarised(tmp_path: Path) -> None:
    entries = [{"keys": [f"k{i}"], "content": "x", "enabled": False} for i in range(8)]
    _, notes = load_card_report(write(tmp_path, v2_card(character_book={"entries": entries})))
    assert any(n.endswith("and 3 more") for n in notes)


# -- V3 ------------------------------------------------------------------------------------


def test_v3_nickname_decorators_regex_assets_and_group_greetings(tmp_path: Path) -> None:
    entries = [
        {"keys": ["ring"], "content": "@@depth 4\n@@role system\nThe ring glows.",
         "enabled": True, "insertion_order": 0, "use_regex": False, "extensions": {}},
        {"keys": ["^r.*g$"], "content": "regex", "enabled": True, "insertion_order": 1,
         "use_regex": True, "extensions": {}},
        {"keys": [], "content": "Always on.", "constant": True, "enabled": True,
         "insertion_order": 2, "use_regex": True, "extensions": {}},
    ]
    card = v3_card(name="Brann Ironfist", nickname="Brann", first_mes="I am {{char}}.",
                   group_only_greetings=["hi all"], character_book={"entries": entries},
                   assets=[{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"},
                           {"type": "emotion", "uri": "embeded://x.png", "name": "joy",
                            "ext": "png"}])
    seed, notes = load_card_report(write(tmp_path, card))
    assert seed.title == "Brann Ironfist" and seed.id == "brann-ironfist"
    assert seed.chat is not None and seed.chat.character == "Brann"
    assert greetings(seed)[0] == "I am Brann."
    assert [w.content for w in seed.world] == ["The ring glows.", "regex", "Always on."]
    text = "\n".join(notes)
    for fragment in ("1 group-only greeting(s) ignored", "1 asset(s) ignored",
                     'decorators (@@ lines) removed from lorebook entries: entries[0] "ring"',
                     'look like patterns matched as plain text (use_regex is set, but a key is '
                     'a regex only when written /.../flags, as in SillyTavern): entries[1] '
                     '"^r.*g$"'):
        assert fragment in text, fragment


def test_v1_and_v2_do_not_read_v3_only_fields(tmp_path: Path) -> None:
    seed = load_card(write(tmp_path, v2_card(nickname="Nick", character_book={"entries": [
        {"keys": ["x"], "content": "@@depth 4\nkept"}]})))
    assert seed.chat is not None and seed.chat.character == "Brann"
    assert seed.world[0].content == "@@depth 4\nkept"


def test_unknown_spec_with_data_is_read_as_v3(tmp_path: Path) -> None:
    seed, notes = load_card_report(write(tmp_path, {"spec": "chara_card_v4",
                                                    "data": {"name": "Future"}}))
    assert seed.title == "Future" and "unknown card spec 'chara_card_v4'" in notes[0]


# -- mapping details -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("{{char}} waves at {{user}}.", "Alice waves at you."),
    ("{{Char}} and {{ USER }}", "Alice and you"),
    ("{{user}}: hi\n<USER>: yo\n<bot>: ok", "You: hi\nYou: yo\nAlice: ok"),
    ("It is {{user}}'s turn. {{user}}\u2019s bag.", "It is your turn. Your bag."),
    ("{{user}} is tired, {{user}} wasn't. {{User}} Has", "You are tired, you weren't. You Have"),
    ("{{user}} island, {{char}} is", "You island, Alice is"),
    ('"{{user}}!" *{{user}} nods* at *{{user}}*', '"You!" *You nod* at *you*'),
    # a regular verb agrees only where "you" is its subject
    ("{{user}} wakes. Then {{user}} tries, and {{user}} goes and {{user}} watches.",
     "You wake. Then you try, and you go and you watch."),
    ("She gives {{user}} flowers; {{char}} finds {{user}} lies.",
     "She gives you flowers; Alice finds you lies."),
    ("{{user}} always wakes. {{user}} kisses, {{user}} dies, {{user}} doesn't",
     "You always wakes. You kiss, you dies, you don't"),
    ("{{user}} us {{user}}s", "You us yous"),
    ("{{original}} <START> {{mystery:x}} {{roll:0}} {{ roll : d }}",
     "{{original}} <START> {{mystery:x}} {{roll:0}} {{ roll : d }}"),
    ("a{{// note }}b{{/// key}}c{{hidden_key: k}}d{{comment: c}}e{{reverse:olleh}}",
     "abcdehello"),
])
def test_substitutions(text: str, expected: str) -> None:
    assert substitute(text, "Alice") == expected


def test_random_pick_and_roll_are_resolved_as_card_v3_says() -> None:
    seen = {curly_braced("{{random:Hi,Hello\\, you,Hey}}", random.Random(i)) for i in range(60)}
    assert seen == {"Hi", "Hello, you", "Hey"}
    assert {curly_braced("{{random::a b::c}}", random.Random(i)) for i in range(40)} == {
        "a b", "c"}  # SillyTavern's own form
    picks = {curly_braced("{{pick:x,y,z}} {{PICK:x,y,z}}", random.Random(i)) for i in range(20)}
    assert len(picks) == 1 and next(iter(picks)) in ("x x", "y y", "z z")  # stable
    rolls = {int(curly_braced("{{roll:d6}}", random.Random(i))) for i in range(200)}
    assert rolls == set(range(1, 7))
    nested = curly_braced("{{random:{{reverse:ba}},{{reverse:ba}}}}", random.Random(1))
    assert nested == "ab"  # inside-out
    assert substitute("{{random:Hi,Hi}}. {{user}} waves", "A") == "Hi. You wave"


def test_substitution_with_another_player_name_is_plain() -> None:
    assert substitute("{{user}}'s hat; {{user}} is", "A", "User") == "User's hat; User is"


def test_example_dialogue_drops_start_markers() -> None:
    text = "<start>\nYou: a\nA: b\n\n  <START>  \n<START>\nYou: c\n<START>You: d"
    assert example_dialogue(text) == "You: a\nA: b\n\nYou: c\n\nYou: d"
    assert example_dialogue("<START>") == ""
    assert example_dialogue("You: a\u2028b") == "You: a\u2028b"


def test_no_first_message_gives_a_neutral_greeting(tmp_path: Path) -> None:
    seed, notes = load_card_report(write(tmp_path, {"name": "Quiet", "first_mes": "  "}))
    assert greetings(seed) == (NEUTRAL_GREETING,) and seed.openings == ("",)
    assert any("neutral greeting" in n for n in notes)
    alt = load_card(write(tmp_path, v2_card(first_mes=""), "alt.json"))
    assert greetings(alt) == ("Back again, {name}?",)  # the first alternate greeting leads
    scene, notes = load_card_report(write(tmp_path, {"name": "Q", "scenario": "A cave."},
                                          "scene.json"))
    assert greetings(scene) == () and scene.openings == ("A cave.",)  # the player speaks first
    assert any("you speak first" in n for n in notes)


def test_long_description_is_shortened_for_the_list_but_kept_in_the_persona(
        tmp_path: Path) -> None:
    description = "word " * 800
    seed, notes = load_card_report(write(tmp_path, {"name": "A", "description": description}))
    assert len(seed.description) <= 160 and seed.description.endswith("\u2026")
    assert seed.chat is not None and description.strip() in seed.chat.persona
    assert any("persona is long" in n for n in notes)


def test_a_long_scenario_is_the_scene_too_and_not_in_the_persona(tmp_path: Path) -> None:
    scenario = "A long tale. " * 100
    seed = load_card(write(tmp_path, {"name": "A", "scenario": scenario}))
    assert seed.memory == "" and seed.openings == (scenario.strip(),)
    assert seed.chat is not None and seed.chat.persona == ""


@pytest.mark.parametrize(("name", "expected"), [
    ("Alice", "alice"), ("Élodie Saint-Dé", "elodie-saint-de"), ("  R2 / D2 !! ", "r2-d2"),
    ("CON", "con-card"), ("x" * 80, "x" * 48),
])
def test_slug(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_slug_of_a_name_without_letters_is_a_stable_hash() -> None:
    assert slug("🦔 !") == slug("🦔 !") != slug("🐉")
    assert slug("🦔 !").startswith("card-")


def test_names_become_one_line_speaker_labels(tmp_path: Path) -> None:
    seed, notes = load_card_report(write(tmp_path, {"name": " Dr.\n X: the\tReturn ",
                                                    "first_mes": "I am {{char}}."}))
    assert seed.title == "Dr. X: the Return"
    assert seed.chat is not None and seed.chat.character == "Dr. X the Return"
    assert greetings(seed) == ("I am Dr. X the Return.",)
    assert any("':'" in n for n in notes)


def test_a_character_called_you_renames_the_player(tmp_path: Path) -> None:
    seed, notes = load_card_report(write(tmp_path, {"name": "you", "first_mes": "Hi {{user}}",
                                                    "mes_example": "{{user}}: a\n{{char}}: b"}))
    assert seed.chat is not None and (seed.chat.character, seed.chat.player) == ("you", "User")
    assert greetings(seed) == ("Hi User",) and seed.chat.example_dialogue == "User: a\nyou: b"
    assert any("player is called 'User'" in n for n in notes)


def test_braces_stay_literal_and_the_seed_is_a_valid_seed_file(tmp_path: Path) -> None:
    card = v2_card(first_mes="{name} {{x}} {", description="{oops}",
                   scenario="a {b} c", character_book={"entries": [
                       {"keys": ["{k}"], "content": "{v}", "selective": True,
                        "secondary_keys": ["}"]}]})
    seed = load_card(write(tmp_path, card))
    filled = plain(seed)
    assert greetings(filled)[0] == "{name} {{x}} {"  # {{x}} is no card macro: kept as written
    assert filled.openings == ("a {b} c",)
    assert filled.chat is not None and "{oops}" in filled.chat.persona
    assert (filled.world[0].keys, filled.world[0].content,
            filled.world[0].secondary_keys) == (("{k}",), "{v}", ("}",))
    again = parse_seed(to_toml(seed), seed.id)  # what an import command would write
    assert again == replace(seed, source=None)


def test_nul_is_stripped_and_lone_surrogates_replaced(tmp_path: Path) -> None:
    raw = '{"name": "A\\u0000lice", "description": "x\\u0000y \\ud800 z"}'
    seed = load_card(write(tmp_path, raw))
    assert seed.title == "Alice"
    assert seed.chat is not None and seed.chat.persona == "Alice's persona: xy \ufffd z"


def test_windows_and_old_mac_line_ends_become_newlines_everywhere(tmp_path: Path) -> None:
    card = v2_card(description="Tall.\r\nStrong.", personality="a\rb", scenario="x\r\n\r\ny",
                   first_mes="Hi.\r\n*waves*", alternate_greetings=["Yo.\r\nYo."],
                   mes_example="<START>\r\n{{user}}: hi\r\n{{char}}: hey",
                   character_book={"entries": [{"keys": ["k\r"], "content": "l\r\nm"}]},
                   extensions={"depth_prompt": {"prompt": "n\r\no", "depth": 4}})
    seed = plain(load_card(write(tmp_path, card_png(card), "card.png")))
    assert seed.chat is not None
    texts = [seed.chat.persona, seed.chat.example_dialogue, *greetings(seed), *seed.openings,
             seed.authors_note, *(w.content for w in seed.world)]
    assert not any("\r" in t for t in texts), texts
    assert seed.chat.persona == "Brann's persona: Tall.\nStrong.\nBrann's personality: a\nb"
    assert seed.chat.example_dialogue == "You: hi\nBrann: hey"
    assert greetings(seed) == ("Hi.\n*waves*", "Yo.\nYo.") and seed.openings == ("x\n\ny",)


def test_markup_and_escapes_are_kept_as_data(tmp_path: Path) -> None:
    text = "[bold]x[/bold] \x1b[31mred\x1b[0m <b>hi</b> \u202eevil"
    seed = plain(load_card(write(tmp_path, {"name": "A", "first_mes": text, "scenario": text})))
    assert greetings(seed) == (text,) and seed.openings == (text,)


def test_json_with_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(V1).encode())
    assert load_card(path).title == "Alice"


# -- PNG -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tEXt", "zTXt", "iTXt", "iTXt-z"])
def test_png_text_chunk_kinds(tmp_path: Path, kind: str) -> None:
    path = write(tmp_path, card_png(v2_card(), "chara", kind), "card.png")
    assert load_card(path).title == "Brann"


def test_png_prefers_ccv3_in_either_order(tmp_path: Path) -> None:
    v2 = text_chunk("chara", encode_card(v2_card(name="Old")))
    v3 = text_chunk("ccv3", encode_card(v3_card(name="New")))
    for order in ((v2, v3), (v3, v2)):
        assert load_card(write(tmp_path, minimal_png(*order), "card.png")).title == "New"


def test_png_keyword_case_first_chunk_and_other_chunks(tmp_path: Path) -> None:
    broken_comment = chunk(b"tEXt", b"Comment\0hello", crc=0)  # not ours: never checked
    png = minimal_png(broken_comment, text_chunk("Chara", encode_card(V1)),
                      text_chunk("chara", encode_card(v2_card())), chunk(b"zzZz", b"\0" * 9))
    assert load_card(write(tmp_path, png, "card.png")).title == "Alice"


def test_png_base64_without_padding_or_with_line_breaks(tmp_path: Path) -> None:
    text = encode_card({"name": "Ab"}).rstrip("=")
    wrapped = "\n".join(text[i:i + 10] for i in range(0, len(text), 10))
    for value in (text, wrapped):
        png = minimal_png(text_chunk("chara", value))
        assert load_card(write(tmp_path, png, "card.png")).title == "Ab"


def test_png_card_in_a_json_named_file_and_chunks_after_iend(tmp_path: Path) -> None:
    assert load_card(write(tmp_path, card_png(V1), "card.json")).title == "Alice"
    late = minimal_png() + text_chunk("chara", encode_card(V1))
    refused(write(tmp_path, late, "late.png"), "no character card")


def test_png_without_iend_is_accepted_when_the_card_is_whole(tmp_path: Path) -> None:
    png = card_png(V1)
    assert load_card(write(tmp_path, png[:-12], "card.png")).title == "Alice"


def test_unicode_card_in_png(tmp_path: Path) -> None:
    card = {"name": "Ёжик 🦔", "first_mes": "こんにちは {{user}}"}
    for kind in ("tEXt", "iTXt", "zTXt"):
        seed = load_card(write(tmp_path, card_png(card, "chara", kind), "card.png"))
        assert (seed.title, greetings(seed)) == ("Ёжик 🦔", ("こんにちは {name}",))


# -- errors --------------------------------------------------------------------------------


def test_missing_file_folder_and_fifo(tmp_path: Path) -> None:
    refused(tmp_path / "nope.json", "no such")
    refused(tmp_path, "folder")
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.json"
        os.mkfifo(fifo)
        refused(fifo, "not a regular file")


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="permissions do not bind here")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, V1)
    path.chmod(0)
    refused(path, "cannot read")


def test_read_errors_become_user_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, V1)

    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fileio.os, "open", denied)  # root reads anything: refuse by hand
    refused(path, "cannot read the character card file: permission denied")


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    with path.open("wb") as handle:
        handle.write(SIGNATURE)
        handle.truncate(cards.MAX_CARD_BYTES + 1)  # sparse: cheap to make
    refused(path, "too large")


def test_not_a_png(tmp_path: Path) -> None:
    refused(write(tmp_path, b"GIF89a....", "card.png"), "not a PNG", "signature")
    refused(write(tmp_path, b"\xff\xd8\xff\xe0junk", "card.json"), "JPEG")
    refused(write(tmp_path, b"RIFF\0\0\0\0WEBPVP8 ", "card.webp"), "WEBP")
    refused(write(tmp_path, b"PK\x03\x04zip", "card.charx"), "zip archive")


def test_truncated_png(tmp_path: Path) -> None:
    png = card_png(v2_card())
    start = png.index(b"tEXt") - 4
    refused(write(tmp_path, png[:start + 30], "cut.png"), "truncated", "tEXt", f"byte {start}")
    refused(write(tmp_path, png[:start + 5], "cut2.png"), "truncated", "header")


def test_chunk_length_beyond_the_png_limit(tmp_path: Path) -> None:
    png = SIGNATURE + struct.pack(">I", 2**31) + b"tEXt" + b"\0" * 8
    refused(write(tmp_path, png, "card.png"), "claims")


def test_crc_mismatch_in_the_card_chunk_is_an_error(tmp_path: Path) -> None:
    data = b"chara\0" + encode_card(V1).encode()
    png = minimal_png(chunk(b"tEXt", data, crc=zlib.crc32(b"tEXt" + data) ^ 1))
    refused(write(tmp_path, png, "card.png"), "CRC mismatch", "chara")


def test_png_without_a_card(tmp_path: Path) -> None:
    error = refused(write(tmp_path, minimal_png(text_chunk("Comment", "hi")), "card.png"),
                    "this PNG has no character card in it")
    assert str(error).startswith("this PNG has no character card in it")


@pytest.mark.parametrize("value", ["not base64!!", "YQ=a", "é" * 8, "   ", "A"])
def test_invalid_base64(tmp_path: Path, value: str) -> None:
    refused(write(tmp_path, minimal_png(text_chunk("chara", value)), "card.png"), "chara")


def test_base64_of_garbage_json_names_the_chunk(tmp_path: Path) -> None:
    value = base64.b64encode(b'{"name": ').decode()
    refused(write(tmp_path, minimal_png(text_chunk("ccv3", value)), "card.png"),
            "inside the PNG's 'ccv3' chunk", "not valid JSON")
    value = base64.b64encode(b'{"name": "\xff"}').decode()
    refused(write(tmp_path, minimal_png(text_chunk("chara", value)), "card.png"), "UTF-8")


def test_decompression_bombs_are_refused(tmp_path: Path) -> None:
    bomb = b"A" * (cards.MAX_CARD_BYTES + 1000)
    assert len(zlib.compress(bomb, 9)) < 100_000
    refused(write(tmp_path, minimal_png(ztxt_chunk("chara", bomb)), "z.png"), "expands")
    refused(write(tmp_path, minimal_png(itxt_chunk("chara", bomb, compressed=True)), "i.png"),
            "expands")


def test_broken_compressed_chunks(tmp_path: Path) -> None:
    packed = zlib.compress(encode_card(V1).encode())
    for body, fragment in [(b"chara\0\0" + packed[:-10], "cut short"),
                           (b"chara\0\0not zlib", "corrupt"),
                           (b"chara\0\x07" + packed, "unknown compression"),
                           (b"chara\0", "malformed")]:
        refused(write(tmp_path, minimal_png(chunk(b"zTXt", body)), "z.png"), fragment)
    for body, fragment in [(b"chara\0\x01", "malformed"), (b"chara\0\0\0en", "malformed"),
                           (b"chara\0\x01\x05\0\0" + packed, "unknown compression"),
                           (b"chara\0\0\0\0\0\xff\xfe", "not UTF-8")]:
        refused(write(tmp_path, minimal_png(chunk(b"iTXt", body)), "i.png"), fragment)


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "name": "A",\n  "description": oops\n}')
    error = refused(path, "not valid JSON", "line 3, column 18")
    assert error.where == f"{path}:3"


def test_empty_and_non_utf8_json(tmp_path: Path) -> None:
    refused(write(tmp_path, b"  \n"), "empty")
    refused(write(tmp_path, b'{"name": "\xff"}'), "not UTF-8", "offset 10")


@pytest.mark.parametrize("value", [[], "text", 3, None, True])
def test_json_must_be_an_object(tmp_path: Path, value: Any) -> None:
    refused(write(tmp_path, json.dumps(value)), "expected an object")


def test_deeply_nested_json_is_refused_quickly(tmp_path: Path) -> None:
    refused(write(tmp_path, "[" * 200_000 + "]" * 200_000), "nested too deeply")
    refused(write(tmp_path, '{"name": "A", "x": ' + '{"a": ' * 100_000), "nested too deeply")


@pytest.mark.skipif(not hasattr(sys, "set_int_max_str_digits"), reason="no digit limit")
def test_enormous_numbers(tmp_path: Path) -> None:
    refused(write(tmp_path, '{"name": "A", "x": ' + "9" * 10_000 + "}"), "not valid JSON")


@pytest.mark.parametrize(("card", "field", "problem"), [
    ({"description": "x"}, "name", "missing or empty"),
    ({"name": "  \n "}, "name", "missing or empty"),
    ({"name": 7}, "name", "must be text, not a number"),
    ({"name": ["A"]}, "name", "must be text, not a list"),
    ({"name": "A", "description": {"a": 1}}, "description", "must be text, not an object"),
    ({"name": "A", "first_mes": True}, "first_mes", "must be text, not true/false"),
    ({"name": "A", "mes_example": 1.5}, "mes_example", "must be text"),
])
def test_v1_field_errors(tmp_path: Path, card: dict[str, Any], field: str,
                         problem: str) -> None:
    refused(write(tmp_path, card), f"field {field} ", problem)


@pytest.mark.parametrize(("data", "field", "problem"), [
    ({"name": None}, "data.name", "missing"),
    ({"alternate_greetings": "hi"}, "data.alternate_greetings", "must be a list, not text"),
    ({"alternate_greetings": ["a", 2]}, "data.alternate_greetings[1]", "must be text"),
    ({"character_book": []}, "data.character_book", "must be an object, not a list"),
    ({"character_book": {"entries": {"0": {}}}}, "data.character_book.entries",
     "must be a list, not an object"),
    ({"character_book": {"entries": [[]]}}, "data.character_book.entries[0]",
     "must be an object, not a list"),
    ({"character_book": {"entries": [{"keys": "a,b", "content": "x"}]}},
     "data.character_book.entries[0].keys", "must be a list, not text"),
    ({"character_book": {"entries": [{"keys": ["a"], "content": 5}]}},
     "data.character_book.entries[0].content", "must be text"),
    ({"character_book": {"entries": [{"keys": ["a"], "content": "x", "enabled": "yes"}]}},
     "data.character_book.entries[0].enabled", "must be true or false, not text"),
    ({"character_book": {"entries": [{"keys": ["a"], "content": "x", "constant": 1}]}},
     "data.character_book.entries[0].constant", "must be true or false"),
    ({"character_book": {"entries": [{"keys": ["a"], "content": "x",
                                      "secondary_keys": [None]}]}},
     "data.character_book.entries[0].secondary_keys[0]", "must be text, not null"),
])
def test_v2_field_errors(tmp_path: Path, data: dict[str, Any], field: str,
                         problem: str) -> None:
    refused(write(tmp_path, v2_card(**data)), f"field {field} ", problem)


def test_v2_without_data_object(tmp_path: Path) -> None:
    refused(write(tmp_path, {"spec": "chara_card_v2", "name": "A"}), "field data",
            "must be an object, not null")
    refused(write(tmp_path, {"spec": "chara_card_v3", "data": "x"}), "field data")


@pytest.mark.parametrize(("data", "field"), [
    ({"description": "x" * (MAX_FIELD_CHARS + 1)}, "data.description"),
    ({"name": "n" * 201}, "data.name"),
    ({"alternate_greetings": ["g"] * 1001}, "data.alternate_greetings"),
    ({"alternate_greetings": ["x" * (MAX_FIELD_CHARS + 1)]}, "data.alternate_greetings[0]"),
    ({"character_book": {"entries": [{"keys": ["k"], "content": "c"}] * 1001}},
     "data.character_book.entries"),
    ({"character_book": {"entries": [{"keys": ["k"] * 1001, "content": "c"}]}},
     "data.character_book.entries[0].keys"),
])
def test_limits_name_the_field(tmp_path: Path, data: dict[str, Any], field: str) -> None:
    refused(write(tmp_path, v2_card(**data)), f"field {field} ", "too")


def test_limits_are_not_off_by_one(tmp_path: Path) -> None:
    card = v2_card(description="x" * MAX_FIELD_CHARS, name="n" * 200,
                   character_book={"entries": [{"keys": ["k"], "content": "c"}] * 1000})
    seed = load_card(write(tmp_path, card))
    assert len(seed.world) == 1000


def test_user_error_renders_as_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": 3})
    error = refused(path, "name")
    assert str(error) == f"field name must be text, not a number ({path})"


# -- property tests ------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=20,
)
_ENTRY = st.fixed_dictionaries({}, optional={
    k: JSON_VALUES | st.lists(st.text(max_size=8), max_size=3) | st.booleans()
    for k in ("keys", "secondary_keys", "content", "enabled", "constant", "selective",
              "comment", "name", "use_regex", "extensions")})
_FIELDS = st.fixed_dictionaries({}, optional={
    **{k: JSON_VALUES | st.text(max_size=40)
       for k in ("name", "description", "personality", "scenario", "first_mes",
                 "mes_example", "creator_notes", "system_prompt", "nickname", "tags",
                 "extensions", "assets", "group_only_greetings", "char_name")},
    "alternate_greetings": JSON_VALUES | st.lists(st.text(max_size=10), max_size=3),
    "character_book": JSON_VALUES | st.fixed_dictionaries(
        {}, optional={"entries": JSON_VALUES | st.lists(_ENTRY, max_size=4)}),
})
CARDS = st.one_of(
    JSON_VALUES,
    _FIELDS,
    st.builds(lambda spec, data: {"spec": spec, "data": data},
              st.sampled_from(["chara_card_v2", "chara_card_v3", "other"]), _FIELDS),
)
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _seed_is_usable(seed: Seed) -> None:
    """Whatever a card gives, the seed is a valid seed file and fills without error."""
    plain(seed)
    assert parse_seed(to_toml(seed), seed.id) == replace(seed, source=None)


@FUZZ
@given(card=CARDS)
def test_random_json_cards_only_raise_user_errors(card: Any) -> None:
    try:
        seed, notes = card_to_seed(card, "fuzz.json")
    except UserError:
        return
    assert all(isinstance(n, str) for n in notes)
    _seed_is_usable(seed)


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".json", ".png", ".txt"]),
       png_prefix=st.booleans())
def test_random_bytes_only_raise_user_errors(tmp_path: Path, data: bytes, suffix: str,
                                             png_prefix: bool) -> None:
    path = write(tmp_path, (SIGNATURE + data) if png_prefix else data, f"fuzz{suffix}")
    try:
        load_card(path)
    except UserError as error:
        assert error.message and error.where


_CHUNKS = st.lists(st.tuples(
    st.sampled_from([b"tEXt", b"zTXt", b"iTXt", b"IHDR", b"IEND", b"ab\0\xff"]),
    st.one_of(st.binary(max_size=40),
              st.builds(lambda k, b: k + b, st.sampled_from([b"chara\0", b"ccv3\0", b"CHARA\0"]),
                        st.binary(max_size=40)),
              st.builds(lambda card: b"chara\0" + encode_card(card).encode(), CARDS)),
    st.booleans()), max_size=5)


@FUZZ
@given(chunks=_CHUNKS)
def test_random_png_chunks_only_raise_user_errors(tmp_path: Path,
                                                  chunks: list[tuple[bytes, bytes, bool]]) -> None:
    body = b"".join(chunk(t, d, crc=None if good else 0) for t, d, good in chunks)
    try:
        seed = load_card(write(tmp_path, SIGNATURE + body, "fuzz.png"))
    except UserError:
        return
    _seed_is_usable(seed)


@FUZZ
@given(cut=st.integers(0, 2000), flips=st.lists(st.tuples(st.integers(0, 2000),
                                                          st.integers(1, 255)), max_size=4))
def test_damaged_png_cards_only_raise_user_errors(tmp_path: Path, cut: int,
                                                  flips: list[tuple[int, int]]) -> None:
    data = bytearray(card_png(v2_card(), "chara", "zTXt"))
    for pos, mask in flips:
        data[pos % len(data)] ^= mask
    with contextlib.suppress(UserError):
        load_card(write(tmp_path, bytes(data[: len(data) - cut % len(data)]), "hurt.png"))


_PLAIN_TEXT = st.text(max_size=60).filter(lambda t: "{{" not in t and "<" not in t)


@FUZZ
@given(name=st.text(min_size=1, max_size=30).filter(lambda t: ":" not in t),
       description=_PLAIN_TEXT, personality=_PLAIN_TEXT, first=_PLAIN_TEXT,
       example=_PLAIN_TEXT, lore=_PLAIN_TEXT, greeting=_PLAIN_TEXT,
       kind=st.sampled_from(["json", "tEXt", "iTXt", "zTXt"]))
def test_unicode_text_survives_exactly(tmp_path: Path, name: str, description: str,
                                       personality: str, first: str, example: str,
                                       lore: str, greeting: str, kind: str) -> None:
    title = " ".join(name.replace("\0", "").split())
    assume(title and title.casefold() != "you")
    card = v2_card(name=name, description=description, personality=personality,
                   first_mes=first, mes_example=example, alternate_greetings=[greeting],
                   character_book={"entries": [{"keys": ["k"], "content": lore}]})
    content = json.dumps(card) if kind == "json" else card_png(card, "chara", kind)
    seed = plain(load_card(write(tmp_path, content, f"card.{'json' if kind == 'json' else 'png'}")))

    def kept(text: str) -> str:  # NULs dropped, line ends made "\n", outer space stripped
        return text.replace("\0", "").replace("\r\n", "\n").replace("\r", "\n").strip()

    assert seed.title == title and seed.chat is not None and seed.chat.character == title
    assert kept(description) in seed.chat.persona and kept(personality) in seed.chat.persona
    assert greetings(seed) == tuple(t for t in (kept(first), kept(greeting)) if t) or (
        greetings(seed) == (NEUTRAL_GREETING,))
    assert seed.chat.example_dialogue == kept(example)
    assert [w.content for w in seed.world] == ([kept(lore)] if kept(lore) else [])


@pytest.mark.slow
def test_fuzz_many_inputs(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The slow run (``-m slow``): 10,000 generated cards, chunk lists and byte strings."""
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with -m slow")

    @settings(max_examples=10_000, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(card=CARDS, chunks=_CHUNKS, data=st.binary(max_size=500))
    def run(card: Any, chunks: list[tuple[bytes, bytes, bool]], data: bytes) -> None:
        inputs = [json.dumps(card).encode(), data, SIGNATURE + data,
                  SIGNATURE + b"".join(chunk(t, d, crc=None if good else 0)
                                       for t, d, good in chunks)]
        for i, content in enumerate(inputs):
            name = f"fuzz{i}.{'png' if i > 1 else 'json'}"
            try:
                seed = load_card(write(tmp_path, content, name))
            except UserError:
                continue
            _seed_is_usable(seed)

    run()


# -- the PNG reader on its own ----------------------------------------------------------------


def test_read_text_chunks_returns_the_wanted_keywords_only() -> None:
    png = minimal_png(text_chunk("Comment", "c"), text_chunk("CCV3", "v3"),
                      itxt_chunk("chara", "v2é"))
    assert read_text_chunks(png, "x.png", ("chara", "ccv3"), 1000) == {"ccv3": "v3",
                                                                      "chara": "v2é"}


# -- real cards from peer projects, when present ----------------------------------------------


def _peer_cards() -> list[Path]:
    if not PEER_SAMPLES.is_dir():
        return []
    found = []
    for path in sorted(PEER_SAMPLES.rglob("*")):
        if path.suffix.lower() == ".png" and path.is_file():
            found.append(path)
        elif path.suffix.lower() == ".json" and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except (ValueError, OSError):
                continue
            if isinstance(data, dict) and ("first_mes" in data or "char_name" in data
                                           or str(data.get("spec", "")).startswith("chara")):
                found.append(path)
    return found


@pytest.mark.parametrize("path", _peer_cards() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no character cards in ../shared/peer-samples"))])
def test_peer_sample_cards(path: Path) -> None:
    try:
        seed, notes = load_card_report(path)
    except UserError as error:
        assert "no character card" in error.message  # a plain PNG among the samples
        return
    assert seed.mode == "chat" and seed.title and seed.openings
    _seed_is_usable(seed)
