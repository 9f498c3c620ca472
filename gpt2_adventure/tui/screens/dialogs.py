"""Small modal dialogs: a choice between buttons, placeholder questions, editing a turn."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.model import Placeholder

DIALOG_CSS = """
{name} { align: center middle; }
{name} > Vertical { width: 72; height: auto; max-height: 90%; border: thick $accent;
                    background: $surface; padding: 1 2; }
{name} .title { text-style: bold; margin: 0 0 1 0; }
{name} Horizontal { height: auto; margin: 1 0 0 0; dock: bottom; }
{name} .body { height: auto; max-height: 100%; }
{name} Button { margin: 0 1 0 0; }
"""


class Choice(ModalScreen[str]):
    """A message and buttons; dismisses with the chosen button's id (Esc: the last one).

    A message taller than the window scrolls (arrows, PgUp/PgDn, the mouse wheel) between
    the title and the buttons, which stay in view. ``body`` as a string is shown literally;
    a Rich renderable (made by the caller, its text made safe) as it is."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "Choice")
    BINDINGS = [Binding("escape", "dismiss_last", "Close"),
                Binding("up", "scroll_body('up')", show=False),
                Binding("down", "scroll_body('down')", show=False),
                Binding("pageup", "scroll_body('page_up')", show=False),
                Binding("pagedown", "scroll_body('page_down')", show=False),
                Binding("home", "scroll_body('home')", show=False),
                Binding("end", "scroll_body('end')", show=False)]

    def __init__(self, title: str, body: str | RenderableType, choices: list[tuple[str, str]],
                 error: bool = False) -> None:
        super().__init__()
        self.title_text, self.body, self.choices, self.error = title, body, choices, error

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(printable(self.title_text), style="bold red" if self.error
                              else "bold"), classes="title")
            body = Text(printable(self.body)) if isinstance(self.body, str) else self.body
            with VerticalScroll(classes="body", can_focus=False):
                yield Static(body, id="body")
            with Horizontal():
                for i, (key, label) in enumerate(self.choices):
                    yield Button(label, id=f"choice-{key}",
                                 variant="primary" if i == 0 else "default")

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_dismiss_last(self) -> None:
        self.dismiss(self.choices[-1][0])

    def action_scroll_body(self, how: str) -> None:
        getattr(self.query_one(".body", VerticalScroll), f"scroll_{how}")(animate=False)


class Questions(ModalScreen[dict[str, str]]):
    """Ask the seed's placeholder questions (character name...)."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "Questions")
    BINDINGS = [Binding("escape", "cancel", "Back")]

    def __init__(self, placeholders: list[Placeholder], known: dict[str, str]) -> None:
        super().__init__()
        self.placeholders, self.known = placeholders, known

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Before you begin", classes="title")
            for p in self.placeholders:
                yield Label(Text(printable(p.question)))
                yield Input(value=printable(self.known.get(p.name, p.default)), id=f"q-{p.name}",
                            placeholder=printable(p.default))
            with Horizontal():
                yield Button("Begin", id="begin", variant="primary")
                yield Button("Back", id="back")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        i = inputs.index(event.input)
        if i + 1 < len(inputs):
            inputs[i + 1].focus()
        else:
            self._finish()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "begin":
            self._finish()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _finish(self) -> None:
        values = {}
        for p in self.placeholders:
            value = self.query_one(f"#q-{p.name}", Input).value.strip()
            values[p.name] = value or p.default or "Adventurer"
        self.dismiss(values)


class EditTurn(ModalScreen[str]):
    """Edit the text of one turn."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "EditTurn") + "EditTurn TextArea { height: 12; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="title")
            yield TextArea(printable(self.text), id="text", soft_wrap=True)
            with Horizontal():
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.dismiss(self.query_one("#text", TextArea).text)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
