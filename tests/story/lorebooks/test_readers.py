"""Each lorebook reader on a file shaped as its program writes it: the entries, their order,
what was dropped, and the card macros."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpt2_adventure.story.lorebooks.character_book import PATTERNS_AS_TEXT
from gpt2_adventure.story.lorebooks.common import MACROS_KEPT
from gpt2_adventure.story.lorebooks.read import lorebook_kind, read_lorebook
from gpt2_adventure.story.model import WorldEntry
from tests.story.lorebooks import (
    kobold_lite_world,
    sillytavern_world,
    st_entry,
    v2_book,
    v3_lorebook,
    write,
)


def test_sillytavern_world_info(tmp_path: Path) -> None:
    book = read_lorebook(write(tmp_path, sillytavern_world()))
    assert book.format == "a SillyTavern World Info file"
    # In SillyTavern's insertion order: the lowest order first, ties in the file's order.
    assert book.entries == [
        WorldEntry((), "The kingdom of Larion is at war.", always=True, comment="World"),
        WorldEntry(("forge",), "The forge burns day and night.", ("fire",), comment="Forge"),
        WorldEntry(("king",), "The king is old.", comment="King"),  # NOT logic: keys alone
        WorldEntry(("serpent",), "Wyrms sleep under the hills.", comment="Wyrm"),
        WorldEntry(("Vharzul", "dragon"), "Vharzul is a red dragon who hates {{user}}.",
                   comment="Dragon"),
    ]
    assert book.dropped == [
        'disabled entries dropped: entry 2 "Off"',
        "secondary keys with NOT logic ignored (the entry triggers on its keys alone): "
        'entry 4 "King"',
        'regex keys (/.../) dropped: only plain keys are matched here: entry 5 "Wyrm" '
        '(/wyrm(s)?/i)',
        'placement at a depth in the chat ignored (world info goes before the story): '
        'entry 5 "Wyrm"',
        'trigger probability ignored (they always trigger): entry 5 "Wyrm"',
        'inclusion groups ignored: entry 5 "Wyrm"',
    ]
    assert book.notes == [MACROS_KEPT]  # no character known: {{user}} stays


def test_sillytavern_and_all_logic_regex_only_keys_and_settings(tmp_path: Path) -> None:
    entries = {"0": st_entry(0, key=["a"], keysecondary=["b", "c"], selectiveLogic=3,
                             content="A.", caseSensitive=True, matchWholeWords=True),
               "1": st_entry(1, key=["/x+/"], content="Regex only."),
               "2": st_entry(2, key="d, e", content="Old comma keys.", selective=False,
                             keysecondary=["f"], excludeRecursion=True,
                             preventRecursion=True, sticky=2),
               "3": st_entry(3, key=["g"], content="  ")}
    book = read_lorebook(write(tmp_path, {"entries": entries}))
    assert [(e.keys, e.secondary_keys) for e in book.entries] == [
        (("a",), ("b", "c")), (("d", "e"), ())]
    text = "\n".join(book.dropped)
    for fragment in ("AND ALL logic read as 'any one of them': entry 0",
                     "case-sensitive keys matched in any case: entry 0",
                     "whole-word matching ignored",
                     'entries with only regex keys dropped (they could never trigger): '
                     'entry 1 "/x+/"',
                     "secondary keys ignored on non-selective entries: entry 2",
                     "recursion settings ignored: entry 2", "timed effects",
                     'entries without content dropped: entry 3 "g"'):
        assert fragment in text, fragment
    assert 'recursion settings ignored: entry 2 "d"' in book.dropped  # named once


def test_a_list_of_sillytavern_entries_is_read_too(tmp_path: Path) -> None:
    book = read_lorebook(write(tmp_path, {"entries": [st_entry(0, key=["k"], content="c")]}))
    assert book.format == "a SillyTavern World Info file"
    assert book.entries == [WorldEntry(("k",), "c")]


def test_kobold_lite_exported_world_info(tmp_path: Path) -> None:
    book = read_lorebook(write(tmp_path, kobold_lite_world()))
    assert book.format == "KoboldAI world info"
    assert book.entries == [
        WorldEntry(("dragon", "wyrm"), "Dragons guard gold.", comment="Dragons"),
        WorldEntry(("inn",), "The inn is loud at night.", ("night",)),
        WorldEntry((), "Magic is rare.", always=True),
        WorldEntry(("bard",), "The bard sings."),
    ]
    assert book.dropped == [
        'anti-keys ignored (the entry shows even when one appears): entry 2 "inn"',
        'world info groups ignored (the entries are kept): entry 2 "inn"',
        'disabled entries dropped: entry 3 "ghost"',
        "trigger probability ignored (they always trigger): entry 4",
        'secondary keys ignored on non-selective entries: entry 5 "bard"',
    ]


def test_a_kobold_worldinfo_list_alone_with_folders(tmp_path: Path) -> None:
    doc = {"worldinfo": [{"key": "a", "content": "A.", "folder": 1}], "wifolders_d": {"1": {}}}
    book = read_lorebook(write(tmp_path, doc))
    assert book.entries == [WorldEntry(("a",), "A.")]
    assert book.dropped == ["world info folders (the entries are kept, without folders)"]


def test_v2_character_book(tmp_path: Path) -> None:
    book = read_lorebook(write(tmp_path, v2_book()))
    assert book.format == "a character book (Character Card V2 lorebook)"
    assert book.entries == [  # insertion_order 5 before 20
        WorldEntry(("forge",), "The forge burns.", ("fire",), comment="Forge"),
        WorldEntry(("anvil",), "{{char}}'s anvil is old.", comment="Anvil"),
    ]
    assert book.dropped == ["lorebook settings ignored: scan_depth, token_budget",
                            'case-sensitive keys matched in any case: entries[1] "Forge"',
                            'disabled lorebook entries dropped: entries[2] "Off"']
    assert book.notes == [MACROS_KEPT]


def test_v3_lorebook(tmp_path: Path) -> None:
    book = read_lorebook(write(tmp_path, v3_lorebook()))
    assert book.format == "a Character Card V3 lorebook"
    # use_regex is set, but a key is a pattern only when written /.../flags: kept as text.
    assert book.entries == [WorldEntry(("ring",), "The ring glows near <BOT>."),
                            WorldEntry(("^r.*g$",), "regex")]
    assert book.dropped == [
        'V3 decorators (@@ lines) removed from lorebook entries: entries[0] "ring"',
        f'{PATTERNS_AS_TEXT}: entries[1] "^r.*g$"']


@pytest.mark.parametrize("doc", [sillytavern_world(), v2_book(), v3_lorebook()])
def test_macros_take_the_names_when_a_character_is_known(tmp_path: Path, doc: object) -> None:
    book = read_lorebook(write(tmp_path, doc), ("Brann", "You"))
    text = "\n".join(e.content for e in book.entries)
    assert "{{" not in text and "<BOT>" not in text and MACROS_KEPT not in book.notes
    assert ("Brann" in text) or ("hates you." in text)


def test_macro_names_in_keys_too(tmp_path: Path) -> None:
    doc = {"entries": {"0": st_entry(0, key=["{{char}}"], keysecondary=["<USER>"],
                                     content="{{Char}} meets {{user}}.")}}
    book = read_lorebook(write(tmp_path, doc), ("Mira", "Tom"))
    assert book.entries == [WorldEntry(("Mira",), "Mira meets Tom.", ("Tom",))]


@pytest.mark.parametrize(("doc", "kind"), [
    (sillytavern_world(), "sillytavern"), ({"entries": {}}, "sillytavern"),
    (kobold_lite_world(), "kobold"), ({"worldinfo": []}, "kobold"),
    (v2_book(), "character-book"), (v3_lorebook(), "character-book"),
    ({"spec": "chara_card_v2", "data": {"character_book": v2_book()}}, None),
    ({"gamestarted": True, "prompt": "x", "actions": [], "worldinfo": []}, None),
    ({"name": "x", "first_mes": "hi", "entries": []}, None), ([], None), ([1, 2], None),
    ({"settings": {}}, None),
])
def test_what_is_a_lorebook(doc: object, kind: str | None) -> None:
    assert lorebook_kind(doc) == kind


def test_a_cards_book_goes_through_the_same_mapping() -> None:
    from gpt2_adventure.story.cards.reader import card_to_seed

    card = {"spec": "chara_card_v2", "data": {"name": "Brann", "character_book": v2_book()}}
    seed, notes = card_to_seed(card, "card.json")
    # In insertion order, macros filled with the card's names, escaped as seed text.
    assert [w.content for w in seed.world] == ["The forge burns.", "Brann's anvil is old."]
    assert 'disabled lorebook entries dropped: entries[2] "Off"' in notes
    assert "lorebook settings ignored: scan_depth, token_budget" in notes


@pytest.mark.parametrize("odd", [{"position": []}, {"position": {}}, {"probability": "50"},
                                 {"order": "high"}, {"order": 2**80}, {"selectiveLogic": []},
                                 {"group": 5}, {"depth": None}, {"sticky": "x"}])
def test_odd_values_in_settings_we_ignore_do_not_stop_the_entry(tmp_path: Path,
                                                                odd: dict[str, object]) -> None:
    entry = st_entry(0, key=["a"], keysecondary=["b"], content="A.", **odd)
    book = read_lorebook(write(tmp_path, {"entries": {"0": entry}}))
    assert book.entries == [WorldEntry(("a",), "A.", ("b",))]
