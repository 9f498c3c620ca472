"""Themes shipped in assets/themes/*.toml, registered with the app at start."""

from __future__ import annotations

import sys

from textual.app import App
from textual.theme import Theme

from gpt2_adventure.resources import assets_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_FIELDS = ("primary", "secondary", "accent", "warning", "error", "success", "foreground",
           "background", "surface", "panel")


def shipped_themes() -> list[Theme]:
    themes = []
    for path in sorted((assets_dir() / "themes").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        themes.append(Theme(name=data["name"], dark=bool(data.get("dark", True)),
                            **{k: data[k] for k in _FIELDS if k in data}))
    return themes


def register_themes(app: App[None]) -> None:
    for theme in shipped_themes():
        app.register_theme(theme)
