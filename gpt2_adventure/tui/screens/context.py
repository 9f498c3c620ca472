"""What GPT-2 sees (F4, ``/context [ACTION]``): the next reply's prompt, part by part.

Each part of the prompt under a label line with its token count, in prompt order; recalled
passages and automatic lore entries stand out (a coloured bar beside them, and their label
says what they are, so the colour is not the only sign). The text is data: shown literally.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.inspect import Part, Seen


def _kind(part: Part) -> str:
    return "recalled" if part.recalled else "automatic" if part.automatic else ""


class ContextView(ModalScreen[None]):
    """The prompt of the next reply (or of an action, not sent), scrollable; Esc closes."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]
    DEFAULT_CSS = """
    ContextView { align: center middle; }
    ContextView > Vertical { width: 96%; max-width: 110; height: 94%; border: thick $accent;
                             background: $surface; padding: 0 1; }
    ContextView #context-title { text-style: bold; }
    ContextView #context-summary { color: $text-muted; margin: 0 0 1 0; }
    ContextView VerticalScroll { height: 1fr; }
    ContextView .heading { text-style: bold; color: $primary; margin: 1 0 0 0; }
    ContextView .heading:first-child { margin: 0; }
    ContextView .heading.recalled { color: $success; }
    ContextView .heading.automatic { color: $warning; }
    ContextView .text { padding: 0 0 0 1; }
    ContextView .text.recalled { border-left: thick $success; }
    ContextView .text.automatic { border-left: thick $warning; }
    ContextView #context-keys { height: 1; }
    ContextView #context-keys Static { width: auto; color: $text-muted; }
    ContextView #context-keys .recalled { color: $success; }
    ContextView #context-keys .automatic { color: $warning; }
    """

    def __init__(self, seen: Seen) -> None:
        super().__init__()
        self.seen = seen

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("What GPT-2 sees", id="context-title")
            yield Static(Text(printable(self.seen.summary())), id="context-summary")
            with VerticalScroll(id="context-parts"):
                for part in self.seen.parts:
                    kind = _kind(part)
                    yield Static(Text(printable(part.heading())), classes=f"heading {kind}")
                    # The text as GPT-2 reads it (a line break that ends it ends its last
                    # line, as plain mode prints it; one that starts it is a blank line).
                    yield Static(Text(printable(part.text.removesuffix("\n"))),
                                 classes=f"text {kind}")
            with Horizontal(id="context-keys"):
                yield Static("Esc closes · ↑↓ PgUp PgDn scroll · ")
                yield Static("▌recalled ", classes="legend recalled")
                yield Static("▌automatic lore", classes="legend automatic")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()  # its own keys scroll it
