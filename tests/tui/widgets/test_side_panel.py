"""F2's side panel shows the automatic lore marked, apart from the player's world info; so
do the numbers listed while /world keep N or /world remove N is typed."""

from __future__ import annotations

from textual.widgets import Button, Input, Static, TextArea

from gpt2_adventure.tui.screens.game import GameScreen
from tests.support.fake_backend import FakeBackend
from tests.tui.helpers import make_app, screen_text, send, settle, wait_idle

REPLIES = [" You meet Brannoc at the old forge by the gate.",
           " Brannoc hammers the glowing iron and speaks of the red dragon."] + [" Hm."] * 6


async def test_f2_shows_automatic_lore_marked_and_apply_keeps_it_automatic() -> None:
    app = make_app(backend=FakeBackend(list(REPLIES)))
    async with app.run_test(size=(140, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        await send(pilot, screen, "You look around")
        await send(pilot, screen, "You listen")
        assert app.game is not None
        own = len(app.game.state.world)
        await pilot.press("f2")
        await settle(pilot)
        lore = str(screen.query_one("#lore", Static).render())
        assert lore == (f"{own + 1}. auto · Brannoc: {REPLIES[0].strip()} {REPLIES[1].strip()}")
        assert "auto · Brannoc" in screen_text(app)
        assert "Brannoc" not in screen.query_one("#world", TextArea).text
        screen.query_one("#apply", Button).press()
        await settle(pilot)
        assert len(app.game.state.world) == own  # the player's entries only, as they were
        assert [e.keys for e in app.game.state.lore if e.content] == [("Brannoc",)]
        for command in ("/world keep ", "/world remove "):
            line = screen.query_one("#line", Input)
            line.value = command
            line.cursor_position = len(command)
            await settle(pilot)
            shown = str(screen.query_one("#numbered", Static).render())
            assert f"{own + 1}. [Brannoc] (auto) You meet Brannoc" in shown
            assert f"{own}. [{', '.join(app.game.state.world[-1].keys)}] " in shown
