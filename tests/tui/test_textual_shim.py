"""Textual's private parts the game uses (tui/textual_shim.py). The shim falls back quietly for
players; these tests must not: a Textual that removes or changes one fails here, by name."""

from __future__ import annotations

import inspect

import textual
from textual.app import App, ComposeResult
from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.widget import Widget

from gpt2_adventure.tui.textual_shim import SCROLL_UPDATE, set_virtual_size_quietly
from gpt2_adventure.tui.widgets.transcript import Transcript

CHANGED = f"Textual {textual.__version__} changed Widget.{SCROLL_UPDATE}; see tui/textual_shim.py"


def test_scroll_update_is_still_there_with_the_same_signature() -> None:
    method = getattr(Widget, SCROLL_UPDATE, None)
    assert callable(method), CHANGED
    parameters = inspect.signature(method).parameters
    assert list(parameters) == ["self", "virtual_size"], CHANGED
    assert parameters["virtual_size"].annotation in (Size, "Size"), CHANGED
    # The transcript gets Textual's own, not an override of it somewhere in between.
    assert getattr(Transcript, SCROLL_UPDATE) is method, CHANGED


def test_the_size_is_still_a_reactive_set_without_watchers() -> None:
    assert isinstance(Widget.__dict__.get("virtual_size"), Reactive), CHANGED
    assert list(inspect.signature(Widget.set_reactive).parameters) == ["self", "reactive",
                                                                         "value"], CHANGED


class Story(ScrollView):
    pass


class Room(App[None]):
    def compose(self) -> ComposeResult:
        yield Story()


async def test_a_quiet_resize_shows_and_hides_the_scrollbar() -> None:
    calls: list[Size] = []
    real = getattr(Widget, SCROLL_UPDATE)

    def recording(self: Widget, virtual_size: Size) -> None:
        calls.append(virtual_size)
        real(self, virtual_size)

    async with Room().run_test(size=(40, 10)) as pilot:
        story = pilot.app.query_one(Story)
        setattr(story, SCROLL_UPDATE, recording.__get__(story))
        set_virtual_size_quietly(story, Size(30, 100))
        assert calls == [Size(30, 100)]  # Textual's own path, not the fallback
        await pilot.pause()
        assert story.virtual_size == Size(30, 100)
        assert story.show_vertical_scrollbar and story.max_scroll_y == 100 - story.size.height
        story.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert story.scroll_y == story.max_scroll_y

        set_virtual_size_quietly(story, Size(30, 5))
        await pilot.pause()
        assert story.scroll_y == 0 and story.max_scroll_y == 0
        assert not story.show_vertical_scrollbar
