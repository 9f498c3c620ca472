"""Memory, author's note and world info, editable beside the story (F2); below them the
automatic lore (``story/autolore.py``), marked and numbered as ``/world`` numbers it, which
the player keeps or drops with ``/world keep N`` / ``/world remove N`` (not edited here: the
editor holds the game's own entries only, so applying it never turns one into the other)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Static, TextArea

from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.autolore import numbered
from gpt2_adventure.story.model import StoryState, WorldEntry

AUTO_MARK = "auto"
NO_LORE = "none yet: a name the story writes twice gets one"


def world_to_text(world: list[WorldEntry]) -> str:
    lines = []
    for entry in world:
        keys = "*" if entry.always else ", ".join(entry.keys)
        lines.append(f"{keys}: {' '.join(entry.content.split())}")
    return "\n".join(lines)


def lore_text(state: StoryState) -> Text:
    """The automatic entries, one a line: ``N. auto · Name: text`` (N as /world numbers it)."""
    lines = [f"{i}. {AUTO_MARK} · {', '.join(entry.keys)}: {' '.join(entry.content.split())}"
             for i, (entry, place) in enumerate(numbered(state), start=1) if place is not None]
    return Text("\n".join(map(printable, lines)) if lines else NO_LORE)  # literal, no markup


def text_to_world(text: str, old: list[WorldEntry]) -> list[WorldEntry]:
    """``keys, more keys: content`` per line; ``*`` as keys means always on."""
    by_content = {e.content: e for e in old}
    entries = []
    for line in text.splitlines():
        keys, sep, content = line.partition(":")
        if not sep or not content.strip():
            continue
        content = content.strip()
        kept = by_content.get(content)
        key_list = tuple(k.strip() for k in keys.split(",") if k.strip() and k.strip() != "*")
        always = keys.strip() == "*"
        entries.append(WorldEntry(keys=key_list, content=content, always=always,
                                  secondary_keys=kept.secondary_keys if kept else (),
                                  comment=kept.comment if kept else ""))
    return entries


class SidePanel(VerticalScroll):
    DEFAULT_CSS = """
    SidePanel { width: 42; dock: right; border-left: solid $accent; padding: 0 1; }
    SidePanel TextArea { height: 8; }
    SidePanel #world { height: 10; }
    SidePanel #lore { color: $text-muted; }
    SidePanel Label { margin: 1 0 0 0; text-style: bold; }
    """

    class Applied(Message):
        def __init__(self, memory: str, note: str, world: list[WorldEntry]) -> None:
            super().__init__()
            self.memory, self.note, self.world = memory, note, world

    def compose(self) -> ComposeResult:
        yield Label("Memory (always in view)")
        yield TextArea(id="memory", soft_wrap=True)
        yield Label("Author's note")
        yield Input(id="note", placeholder="e.g. dark, tense, vivid")
        yield Label("World info (keys: text; * = always)")
        yield TextArea(id="world", soft_wrap=True)
        yield Button("Apply", id="apply", variant="primary")
        yield Label("Automatic lore (/world keep N, /world remove N)")
        yield Static(NO_LORE, id="lore")

    def load(self, state: StoryState) -> None:
        # Editors draw what they hold raw: control characters are shown as escapes here.
        self.query_one("#memory", TextArea).text = printable(state.memory)
        self.query_one("#note", Input).value = printable(state.authors_note)
        self.query_one("#world", TextArea).text = printable(world_to_text(state.world))
        self._old_world = list(state.world)
        self.query_one("#lore", Static).update(lore_text(state))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            event.stop()
            world = text_to_world(self.query_one("#world", TextArea).text,
                                  getattr(self, "_old_world", []))
            self.post_message(self.Applied(self.query_one("#memory", TextArea).text.strip(),
                                           self.query_one("#note", Input).value.strip(),
                                           world))
