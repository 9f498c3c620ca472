"""``/settings [NAME VALUE]``: the sampling and [memory] settings of the open game."""

from __future__ import annotations

import dataclasses

from gpt2_adventure import schema
from gpt2_adventure.config import MemorySettings, toml_value
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game_commands.host import OpenGame
from gpt2_adventure.game_commands.outcomes import Info, OpenSettings, Outcome
from gpt2_adventure.story.commands import CommandError

# Each [memory] setting (config.MemorySettings) and the ContextBuilder field it sets: for
# /settings in an open game, and for launch.memory_layout.
MEMORY = {"recall": "recall_on", "recall_share": "recall_share", "auto_lore": "auto_lore",
          "auto_lore_share": "auto_lore_share", "lore_mid_reply": "lore_mid_reply"}


def settings(game: OpenGame, arg: str) -> Outcome:
    """``/settings NAME VALUE``; ``/settings`` alone opens the settings screen."""
    if not arg:
        return OpenSettings(settings_shown(game))
    name, _, value = arg.partition(" ")
    if name in MEMORY and value.strip():
        spec = schema.find(MemorySettings, name)
        try:
            parsed = schema.from_text(spec, value.strip()) if spec else None
        except schema.SettingError as error:
            raise CommandError(str(error)) from None
        game.session.configure(**{MEMORY[name]: parsed})
        return Info([f"{name} = {toml_value(parsed)}"])
    typed = {s.name: s for s in schema.specs(Sampling) if s.kind in schema.TEXT_KINDS}
    if name not in typed or not value.strip():
        names = ", ".join([*typed, *MEMORY])
        raise CommandError(f"/settings NAME VALUE, NAME one of: {names}")
    try:
        parsed = schema.from_text(typed[name], value.strip())
    except schema.SettingError as error:
        raise CommandError(str(error)) from None
    game.session.configure(dataclasses.replace(game.session.sampling, **{name: parsed}))
    return Info([f"{name} = {toml_value(parsed)}"])


def settings_shown(game: OpenGame) -> Info:
    """The sampling settings as the config file writes them (true, [], "text")."""
    shown = [f"{spec.name} = {toml_value(schema.plain(spec, value))}"
             for spec, value in schema.rows(game.session.sampling)
             if spec.kind != "bias"]
    builder = game.session.builder
    shown += [f"{name} = {toml_value(getattr(builder, field))}" for name, field in MEMORY.items()]
    return Info(shown + ["change one with: /settings NAME VALUE"])
