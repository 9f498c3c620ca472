"""Every key of the README's key table, pressed while the input line has the focus (it always
has it in a game: the story never takes it)."""

from __future__ import annotations

from textual.widgets import Input

from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.tui.screens.context import ContextView
from gpt2_adventure.tui.screens.dialogs import Choice
from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.widgets.input_bar import InputBar
from tests.support.fake_backend import FakeBackend
from tests.tui.helpers import make_app, make_launch, screen_text, settle, until, wait_idle


def _focused(screen: GameScreen) -> Input:
    line = screen.query_one("#line", Input)
    assert screen.focused is line, f"the focus is on {screen.focused!r}, not the input line"
    return line


async def test_every_key_of_the_key_table_works_with_the_input_focused() -> None:
    backend = FakeBackend([" The door creaks open.", " A bat flies out.", " More words come.",
                           " one two three four five six seven eight nine ten."],
                          hold_after=None)
    app = make_app(backend=backend)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        state = screen.game.state

        # Enter: send
        line = _focused(screen)
        line.value = "open the door"
        await pilot.press("enter")
        await wait_idle(pilot, screen)
        assert state.turns[-1].text == " The door creaks open."

        # Tab: Do / Say / Story
        bar = screen.query_one(InputBar)
        _focused(screen)
        await pilot.press("tab")
        assert bar.kind == "say"
        await pilot.press("tab", "tab")
        assert bar.kind == "do"

        # Ctrl+R: retry
        _focused(screen)
        await pilot.press("ctrl+r")
        await wait_idle(pilot, screen)
        assert state.turns[-1].alternatives == [" The door creaks open.", " A bat flies out."]
        assert state.turns[-1].chosen == 1

        # Alt+Left / Alt+Right: the previous / next reply
        _focused(screen)
        await pilot.press("alt+left")
        await wait_idle(pilot, screen)
        assert state.turns[-1].chosen == 0
        await pilot.press("alt+right")
        await wait_idle(pilot, screen)
        assert state.turns[-1].chosen == 1

        # Ctrl+E: continue
        _focused(screen)
        await pilot.press("ctrl+e")
        await wait_idle(pilot, screen)
        assert state.turns[-1].text.startswith(" A bat flies out.")
        assert "More words come." in state.turns[-1].text

        # Ctrl+Z / Ctrl+Y: undo / redo
        turns = len(state.turns)
        _focused(screen)
        await pilot.press("ctrl+z")
        await wait_idle(pilot, screen)
        assert len(state.turns) == turns - 2
        await pilot.press("ctrl+y")
        await wait_idle(pilot, screen)
        assert len(state.turns) == turns

        # Ctrl+S: save
        _focused(screen)
        await pilot.press("ctrl+s")
        await wait_idle(pilot, screen)
        assert SaveStore(app.launch.paths).load(state.title) == state

        # F2: memory, note and world beside the story (Esc puts it away)
        _focused(screen)
        await pilot.press("f2")
        await settle(pilot)
        assert screen.has_class("panel")
        screen.query_one("#line", Input).focus()
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.has_class("panel")

        # F1: the keys and the commands
        _focused(screen)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, Choice))
        assert "Ctrl+E" in screen_text(app) and "/quit" not in screen_text(app)
        await pilot.press("pagedown")  # the commands, below the keys
        await settle(pilot)
        assert "Ctrl+E" not in screen_text(app)  # the page moved
        await pilot.press("end")  # the last of them
        await settle(pilot)
        assert "/quit" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen

        # F4: what GPT-2 sees (Esc closes it)
        _focused(screen)
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, ContextView))
        await settle(pilot)
        assert "What GPT-2 sees" in screen_text(app) and "memory · " in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen

        # Esc: stop GPT-2 mid-reply
        backend.hold_after = 4
        line = _focused(screen)
        line.value = "wait"
        await pilot.press("enter")
        await until(pilot, backend.holding.is_set)
        _focused(screen)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.click("#choice-keep")
        await wait_idle(pilot, screen)
        assert state.turns[-1].text.split() == ["one", "two"]

        # Ctrl+Q: quit (autosaved)
        _focused(screen)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert not app.is_running
    assert SaveStore(make_launch().paths).load(f"autosave/{state.id}") == state
