"""Real lorebooks and KoboldAI United stories from peer projects, when
``../shared/peer-samples`` has any: each is read without an error, and what it holds comes
through (skipped when there are none)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpt2_adventure.story.importers import convert_file
from gpt2_adventure.story.lorebooks.read import lorebook_kind, read_lorebook
from tests.story.importers import PEER_SAMPLES, files_under


def _json_files(accept) -> list[Path]:  # noqa: ANN001 - a predicate on the parsed JSON
    found = []
    for path in files_under(PEER_SAMPLES):
        if path.suffix.lower() != ".json":
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
        except (ValueError, OSError):
            continue
        if accept(doc):
            found.append(path)
    return found


def _or_skip(paths: list[Path], what: str) -> list:
    return paths or [pytest.param(None, marks=pytest.mark.skip(
        reason=f"no {what} in ../shared/peer-samples"))]


@pytest.mark.parametrize("path", _or_skip(
    _json_files(lambda doc: lorebook_kind(doc) is not None), "lorebooks"))
def test_peer_sample_lorebooks(path: Path) -> None:
    book = read_lorebook(path, ("Mira", "You"))
    assert book.entries or book.dropped, "a lorebook with nothing in it, and nothing said"
    assert all(entry.content.strip() for entry in book.entries)


@pytest.mark.parametrize("path", _or_skip(_json_files(
    lambda doc: isinstance(doc, dict) and doc.get("file_version") == 2),
    "KoboldAI United stories"))
def test_peer_sample_united_stories(path: Path) -> None:
    conversion = convert_file(path)
    assert conversion.format == "a KoboldAI United story"
    (_, state), = conversion.saves
    assert state.turns and state.turns[0].role == "opening"
