"""Agnai memory books as world info, entry by entry."""

from __future__ import annotations

import json
from pathlib import Path

from gpt2_adventure.story.lorebooks.read import lorebook_kind, read_lorebook
from gpt2_adventure.story.model import WorldEntry
from tests.support.peer_formats import agnai_memory_book


def test_entries_come_through(tmp_path: Path) -> None:
    path = tmp_path / "larion.json"
    path.write_text(json.dumps(agnai_memory_book()), encoding="utf-8")
    assert lorebook_kind(agnai_memory_book()) == "agnai"
    book = read_lorebook(path, ("Mira", "You"))
    assert book.format == "an Agnai memory book"
    assert book.entries == [
        WorldEntry(("Vharzul", "dragon"), "Vharzul is a red dragon.", comment="Dragon"),
        WorldEntry(("inn",), "The inn is loud.", comment="Inn")]
    assert book.dropped == ['disabled entries dropped: entry 2 "Off"',
                            "priorities and weights ignored (entries keep the file's order)"]
