"""The app itself: what it tells the player at start."""

from __future__ import annotations

from gpt2_adventure.config import Settings, UISettings
from tests.tui.helpers import make_app, settle


async def test_an_unknown_theme_is_named_once_with_the_themes_there_are() -> None:
    app = make_app(mode="title")
    app.launch.settings = Settings(ui=UISettings(theme="solarised-nite", text_width=88))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        warnings = [n for n in app._notifications if "solarised-nite" in n.message]  # noqa: SLF001
        assert len(warnings) == 1 and warnings[0].severity == "warning"
        assert "parchment" in warnings[0].message and "textual-dark" in warnings[0].message
        assert app.theme == "textual-dark"  # the default stays


async def test_a_known_theme_is_used_without_a_word() -> None:
    app = make_app(mode="title")
    app.launch.settings = Settings(ui=UISettings(theme="parchment", text_width=88))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "parchment"
        assert not list(app._notifications)  # noqa: SLF001
