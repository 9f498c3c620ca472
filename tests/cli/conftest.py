"""Fixtures the CLI tests share."""

from __future__ import annotations

from typing import Any

import pytest

from gpt2_adventure.cli import play


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The Launch each play/chat/write command would play, instead of playing it."""
    seen: list[Any] = []

    def record(launch: Any) -> int:
        seen.append(launch)
        return 0

    monkeypatch.setattr(play, "run_plain_launch", record)
    return seen
