"""Textual's private parts the game leans on, in one place.

tests/tui/test_textual_shim.py fails loudly when a Textual release removes or changes one;
at run time a missing one falls back to the public, slower way, so players never see a crash.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget

# Widget._scroll_update(virtual_size): shows, hides and sizes the scrollbars for a new
# scrollable size. Private, but the only way to do that without a layout of the screen.
SCROLL_UPDATE = "_scroll_update"


def set_virtual_size_quietly(widget: Widget, size: Size) -> None:
    """Set ``widget``'s scrollable size without laying the screen out again: a layout repaints
    every widget, and a streaming reply grows a line every few frames. ``_scroll_update``
    still asks for a layout when a scrollbar appears or goes."""
    scroll_update = getattr(widget, SCROLL_UPDATE, None)
    if scroll_update is None:  # a Textual without it: the public setter (it lays out)
        widget.virtual_size = size
        return
    widget.set_reactive(Widget.virtual_size, size)
    scroll_update(size)
