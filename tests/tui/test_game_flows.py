"""The game through Textual's Pilot, with a scripted backend."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.tui.screens.dialogs import Choice, EditTurn, Questions
from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.screens.no_model import NoModel
from gpt2_adventure.tui.screens.title import TitleScreen
from gpt2_adventure.tui.widgets.input_bar import InputBar
from gpt2_adventure.tui.widgets.meter import ContextMeter, StatusBar
from gpt2_adventure.tui.widgets.transcript import Transcript
from tests.support.fake_backend import FakeBackend
from tests.tui.helpers import (
    make_app,
    make_launch,
    playing,
    send,
    settle,
    until,
    wait_idle,
)


def shown(screen: GameScreen) -> list[str]:
    return screen.query_one(Transcript).turn_texts()


async def test_new_game_from_the_title_screen() -> None:
    app = make_app(mode="title")
    app.launch.name = None
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, TitleScreen)
        menu = app.screen.query_one(OptionList)
        menu.highlighted = 0  # New adventure
        await pilot.press("enter")
        await settle(pilot)
        browser = app.screen
        seeds = browser.query_one(OptionList)
        index = next(i for i, o in enumerate(seeds.options) if o.id == "knight")
        seeds.highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, Questions)
        app.screen.query_one(Input).value = "Brienne"
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        assert "Brienne" in shown(screen)[0]


async def test_three_turns_retry_alternative_undo_edit_save_continue() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        for action in ("open the door", "look around", "go down the stairs"):
            await send(pilot, screen, action)
        state = screen.game.state
        assert [t.role for t in state.turns].count("model") == 3
        assert shown(screen)[-2] == "> You go down the stairs."
        assert shown(screen)[-1] == state.turns[-1].text.strip()

        await send(pilot, screen, "/retry")
        assert len(state.turns[-1].alternatives) == 2
        await send(pilot, screen, "/alt")
        assert state.turns[-1].chosen == 0 and shown(screen)[-1] == state.turns[-1].text.strip()

        await send(pilot, screen, "/undo")
        assert [t.role for t in state.turns].count("model") == 2
        assert len(shown(screen)) == len(state.turns)

        await send(pilot, screen, "/edit The hall is silent.")
        assert shown(screen)[-1] == "The hall is silent."

        await send(pilot, screen, "/continue")
        assert state.turns[-1].text.startswith(" The hall is silent.")
        assert len(state.turns[-1].text) > len(" The hall is silent.")

        await send(pilot, screen, "/save mine")
        assert SaveStore(app.launch.paths).load("mine") == state
        meter = str(screen.query_one(ContextMeter).render())
        assert "/1024" in meter and "memory" in meter
        assert "context" in str(screen.query_one(StatusBar).render())


async def test_tab_cycles_the_action_kind() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        bar = screen.query_one(InputBar)
        assert bar.kind == "do"
        await pilot.press("tab")
        assert bar.kind == "say"
        await send(pilot, screen, "hello")
        assert screen.game.state.turns[-2].text == '\n> You say "Hello."\n'


async def test_escape_stops_mid_stream_and_the_player_chooses() -> None:
    # Each reply stops after four pieces until it is cancelled: Escape always lands mid-stream.
    backend = FakeBackend([" one two three four five six seven eight nine ten."] * 3,
                          hold_after=4)
    app = make_app(backend=backend)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        before = screen.game.state.to_dict()
        line = screen.query_one("#line", Input)
        line.value = "wait"
        await pilot.press("enter")
        await until(pilot, backend.holding.is_set)
        assert screen.stream is not None
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.click("#choice-drop")
        await settle(pilot)
        assert screen.game.state.to_dict() == before
        assert len(shown(screen)) == len(screen.game.state.turns)

        line.value = "wait again"
        await pilot.press("enter")
        await until(pilot, backend.holding.is_set)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.click("#choice-keep")
        await settle(pilot)
        turns = screen.game.state.turns
        assert turns[-2].text == "\n> You wait again.\n" and turns[-1].role == "model"
        assert turns[-1].text.split() == ["one", "two"]


async def test_a_failed_generation_keeps_the_story() -> None:
    backend = FakeBackend(list(" ok."))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the model fell over")

    app = make_app(backend=backend)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        before = screen.game.state.to_dict()
        backend.stream = broken  # type: ignore[method-assign]
        await send(pilot, screen, "jump")
        assert screen.game.state.to_dict() == before
        assert screen.stream is None
        assert len(shown(screen)) == len(screen.game.state.turns)


async def test_no_model_offers_a_way_forward() -> None:
    def missing(launch: object) -> None:
        raise UserError("no model installed", hint="gpt2-adventure models pull gpt2")

    app = make_app(backend=missing)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, 20)
        assert isinstance(app.screen, NoModel)
        labels = [str(b.label) for b in app.screen.query("Button")]
        assert "Download gpt2 now" in labels and "Models" in labels


async def test_ctrl_q_autosaves_and_quits() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        await send(pilot, screen, "open the door")
        state = screen.game.state
        await pilot.press("ctrl+q")
        await settle(pilot)
    saved = SaveStore(make_launch().paths).load(f"autosave/{state.id}")
    assert saved == state


async def test_resize_keeps_the_story() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        await send(pilot, screen, "open the door")
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        assert len(shown(screen)) == len(screen.game.state.turns)


async def test_edit_dialog_from_a_bare_slash_edit() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        await send(pilot, screen, "open the door")
        line = screen.query_one("#line", Input)
        line.value = "/edit"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EditTurn)
        app.screen.query_one("TextArea").text = "It is locked."
        await pilot.click("#save")
        await settle(pilot)
        assert screen.game.state.turns[-1].text == " It is locked."


@pytest.mark.parametrize("evil", ["[bold red]not markup[/] [@click=app.quit]x[/]",
                                  "\x1b[31mred\x1b]0;title\x07 \u202eevil"])
async def test_model_text_is_shown_literally(evil: str) -> None:
    app = make_app(backend=FakeBackend([" " + evil + "."]))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        await send(pilot, screen, "look")
        text = shown(screen)[-1]
        if evil.startswith("["):
            assert "[bold red]not markup[/]" in text and "[@click=app.quit]" in text
        else:
            assert "\x1b" not in text and "\\x1b[31mred" in text and "\\u202e" in text
        assert app.is_running


async def test_what_lives_as_long_as_the_game_is_kept_from_the_cyclic_collector() -> None:
    import gc

    async with playing() as (_app, _pilot, screen):
        assert gc.get_freeze_count() > 0
        assert screen.game is not None


ALIASED = ["open the door", "look around", "/e 2 > You kick the door.", "/u", "/r", "/c",
           "/E 1 You are Anna.", "/mem"]


async def test_aliases_do_in_the_tui_what_they_do_in_plain_mode() -> None:
    from tests.test_plain import play

    replies = [" It creaks.", " A hall.", " Stairs.", " More.", " Even more."]
    _, plain = play("\n".join(ALIASED) + "\n", list(replies))
    texts = [t.text for t in plain.state.turns]
    assert texts[:2] == ["You are Anna.", "\n> You kick the door.\n"] and len(texts) == 3
    app = make_app(backend=FakeBackend(list(replies)))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_idle(pilot, screen)
        for line in ALIASED:
            await send(pilot, screen, line)
        assert screen.game.state.turns == plain.state.turns
        assert len(shown(screen)) == len(plain.state.turns)


@pytest.mark.parametrize(("line", "opens"), [("/e", "EditTurn"), ("/EDIT", "EditTurn"),
                                             ("/LOAD", "LoadScreen"),
                                             ("/Settings", "SettingsScreen")])
async def test_a_bare_command_opens_its_screen_however_it_is_spelled(line: str, opens: str
                                                                     ) -> None:
    async with playing() as (app, pilot, screen):
        await send(pilot, screen, line)
        assert type(app.screen).__name__ == opens


async def test_the_game_opens_off_the_ui_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from gpt2_adventure.game import Game

    threads: list[threading.Thread] = []
    for name in ("open", "restore_model_state"):  # the autosave, the stored model state
        real = getattr(Game, name)

        def spy(self: Game, real=real) -> object:  # noqa: ANN001
            threads.append(threading.current_thread())
            return real(self)

        monkeypatch.setattr(Game, name, spy)
    ui = threading.current_thread()  # the app runs on the test's event loop
    async with playing() as (app, _pilot, screen):
        assert screen.game is not None and app.game is screen.game
        assert len(threads) == 2 and ui not in threads


async def test_a_reply_written_ahead_is_ready_and_retry_shows_it_at_once() -> None:
    from tests.tui.helpers import screen_text

    fake = FakeBackend([" The door creaks open.", " A bat flies out.", " It is dark."])
    fake.ahead = True  # candidates is 2 by default: one reply is written ahead
    app = make_app(backend=fake)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        await send(pilot, screen, "open the door")
        state = screen.game.state
        await until(pilot, lambda: state.turns[-1].ahead == [" A bat flies out."])
        await until(pilot, lambda: "1 more ready" in screen_text(app))
        await pilot.press("ctrl+r")
        await wait_idle(pilot, screen)
        assert state.turns[-1].alternatives == [" The door creaks open.", " A bat flies out."]
        assert shown(screen)[-1] == "A bat flies out."
        # The next warm-up writes another; Alt+Left flips back to the first reply.
        await until(pilot, lambda: state.turns[-1].ahead == [" It is dark."])
        await pilot.press("alt+left")
        await wait_idle(pilot, screen)
        assert shown(screen)[-1] == "The door creaks open."
