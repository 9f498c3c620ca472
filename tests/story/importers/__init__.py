"""Tests of the importers (AI Dungeon 2, Clover Edition, KoboldAI) and helpers they share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# The real files from peer projects live next to the repository (``../shared/peer-samples``);
# CI runs in a clone that has that sibling too. Tests that read them skip when it is absent.
PEER_SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "peer-samples"


def peer_sample(relative: str) -> Path:
    path = PEER_SAMPLES / relative
    if not path.is_file():
        pytest.skip(f"peer sample {relative} is not present")
    return path


def write_json(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
