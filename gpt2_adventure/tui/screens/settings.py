"""Sampling (with presets), model, theme and text width, saved to config.toml."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from gpt2_adventure.config import UISettings, load_settings, save_settings
from gpt2_adventure.engine.sampling import PRESETS, Sampling
from gpt2_adventure.tui.say import say

FIELDS = [("temperature", float), ("top_k", int), ("top_p", float), ("min_p", float),
          ("typical_p", float), ("repeat_penalty", float), ("repeat_last_n", int),
          ("max_tokens", int)]


class SettingsScreen(Screen):
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
        settings = self.app.launch.settings  # type: ignore[attr-defined]
        yield Static("Settings (saved to config.toml)", id="heading")
        with VerticalScroll():
            yield self._row("preset", Select([(n, n) for n in PRESETS], value=settings.preset
                                             if settings.preset in PRESETS else "default",
                                             allow_blank=False, id="preset"))
            for name, _ in FIELDS:
                yield self._row(name, Input(str(getattr(settings.sampling, name)), id=name))
            yield self._row("model", Input(settings.model.name or "", placeholder="gpt2",
                                           id="model"))
            themes = sorted(self.app.available_themes)
            yield self._row("theme", Select([(t, t) for t in themes], allow_blank=False,
                                            value=self.app.theme, id="theme"))
            yield self._row("text width", Input(str(settings.ui.text_width), id="text_width"))
            with Horizontal(id="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield Footer()

    @staticmethod
    def _row(label: str, widget: Input | Select) -> Horizontal:
        return Horizontal(Label(label), widget)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "preset" and event.value in PRESETS:
            chosen = PRESETS[str(event.value)]
            for name, _ in FIELDS:
                self.query_one(f"#{name}", Input).value = str(getattr(chosen, name))
        elif event.select.id == "theme" and event.value:
            self.app.theme = str(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.app.pop_screen()

    def action_save(self) -> None:
        launch = self.app.launch  # type: ignore[attr-defined]
        preset = str(self.query_one("#preset", Select).value)
        try:
            values = {name: kind(self.query_one(f"#{name}", Input).value.strip())
                      for name, kind in FIELDS}
            sampling = PRESETS[preset].with_changes(**values)
            width = int(self.query_one("#text_width", Input).value.strip() or 0)
            if width and not 30 <= width <= 400:
                raise ValueError("text width must be 0 (the whole window) or 30..400")
        except ValueError as error:
            say(self, f"not saved: {error}", severity="error")
            return
        model = self.query_one("#model", Input).value.strip() or None
        ui = UISettings(theme=str(self.query_one("#theme", Select).value), text_width=width)
        # Write on top of what the file says (not the environment's overrides).
        from_file = load_settings(launch.paths.config_file, environ={})
        saved = replace(from_file, preset=preset, sampling=sampling, ui=ui,
                        model=replace(from_file.model, name=model))
        save_settings(launch.paths.config_file, saved)
        launch.settings = replace(launch.settings, preset=preset, sampling=sampling, ui=ui,
                                  model=replace(launch.settings.model, name=model))
        self._apply_to_open_game(sampling)
        say(self, f"saved to {launch.paths.config_file}")
        self.app.pop_screen()

    def _apply_to_open_game(self, sampling: Sampling) -> None:
        from gpt2_adventure.launch import session_sampling
        from gpt2_adventure.tui.base import GameApp

        game = self.app.game if isinstance(self.app, GameApp) else None
        if game is not None:  # the app's open game
            game.session.sampling = session_sampling(sampling, game.session.state.sampling)
