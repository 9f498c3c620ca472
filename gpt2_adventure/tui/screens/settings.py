"""Sampling (with presets), model, recall, theme and text width, saved to config.toml.

The rows are the settings declared with ``screen=True`` (see ``gpt2_adventure.schema``).
Saving writes only what the player changed, into config.toml as it is: its comments and key
order stay."""

from __future__ import annotations

from typing import Any

from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from gpt2_adventure.config import (
    Settings,
    apply_tables,
    read_config_file,
    save_changes,
    settings_rows,
)
from gpt2_adventure.engine.sampling import NOT_IN_PRESETS, PRESETS, Sampling
from gpt2_adventure.errors import UserError
from gpt2_adventure.schema import SettingError, Spec, from_text
from gpt2_adventure.tui.base import GameApp
from gpt2_adventure.tui.say import say

ORDER = ("sampling", "model", "memory", "ui")  # the sections as the screen lists them
THEME = ("ui", "theme")  # its choices are the themes the app has, known only at run time


def screen_rows(settings: Settings) -> list[tuple[str, Spec, Any]]:
    """(section, setting, value) of the rows the screen shows, in its order."""
    rows = [row for row in settings_rows(settings) if row[1].screen]
    return sorted(rows, key=lambda row: ORDER.index(row[0]))


def _widget_id(section: str, name: str) -> str:
    return f"{section}-{name}"


class SettingsScreen(Screen[None]):
    app = getters.app(GameApp)
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("ctrl+s", "save", "Save")]
    DEFAULT_CSS = """
    SettingsScreen #heading { height: 1; padding: 0 1; background: $primary; text-style: bold; }
    SettingsScreen VerticalScroll { padding: 0 2; }
    SettingsScreen Horizontal { height: 3; }
    SettingsScreen Label { width: 18; padding: 1 1 0 0; }
    SettingsScreen Input, SettingsScreen Select { width: 40; }
    SettingsScreen #buttons { height: 3; margin: 1 0; }
    SettingsScreen Button { margin: 0 1 0 0; }
    """

    def compose(self) -> ComposeResult:
        settings = self.app.launch.settings
        self._rows = screen_rows(settings)
        self._shown: dict[str, Any] = {}  # widget id -> the value it showed at first
        self._preset = settings.preset  # the preset whose values the boxes were filled from
        yield Static("Settings (saved to config.toml)", id="heading")
        with VerticalScroll():
            for section, spec, value in self._rows:
                widget = self._widget(section, spec, value)
                widget.tooltip = spec.help
                yield Horizontal(Label(spec.label or spec.name), widget)
            with Horizontal(id="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def _widget(self, section: str, spec: Spec, value: Any) -> Input | Select[Any]:
        wid = _widget_id(section, spec.name)
        if (section, spec.name) == THEME:
            self._shown[wid] = self.app.theme
            themes = sorted(self.app.available_themes)
            return Select([(t, t) for t in themes], allow_blank=False, value=self.app.theme,
                          id=wid)
        if spec.choices:
            self._shown[wid] = value if value in spec.choices else spec.default
            return Select([(str(c), c) for c in spec.choices], value=self._shown[wid],
                          allow_blank=False, id=wid)
        self._shown[wid] = value
        return Input("" if value is None else str(value), placeholder=spec.unset, id=wid)

    def on_select_changed(self, event: Select.Changed) -> None:
        preset_id = _widget_id("sampling", "preset")
        if event.select.id == preset_id and event.value in PRESETS:
            if event.value == self._preset:
                return  # Select reports its first value too: keep the values in effect
            self._preset = str(event.value)
            chosen = PRESETS[self._preset]
            for section, spec, _ in self._rows:
                if (section == "sampling" and hasattr(chosen, spec.name) and not spec.choices
                        and spec.name not in NOT_IN_PRESETS):
                    box = self.query_one(f"#{_widget_id(section, spec.name)}", Input)
                    box.value = str(getattr(chosen, spec.name))
        elif event.select.id == _widget_id(*THEME) and event.value:
            self.app.theme = str(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.app.pop_screen()

    def changes(self) -> dict[str, dict[str, Any]]:
        """{section: {key: value}} for each row whose value the player changed."""
        out: dict[str, dict[str, Any]] = {}
        for section, spec, _ in self._rows:
            wid = _widget_id(section, spec.name)
            widget = self.query_one(f"#{wid}")
            before = self._shown[wid]
            if isinstance(widget, Select):
                value = widget.value
            elif not isinstance(widget, Input):
                raise TypeError(f"setting row {wid} is a {type(widget).__name__}")
            elif widget.value == ("" if before is None else str(before)):
                continue
            else:
                value = from_text(spec, widget.value, spec.name)
            if value != before:
                out.setdefault(section, {})[spec.name] = value
        return out

    def action_save(self) -> None:
        launch = self.app.launch
        path = launch.paths.config_file
        try:
            changes = self.changes()
            if changes:
                save_changes(path, changes)  # checks the file it writes first
                settings = apply_tables(launch.settings, changes, str(path))
                if "preset" in changes.get("sampling", {}):  # the file's other keys still count
                    table = read_config_file(path).get("sampling", {})
                    settings = apply_tables(settings, {"sampling": table}, str(path))
        except (SettingError, UserError) as error:
            say(self, f"not saved: {error}", severity="error")
            return
        if changes:
            launch.settings = settings
            self._apply_to_open_game(settings.sampling)
            if self.app.game is not None:  # [memory]: recall, lore, for the next prompt
                from gpt2_adventure.launch import memory_layout

                self.app.game.session.configure(**memory_layout(settings.memory))
            say(self, f"saved to {path}")
        else:
            say(self, "nothing changed")
        self.app.pop_screen()

    def _apply_to_open_game(self, sampling: Sampling) -> None:
        from gpt2_adventure.launch import session_sampling

        game = self.app.game
        if game is not None:  # the app's open game
            game.session.configure(session_sampling(sampling, game.session.state.sampling))

