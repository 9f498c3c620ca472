"""Our world info written as SillyTavern World Info, and read back by our own reader."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt2_adventure.story.lorebooks.common import is_regex_key, normal
from gpt2_adventure.story.lorebooks.read import read_lorebook
from gpt2_adventure.story.lorebooks.sillytavern import export_world_info, to_world_info
from gpt2_adventure.story.model import WorldEntry
from tests.story.lorebooks import st_entry

WORLD = [WorldEntry(("dragon", "wyrm"), "Dragons {guard} gold.", comment="Dragons"),
         WorldEntry((), "Magic is rare.", always=True),
         WorldEntry(("inn",), "The inn is loud.", ("night", "evening")),
         WorldEntry(("king",), "The king is old.", always=True, comment="King \u00e9")]


def test_every_field_of_sillytaverns_template_with_its_defaults() -> None:
    doc = to_world_info(WORLD, "Larion")
    assert doc["name"] == "Larion" and list(doc["entries"]) == ["0", "1", "2", "3"]
    first = doc["entries"]["0"]
    assert set(first) == set(st_entry(0))  # the template's fields, uid and displayIndex
    assert first["key"] == ["dragon", "wyrm"] and first["keysecondary"] == []
    assert first["comment"] == "Dragons" and first["addMemo"] is True
    assert doc["entries"]["1"]["constant"] is True and doc["entries"]["1"]["key"] == []
    assert doc["entries"]["2"]["keysecondary"] == ["night", "evening"]
    assert doc["entries"]["2"]["selective"] is True
    assert doc["entries"]["2"]["selectiveLogic"] == 0  # AND ANY: ours
    orders = [doc["entries"][str(i)]["order"] for i in range(4)]
    assert orders == sorted(orders) and len(set(orders)) == 4  # our order kept
    assert [e["uid"] for e in doc["entries"].values()] == [0, 1, 2, 3]


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "world.json"
    text = export_world_info(WORLD, "Larion")
    assert text.isascii()
    path.write_text(text, encoding="utf-8")
    book = read_lorebook(path)
    assert book.entries == WORLD and book.dropped == [] and book.notes == []


def test_an_empty_world_is_a_valid_empty_lorebook(tmp_path: Path) -> None:
    path = tmp_path / "world.json"
    path.write_text(export_world_info([]), encoding="utf-8")
    assert json.loads(path.read_text()) == {"entries": {}}
    assert read_lorebook(path).entries == []


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                max_size=20).map(str.strip).filter(bool)
_entries = st.builds(WorldEntry, keys=st.lists(_text.filter(lambda k: "," not in k), max_size=3)
                     .map(tuple), content=_text,
                     secondary_keys=st.lists(_text, max_size=2).map(tuple),
                     always=st.booleans(), comment=_text.map(lambda t: " ".join(t.split())))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(world=st.lists(_entries, max_size=6))
def test_any_world_round_trips(tmp_path: Path, world: list[WorldEntry]) -> None:
    # Entries that could never show are not world info anyone can have made.
    # (A key written /like this/ is a regular expression to SillyTavern too.)
    world = [e for e in world if (e.keys or e.always) and not any(
        map(is_regex_key, (*e.keys, *e.secondary_keys)))]
    path = tmp_path / "world.json"
    path.write_text(export_world_info(world), encoding="utf-8")
    # Read back as every lorebook reader gives text: "\n" line ends, no outer whitespace.
    assert read_lorebook(path).entries == [
        replace(e, keys=tuple(map(normal, e.keys)), content=normal(e.content),
                secondary_keys=tuple(map(normal, e.secondary_keys))) for e in world]
