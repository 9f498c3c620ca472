"""Notifications whose text may come from a story, a seed or a file: shown literally."""

from __future__ import annotations

from textual.dom import DOMNode

from gpt2_adventure.safe_text import printable


def say(node: DOMNode, text: str, *, severity: str = "information", timeout: float | None = None
        ) -> None:
    """``notify`` with control characters made visible and no markup (Textual would obey
    both: an OSC sequence in a save name could retitle the terminal)."""
    kwargs = {"timeout": timeout} if timeout is not None else {}
    node.notify(printable(text), severity=severity, markup=False, **kwargs)  # type: ignore[arg-type]
