"""Cards as SillyTavern exports them: the embedded lorebook comes through whole (its
``use_regex: true`` on every entry does not make keys patterns), and the world the card links
is not reported missing when it is the book inside the card."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from gpt2_adventure.story.cards.png_text import is_png, read_text_chunks
from gpt2_adventure.story.cards.reader import load_card_report
from gpt2_adventure.story.cards.to_seed import LINKED_LOREBOOK
from gpt2_adventure.story.lorebooks.common import is_regex_key
from tests.story.importers import PEER_SAMPLES
from tests.support.png_cards import card_png
from tests.support.sillytavern_cards import exported_card, world_entry

# Shaped like a real 27-entry card: 8 constant entries without keys, 19 with keys, one of
# them with a regular expression beside a plain key and one with a regular expression alone.
CONSTANT = [world_entry(i, [], f"Rule {i} of the house.", constant=True, comment=f"rule {i}")
            for i in range(8)]
PLAIN = [world_entry(8 + i, [f"place{i}", f"Place {i}"], f"Place {i} is old.",
                     comment=f"place {i}") for i in range(17)]
PLAIN[0]["key"] += ["[Status]", "Level 5 (Railgun)", "C++"]  # plain keys, brackets and all
MIXED = world_entry(25, ["/dragons?/i", "wyrm"], "Dragons sleep under the hill.",
                    comment="Dragons")
REGEX_ONLY = world_entry(26, ["/\\bking(s)?\\b/"], "The king is old.", comment="King")
WORLD = [*CONSTANT, *PLAIN, MIXED, REGEX_ONLY]


def _card(tmp_path: Path, card: dict[str, Any], name: str = "card.png") -> Path:
    path = tmp_path / name
    path.write_bytes(card_png(card))
    return path


def test_every_plain_keyed_entry_of_an_exported_book_is_kept(tmp_path: Path) -> None:
    card = exported_card("Mira", "Mira's world", WORLD, first_mes="Hello.")
    assert all(e["use_regex"] for e in card["data"]["character_book"]["entries"])
    seed, notes = load_card_report(_card(tmp_path, card))
    assert len(seed.world) == 26  # all but the entry whose only key is a regex
    by_comment = {w.comment: w for w in seed.world}
    assert by_comment["place 3"].keys == ("place3", "Place 3")
    assert by_comment["Dragons"].keys == ("wyrm",)  # the regex key dropped, the entry kept
    assert sum(w.always for w in seed.world) == 8
    dropped = [n for n in notes if "regex" in n]
    assert dropped == [
        'regex keys (/.../) dropped: only plain keys are matched here: entries[25] "Dragons" '
        '(/dragons?/i), entries[26] "King" (/\\bking(s)?\\b/)',
        'entries with only regex keys dropped (they could never trigger): entries[26] "King"']


@pytest.mark.parametrize(("key", "regex"), [
    ("/dragons?/i", True), ("/a\\/b/", True), ("/x/gimsuy", True),
    ("dragon", False), ("/usr/bin/", False),  # an unescaped "/" inside: text to SillyTavern
    ("/x/q", False), ("and/or", False), ("//", False), ("/x", False), (" /x/", False),
])
def test_a_key_is_a_regex_only_as_sillytavern_reads_one(key: str, regex: bool) -> None:
    assert is_regex_key(key) is regex


def test_the_linked_world_is_the_book_inside_the_card(tmp_path: Path) -> None:
    entries = [world_entry(0, ["forge"], "The forge burns.")]
    _, notes = load_card_report(_card(tmp_path, exported_card("Brann", "Forge", entries)))
    assert not [n for n in notes if n.startswith(LINKED_LOREBOOK)]


@pytest.mark.parametrize(("world", "book"), [("Forge", None), ("Forge", "Other book")])
def test_a_linked_world_that_is_not_inside_the_card_is_noted(
        tmp_path: Path, world: str, book: str | None) -> None:
    card = exported_card("Brann", world, [world_entry(0, ["forge"], "The forge burns.")])
    if book is None:
        del card["data"]["character_book"]  # SillyTavern could not read the world it links
    else:
        card["data"]["character_book"]["name"] = book
    _, notes = load_card_report(_card(tmp_path, card))
    assert [n for n in notes if n.startswith(LINKED_LOREBOOK)] == [
        f"{LINKED_LOREBOOK} ('Forge') that is not inside it; bring it with --lorebook FILE"]


# -- real cards ---------------------------------------------------------------------------

def _peer_cards_with_books() -> list[Path]:
    folder = PEER_SAMPLES / "sillytavern" / "cards"
    return sorted(p for p in folder.glob("*") if _data(p).get("character_book")) if (
        folder.is_dir()) else []


def _data(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    if is_png(raw):
        chunks = read_text_chunks(raw, str(path), ("chara",), len(raw) * 4)
        card = json.loads(base64.b64decode(chunks["chara"])) if "chara" in chunks else {}
    else:
        card = json.loads(raw.decode("utf-8-sig"))
    data = card.get("data") if isinstance(card, dict) else None
    return data if isinstance(data, dict) else {}


@pytest.mark.parametrize("path", _peer_cards_with_books() or [pytest.param(
    None, marks=pytest.mark.skip(reason="no SillyTavern cards with a lorebook in "
                                        "../shared/peer-samples/sillytavern/cards"))])
def test_real_cards_keep_their_books_and_their_linked_world(path: Path) -> None:
    data = _data(path)
    book = data["character_book"]
    usable = [e for e in book["entries"] if e.get("enabled", True) and e.get("content", "").strip()
              and (e.get("constant") or any(k.strip() and not is_regex_key(k.strip())
                                            for k in e.get("keys", [])))]
    seed, notes = load_card_report(path)
    assert len(seed.world) == len(usable)
    if book.get("name") == data.get("extensions", {}).get("world"):
        assert not [n for n in notes if n.startswith(LINKED_LOREBOOK)]
