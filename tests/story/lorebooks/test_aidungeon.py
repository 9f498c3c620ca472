"""AI Dungeon story cards and 2021 world-info exports as world info, entry by entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpt2_adventure.story.lorebooks.aidungeon import PATTERNS_EXPANDED, plain_keys
from gpt2_adventure.story.lorebooks.read import lorebook_kind, read_lorebook
from gpt2_adventure.story.model import WorldEntry
from tests.story.importers import peer_sample
from tests.support.peer_formats import aid_story_cards, aid_world_info


def write(tmp_path: Path, doc: object, name: str = "cards.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_story_cards(tmp_path: Path) -> None:
    assert lorebook_kind(aid_story_cards()) == "aidungeon"
    book = read_lorebook(write(tmp_path, aid_story_cards()))
    assert book.format == "AI Dungeon story cards"
    assert book.entries == [
        WorldEntry(("Ana", "the smith"), "Ana is the village smith.", comment="Ana"),
        WorldEntry(("forge",), "The forge burns day and night.", comment="Forge"),
    ]
    assert book.dropped == [
        'card descriptions dropped (notes for the author; the AI never saw them): '
        'entry 1 "Ana"',
        'use in character creation ignored: entry 2 "Forge"',
        'entries without plain keys dropped (they could never trigger): entry 3 "Keyless"',
    ]


def test_world_info_2021_with_enhanced_patterns(tmp_path: Path) -> None:
    book = read_lorebook(write(tmp_path, aid_world_info(), "wi.json"))
    assert book.format == "AI Dungeon world info"
    assert book.entries == [
        WorldEntry(("Katariah", "empress", "emperor", "the empress", "the emperor"),
                   "Katariah rules Tamriel."),
        WorldEntry(("Ungvid", "Jarl of Winterhold"), "Ungvid is old."),  # hidden: kept
    ]
    assert book.notes == [PATTERNS_EXPANDED]
    assert book.dropped == [
        'Enhanced World Info script settings (#[...]) removed from keys: entry 1 "Katariah"',
        'regex keys dropped (only plain keys are supported): entry 3',
        'entries without plain keys dropped (they could never trigger): entry 3',
    ]


@pytest.mark.parametrize(("raw", "keys"), [
    ("a, b ,c", ["a", "b", "c"]),
    ("(Ruler|Jarl) of (Solitude|Haafingar)", ["Ruler of Solitude", "Ruler of Haafingar",
                                             "Jarl of Solitude", "Jarl of Haafingar"]),
    ("x|((nested))", ["x"]),
    ("(a|b)(c|d)(e|f)(g|h)(i|j)(k|l)", []),  # 64 keys: too many to stand for
])
def test_plain_keys(raw: str, keys: list[str]) -> None:
    assert plain_keys(raw)[0] == keys


def test_the_real_world_info() -> None:
    path = peer_sample("aidungeon/1-jarls.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    book = read_lorebook(path)
    assert len(book.entries) == len(raw)
    for entry, source in zip(book.entries, raw, strict=True):
        assert entry.content == source["entry"].strip() and entry.keys
        first = source["keys"].split("|")[0].split("#")[0].split("(")[0]
        assert entry.keys[0] == first
    vrage = book.entries[2]  # Vrage(|the Gifted)|(|High )King of Skyrim|...
    assert {"Vrage", "King of Skyrim", "High King of Skyrim", "Jarl of Solitude"} <= set(
        vrage.keys)
