"""The title screen: new adventure, continue, load, chat, write, models, settings, quit."""

from __future__ import annotations

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from gpt2_adventure import __version__
from gpt2_adventure.resources import assets_dir
from gpt2_adventure.story.model import Mode
from gpt2_adventure.tui.base import GameApp

MENU = [("new", "New adventure"), ("continue", "Continue"), ("load", "Load"),
        ("chat", "Chat"), ("write", "Write a story"), ("models", "Models"),
        ("settings", "Settings"), ("quit", "Quit")]


def title_art() -> str:
    try:
        return (assets_dir() / "title.txt").read_text(encoding="utf-8").rstrip("\n")
    except OSError:
        return "gpt2-adventure"


class TitleScreen(Screen[None]):
    app = getters.app(GameApp)
    BINDINGS = [Binding("escape", "app.quit_game", "Quit", show=False)]
    DEFAULT_CSS = """
    TitleScreen { align: center middle; }
    TitleScreen #art { color: $accent; width: auto; height: auto; }
    TitleScreen #tagline { color: $text-muted; width: auto; margin: 1 0; }
    TitleScreen OptionList { width: 32; height: auto; border: round $accent; }
    TitleScreen Vertical { width: auto; height: auto; align: center middle; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            with Center():
                yield Static(Text(title_art()), id="art")
            with Center():
                yield Static(f"AI Dungeon with GPT-2, on your own machine · v{__version__}",
                             id="tagline")
            with Center():
                yield OptionList(*[Option(label, id=key) for key, label in MENU], id="menu")
        yield Footer()

    def on_mount(self) -> None:
        from gpt2_adventure.story.saves.store import SaveStore

        menu = self.query_one(OptionList)
        if SaveStore(self.app.launch.paths).latest_autosave() is None:
            menu.disable_option("continue")
        menu.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        app = self.app
        choice = event.option.id
        if choice in ("new", "chat", "write"):
            from gpt2_adventure.tui.screens.browser import SeedBrowser

            modes: dict[str, Mode] = {"new": "adventure", "chat": "chat", "write": "story"}
            mode = modes[choice]
            app.push_screen(SeedBrowser(mode))
        elif choice == "continue":
            from gpt2_adventure.story.saves.store import SaveStore

            latest = SaveStore(app.launch.paths).latest_autosave()
            if latest is not None:
                app.open_state(latest[1])
        elif choice == "load":
            app.open_load()
        elif choice == "models":
            app.open_models()
        elif choice == "settings":
            app.open_settings()
        elif choice == "quit":
            app.action_quit_game()
