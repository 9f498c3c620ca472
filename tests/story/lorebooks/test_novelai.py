"""NovelAI lorebooks: ``.lorebook`` files (versions 4-6), the lorebook of a ``.story`` and the
one NovelAI writes into a PNG, entry by entry, and what has no equivalent."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.errors import UserError
from gpt2_adventure.game import Game, Info
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.lorebooks.read import lorebook_kind, read_lorebook
from gpt2_adventure.story.model import WorldEntry
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.story.importers import peer_sample
from tests.support.fake_backend import FakeBackend
from tests.support.peer_formats import (
    base64_json,
    novelai_entry,
    novelai_lorebook,
    novelai_story,
    png_with_text,
)

EXPECTED = [
    WorldEntry(("Rome", "Emperor"), "Rome burned in 476.", comment="Rome Burning"),
    WorldEntry((), "Magic is rare.", always=True, comment="World"),
    WorldEntry(("serpent",), "Wyrms sleep under the hills.", comment="Wyrm"),
    WorldEntry(("harbor",), "[Ships sail at dawn.]", comment="Harbor"),
]


def write(tmp_path: Path, doc: object, name: str) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("version", [4, 5, 6])
def test_entries_come_through_one_by_one(tmp_path: Path, version: int) -> None:
    doc = novelai_lorebook(version)
    assert lorebook_kind(doc) == "novelai"
    book = read_lorebook(write(tmp_path, doc, "world.lorebook"))
    assert book.format == "a NovelAI lorebook"
    assert book.entries == EXPECTED
    assert book.notes == []
    assert book.dropped == [
        "categories (their entries are kept, without category settings)",
        'disabled entries dropped: entry 3 "Off"',
        'regex keys dropped (only plain keys are supported): entry 4 "Wyrm"',
        'search ranges ignored (keys are looked for in the recent story): entry 4 "Wyrm"',
        'insertion positions and priorities ignored (world info goes before the story): '
        'entry 5 "Harbor"',
        'entries of disabled categories dropped: entry 6 "Ghosts"',
    ]


def test_what_else_has_no_equivalent_is_listed(tmp_path: Path) -> None:
    doc = {"lorebookVersion": 7, "settings": {"orderByKeyLocations": True}, "entries": [
        novelai_entry("Lit.", ["lamp"], "Lamp", keyRelative=True, nonStoryActivatable=True,
                      loreBiasGroups=[{"phrases": [{"sequence": "glow"}], "bias": 1}]),
        novelai_entry("   ", ["empty"], "Empty"),
        novelai_entry("No keys.", [], "Keyless"),
        novelai_entry("Only a regex.", ["/x+/"], "Regex"),
    ]}
    book = read_lorebook(write(tmp_path, doc, "x.lorebook"), ("Mira", "You"))
    assert book.entries == [WorldEntry(("lamp",), "Lit.", comment="Lamp")]
    assert book.notes == ["lorebookVersion 7 is newer than the newest known (6); read as 6"]
    assert book.dropped == [
        "ordering entries by where their keys appear (they keep the file's order)",
        'key-relative insertion ignored (world info goes before the story): entry 1 "Lamp"',
        'activation by other lore entries only ignored (the story\'s keys trigger them): '
        'entry 1 "Lamp"',
        'phrase bias groups ignored: entry 1 "Lamp"',
        'entries without text dropped: entry 2 "Empty"',
        'entries without plain keys dropped (they could never trigger): entry 3 "Keyless", '
        'entry 4 "Regex"',
        'regex keys dropped (only plain keys are supported): entry 4 "Regex"',
    ]


def test_macros_are_filled_when_a_character_is_known(tmp_path: Path) -> None:
    doc = {"lorebookVersion": 5, "entries": [novelai_entry("{{char}} likes {{user}}.",
                                                           ["{{char}}"])]}
    book = read_lorebook(write(tmp_path, doc, "m.lorebook"), ("Mira", "Tom"))
    assert book.entries[0].keys == ("Mira",) and book.entries[0].content == "Mira likes Tom."


@pytest.mark.parametrize(("doc", "words"), [
    ({"lorebookVersion": 5, "entries": [{"text": 5, "keys": []}]},
     "entries[0].text should be text, not a number"),
    ({"lorebookVersion": 5, "entries": [{"text": "a", "keys": "dragon"}]},
     "entries[0].keys should be a list of text, not text"),
    ({"lorebookVersion": 5, "entries": [novelai_entry("a", ["b"], enabled="yes")]},
     "entries[0].enabled should be true or false"),
])
def test_bad_entries_are_one_clear_error(tmp_path: Path, doc: object, words: str) -> None:
    path = write(tmp_path, doc, "bad.lorebook")
    with pytest.raises(UserError, match=re.escape(words)) as info:
        read_lorebook(path)
    assert info.value.where == str(path)


def test_the_lorebook_of_a_story(tmp_path: Path) -> None:
    book = read_lorebook(write(tmp_path, novelai_story(), "tale.story"))
    assert book.format == "a NovelAI story"
    assert book.entries == [WorldEntry(("Ungvid",), "Ungvid is the Jarl of Winterhold.",
                                       comment="Ungvid")]
    # Its text cannot be read (packed), its lorebook still can.
    packed = read_lorebook(write(tmp_path, novelai_story(document="AAEC"), "packed.story"))
    assert packed.entries == book.entries


def test_a_lorebook_in_a_png(tmp_path: Path) -> None:
    path = tmp_path / "lore.png"
    path.write_bytes(png_with_text({"naidata": base64_json(novelai_lorebook())}))
    book = read_lorebook(path)
    assert book.format == "a NovelAI lorebook image" and book.entries == EXPECTED
    plain_png = tmp_path / "plain.png"
    plain_png.write_bytes(png_with_text({"Comment": "hi"}))
    with pytest.raises(UserError, match="no NovelAI lorebook in it"):
        read_lorebook(plain_png)
    broken = tmp_path / "broken.png"
    broken.write_bytes(png_with_text({"naidata": "%%%"}))
    with pytest.raises(UserError, match="neither base64 nor JSON"):
        read_lorebook(broken)


def test_world_import_in_a_game(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
    game = Game(Session(state, FakeBackend([" Hm."]), Sampling(max_tokens=20)),
                SaveStore(paths)).open()
    try:
        before = len(game.state.world)
        shown = game.handle(f"/world import {write(tmp_path, novelai_lorebook(), 'w.lorebook')}")
        assert isinstance(shown, Info) and not shown.error, shown
        assert shown.lines[0] == "added 4 world entries from w.lorebook (a NovelAI lorebook)"
        assert game.state.world[before:] == EXPECTED
    finally:
        game.close()


def test_the_real_lorebook() -> None:
    book = read_lorebook(peer_sample("novelai/Ripple (Mon Oct 17 2022).lorebook"))
    [entry] = book.entries
    assert entry.keys == ("Rome", "Emperor", "476 AD") and entry.comment == "Rome Burning"
    assert entry.content.startswith("The Roman Empire burned in the year 476.")
    assert book.dropped == []


def test_the_real_story_lorebook() -> None:
    path = peer_sample("novelai/novelai_tamriel_the_reign_of_katariah_create_character_"
                       "20210622.story")
    doc = json.loads(path.read_text(encoding="utf-8"))
    book = read_lorebook(path)
    raw = doc["content"]["lorebook"]["entries"]
    kept = [e for e in raw if e.get("enabled", True) and e["text"].strip()]
    assert len(book.entries) == len(kept) == 100
    for entry, source in zip(book.entries, kept, strict=True):
        config = source["contextConfig"]
        assert entry.content == (config["prefix"] + source["text"] + config["suffix"]).strip()
        assert entry.comment == " ".join(source["displayName"].split())
        assert set(entry.keys) <= {key.strip() for key in source["keys"]}
