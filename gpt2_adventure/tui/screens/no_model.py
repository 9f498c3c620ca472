"""The model could not be loaded: say why, and offer every way on — download gpt2, the Models
screen, or a GPT-2 .gguf file the player already has (typed as a path, checked here)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from gpt2_adventure.errors import UserError
from gpt2_adventure.safe_text import printable
from gpt2_adventure.tui.model_file import checked_model_file, for_the_tui
from gpt2_adventure.tui.screens.dialogs import DIALOG_CSS

PLAY_FILE = "file:"  # dismissed with this and the checked path: play that file


class NoModel(ModalScreen[str]):
    """Dismisses with "pull", "models", "back" (Esc too) or ``PLAY_FILE`` + a checked path."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "NoModel") + """
    NoModel #path-row { height: auto; margin: 1 0 0 0; dock: none; }
    NoModel #path { width: 1fr; }
    NoModel #problem { color: $error; height: auto; }
    NoModel Label { margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, error: str, hint: str | None, offer_download: bool) -> None:
        super().__init__()
        self.error, self.hint, self.offer_download = error, hint, offer_download

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("The model could not be loaded", style="bold red"),
                         classes="title")
            body = self.error + (f"\n\n{for_the_tui(self.hint)}" if self.hint else "")
            yield Static(Text(printable(body)))
            yield Label("A GPT-2 .gguf file you have:")
            with Horizontal(id="path-row"):
                yield Input(placeholder="its path, e.g. ~/models/gpt2.Q8_0.gguf", id="path")
                yield Button("Play it", id="play-file")
            yield Static("", id="problem")
            with Horizontal():
                if self.offer_download:
                    yield Button("Download gpt2 now", id="choice-pull", variant="primary")
                yield Button("Models", id="choice-models",
                             variant="default" if self.offer_download else "primary")
                yield Button("Back", id="choice-back")

    def on_mount(self) -> None:
        self.query(Button).filter(".-primary").first().focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._play_file()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "play-file":
            self._play_file()
        else:
            self.dismiss((event.button.id or "").removeprefix("choice-"))

    def _play_file(self) -> None:
        typed = self.query_one("#path", Input).value.strip()
        problem = self.query_one("#problem", Static)
        if not typed:
            problem.update("type the path of a .gguf file first")
            return
        try:
            path = checked_model_file(typed)
        except UserError as error:
            message = str(error) + (f" — {error.hint}" if error.hint else "")
            problem.update(Text(printable(message)))
            return
        self.dismiss(PLAY_FILE + str(path))

    def action_back(self) -> None:
        self.dismiss("back")
