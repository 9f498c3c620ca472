"""Load a saved game."""

from __future__ import annotations

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from gpt2_adventure.safe_text import printable
from gpt2_adventure.tui.base import GameApp
from gpt2_adventure.units import count


class LoadScreen(Screen[None]):
    app = getters.app(GameApp)
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]
    DEFAULT_CSS = """
    LoadScreen #heading { height: 1; padding: 0 1; background: $primary; text-style: bold; }
    LoadScreen OptionList { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        from gpt2_adventure.story.saves.store import SaveStore

        saves = SaveStore(self.app.launch.paths).list()
        options = []
        for info in saves:
            label = Text(printable(info.name), style="bold")
            if info.error:
                label.append(f"  unreadable: {printable(info.error)}", style="red")
                options.append(Option(label, id=info.name, disabled=True))
                continue
            when = info.saved_at.strftime("%Y-%m-%d %H:%M") if info.saved_at else ""
            label.append(f"  {printable(info.title or '')} · {info.mode} · "
                         f"{count(info.turns, 'turn')} · {when}")
            options.append(Option(label, id=info.name))
        yield Static("Load a game", id="heading")
        if options:
            yield OptionList(*options)
        else:
            yield Static("No saved games yet.")
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        from gpt2_adventure.errors import UserError
        from gpt2_adventure.story.saves.store import SaveStore

        app = self.app
        try:
            state = SaveStore(app.launch.paths).load(event.option.id or "")
        except UserError as error:
            from gpt2_adventure.tui.say import say

            say(self, str(error), severity="error")
            return
        app.pop_screen()
        app.open_state(state)  # one game at a time: the app closes the open one first
