"""World info written in every lorebook format we write or read, and added back to the story
it came from, adds nothing: whitespace around keys and content and CRLF line ends (a KoboldAI
story keeps them; the lorebook readers do not) do not make a near-duplicate."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.importers import convert_file
from gpt2_adventure.story.importers.kobold import export_kobold
from gpt2_adventure.story.lorebooks.attach import fresh, seed_with_lorebook
from gpt2_adventure.story.lorebooks.common import escaped, identity
from gpt2_adventure.story.lorebooks.read import read_lorebook
from gpt2_adventure.story.lorebooks.sillytavern import export_world_info
from gpt2_adventure.story.model import StoryState, WorldEntry
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.seeds.library import find_seed

WORLD = (
    WorldEntry(("dragon ", " wyrm"), "Dragons guard gold.\n", comment="Dragons"),
    WorldEntry(("inn",), "  The inn is loud.\r\nAt night it is louder.\r\n", ("night ",)),
    WorldEntry((), "\nMagic is rare.  ", always=True),
    WorldEntry(("king",), "The king\ris old.\t"),
    WorldEntry(("forge",), "The forge burns."),  # nothing to trim: the control
)


def _state(world: tuple[WorldEntry, ...] = WORLD) -> StoryState:
    seed = find_seed(AppPaths.from_env(), "knight")
    state = new_state(seed, {"name": "Anna"}, random.Random(1))
    state.world = list(world)
    return state


def _book(world: list[WorldEntry], version: str) -> dict[str, Any]:
    entries = [{"keys": list(e.keys), "secondary_keys": list(e.secondary_keys),
                "selective": bool(e.secondary_keys), "content": e.content,
                "constant": e.always, "enabled": True, "insertion_order": i,
                "comment": e.comment, "extensions": {}} for i, e in enumerate(world)]
    book = {"name": "Larion", "entries": entries}
    return {"spec": "lorebook_v3", "data": book} if version == "V3" else book


def _kobold_world(world: list[WorldEntry]) -> list[dict[str, Any]]:
    """The story's ``worldinfo`` list, as KoboldAI Lite exports world info alone."""
    text, _ = export_kobold(_state(tuple(world)))
    return json.loads(text)["worldinfo"]


WRITERS: dict[str, Callable[[list[WorldEntry]], str]] = {
    "SillyTavern World Info": export_world_info,
    "KoboldAI world info": lambda world: json.dumps(_kobold_world(world)),
    "character book V2": lambda world: json.dumps(_book(world, "V2")),
    "character book V3": lambda world: json.dumps(_book(world, "V3")),
}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_a_world_added_back_to_its_game_adds_nothing(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "lore.json"
    path.write_text(WRITERS[fmt](list(WORLD)), encoding="utf-8")
    book = read_lorebook(path)
    assert len(book.entries) == len(WORLD)
    new, skipped = fresh(WORLD, book.entries)
    assert new == [] and skipped == len(WORLD)
    assert [identity(e) for e in book.entries] == [identity(e) for e in WORLD]


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_a_world_added_back_to_its_seed_adds_nothing(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "lore.json"
    path.write_text(WRITERS[fmt](list(WORLD)), encoding="utf-8")
    seed = replace(find_seed(AppPaths.from_env(), "knight"), world=tuple(map(escaped, WORLD)))
    again, attached = seed_with_lorebook(seed, path)
    assert attached.added == 0 and attached.skipped == len(WORLD)
    assert again.world == seed.world


def test_a_kobold_story_round_trips_through_a_lorebook(tmp_path: Path) -> None:
    # The KoboldAI importer keeps content as KoboldAI stored it; the lorebook made of that
    # game is read back trimmed, and is still the same entries.
    story = tmp_path / "story.json"
    story.write_text(export_kobold(_state())[0], encoding="utf-8")
    (_, imported), = convert_file(story).saves
    assert [e.content for e in imported.world] == [e.content for e in WORLD]
    lore = tmp_path / "lore.json"
    lore.write_text(export_world_info(imported.world), encoding="utf-8")
    new, skipped = fresh(imported.world, read_lorebook(lore).entries)
    assert new == [] and skipped == len(WORLD)


def test_entries_that_differ_inside_are_still_added() -> None:
    existing = [WorldEntry(("inn",), "The inn is loud.")]
    new, skipped = fresh(existing, [WorldEntry(("inn",), "The inn is  loud."),
                                    WorldEntry(("Inn",), "The inn is loud."),
                                    WorldEntry(("inn",), "The inn is loud.\r\n")])
    assert [e.content for e in new] == ["The inn is  loud.", "The inn is loud."]
    assert skipped == 1
