"""Figures the reliability suite reports (kills, fuzz inputs, memory, timings).

Tests record numbers here; ``tests/reliability/conftest.py`` prints them at the end of the run
and keeps them in pytest's cache (``.pytest_cache/v/reliability/figures``).
"""

from __future__ import annotations

from typing import Any

FIGURES: dict[str, Any] = {}


def record(key: str, value: Any) -> None:
    FIGURES[key] = value


def add(key: str, amount: int = 1) -> None:
    FIGURES[key] = FIGURES.get(key, 0) + amount
