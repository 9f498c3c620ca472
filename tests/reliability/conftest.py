"""The reliability suite: fast parts run with every ``pytest``; ``pytest -m slow`` runs the
long ones (>= 100 kills, >= 10,000 fuzz inputs, a 1,000-turn session). Figures are printed at
the end of the run and kept in ``.pytest_cache/v/reliability/figures``."""

from __future__ import annotations

import json

import pytest

from tests.support.reliability_figures import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for key in sorted(FIGURES):
        value = FIGURES[key]
        shown = json.dumps(value) if isinstance(value, (dict, list)) else value
        terminalreporter.write_line(f"{key}: {shown}")
    cache = getattr(terminalreporter.config, "cache", None)
    if cache is not None:
        cache.set("reliability/figures", FIGURES)
