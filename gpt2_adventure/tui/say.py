"""Notifications whose text may come from a story, a seed or a file: shown literally."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel
from textual.widget import Widget

from gpt2_adventure.safe_text import printable


def say(node: Widget | App[Any], text: str, *, severity: SeverityLevel = "information",
        timeout: float | None = None) -> None:
    """``notify`` with control characters made visible and no markup (Textual would obey
    both: an OSC sequence in a save name could retitle the terminal)."""
    if timeout is None:
        node.notify(printable(text), severity=severity, markup=False)
    else:
        node.notify(printable(text), severity=severity, markup=False, timeout=timeout)
