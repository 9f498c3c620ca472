"""Where the player types: the action mode (Do/Say/Story), the line, and inline help."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from gpt2_adventure.story.commands import COMMANDS, completions, usage

MODES = {"adventure": ("do", "say", "story"), "story": ("story",), "chat": ("say",)}
LABELS = {"do": "Do", "say": "Say", "story": "Story"}
PLACEHOLDERS = {"do": "What do you do? (/help for commands)",
                "say": "What do you say? (/help for commands)",
                "story": "Write the story on, or press Enter to let GPT-2 go on"}


class InputBar(Vertical):
    DEFAULT_CSS = """
    InputBar { height: auto; padding: 0 1; }
    InputBar Horizontal { height: 3; }
    InputBar #mode { width: 8; content-align: center middle; height: 3;
                     background: $accent; color: $text; text-style: bold; }
    InputBar Input { width: 1fr; }
    InputBar #help { color: $text-muted; height: 1; }
    """

    kind: reactive[str] = reactive("do")

    class Submitted(Message):
        def __init__(self, text: str, kind: str) -> None:
            super().__init__()
            self.text = text
            self.kind = kind

    def __init__(self, story_mode: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.kinds = MODES.get(story_mode, ("do",))
        self.set_reactive(InputBar.kind, self.kinds[0])

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(LABELS[self.kind], id="mode")
            yield Input(placeholder=PLACEHOLDERS[self.kind], id="line",
                        suggester=SuggestFromList(["/" + c for c in COMMANDS],
                                                  case_sensitive=False))
        yield Label("Tab: Do / Say / Story · Enter: send · Esc: stop · F2: memory & world",
                    id="help", markup=False)

    def watch_kind(self, kind: str) -> None:
        if self.is_mounted:
            self.query_one("#mode", Label).update(LABELS[kind])
            self.query_one("#line", Input).placeholder = PLACEHOLDERS[kind]

    def cycle(self) -> None:
        i = self.kinds.index(self.kind) if self.kind in self.kinds else -1
        self.kind = self.kinds[(i + 1) % len(self.kinds)]

    def on_input_changed(self, event: Input.Changed) -> None:
        value = event.value
        help_label = self.query_one("#help", Label)
        if value.startswith("/"):
            word = value[1:].split(" ", 1)[0]
            matches = [c[1:] for c in completions("/" + word)] if " " not in value else []
            exact = word.lower() if word.lower() in COMMANDS else None
            if exact:
                help_label.update(usage(exact))
            elif matches:
                help_label.update("  ".join("/" + m for m in matches[:8]))
            else:
                help_label.update("unknown command · /help lists them")
        else:
            help_label.update("Tab: Do / Say / Story · Enter: send · Esc: stop · "
                              "F2: memory & world")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(event.value, self.kind))
        event.input.value = ""

    def focus_line(self) -> None:
        self.query_one("#line", Input).focus()
