"""The prompt view (F4, ``/context``): every part under its label, recall and automatic lore
marked, markup shown literally, Esc back to the game with nothing sent."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.inspect import Part, Seen
from gpt2_adventure.story.model import Turn, WorldEntry
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.tui.screens.context import ContextView
from gpt2_adventure.tui.screens.game import GameScreen
from tests.story.recall.stories import FACTS, planted_story
from tests.support.fake_backend import FakeBackend
from tests.tui.helpers import make_app, settle, until, wait_idle

MARKUP = " [bold red]loud[/bold red] and [link=x]here[/link]"


def _texts(view: ContextView, classes: str) -> list[str]:
    return [str(static.render()) for static in view.query(f"Static.{classes}").results(Static)]


def save_long_story(name: str = "long") -> None:
    state = planted_story(120)
    state.world.append(WorldEntry(keys=("Harrow",), content="Harrow is a river town."))
    state.turns.append(Turn(role="model", text=MARKUP))
    SaveStore(AppPaths.from_env()).save(state, name)


async def test_f4_shows_the_prompt_and_esc_closes_it() -> None:
    backend = FakeBackend([" The door creaks open."])
    app = make_app(backend=backend)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        screen.query_one("#line", Input).focus()
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, ContextView))
        await settle(pilot)
        view = app.screen
        assert isinstance(view, ContextView)
        headings = _texts(view, "heading")
        assert headings[0].startswith("memory · ") and headings[-1].startswith("story · ")
        assert view.focused is view.query_one(VerticalScroll)  # the keys scroll it
        game = screen.game
        assert game is not None and view.seen.tokens == game.session.preview().tokens
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and backend.prompts == []


async def test_context_action_marks_recall_and_shows_markup_literally() -> None:
    save_long_story()
    backend = FakeBackend([" He nods."], n_ctx=512)
    app = make_app(backend=backend, load="long")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        game = screen.game
        assert game is not None
        turns = len(game.state.turns)
        # Brannoc is a name the story wrote twice: his automatic entry shows the fact; with
        # automatic lore off, recall brings the passage back instead.
        for automatic in (True, False):
            game.session.configure(auto_lore=automatic)
            screen.submit("/context ask about Brannoc in Harrow", "do")
            await until(pilot, lambda: isinstance(app.screen, ContextView))
            await settle(pilot)
            view = app.screen
            assert isinstance(view, ContextView)
            kind = "automatic" if automatic else "recalled"
            headings = _texts(view, f"heading.{kind}")
            assert headings and headings[0].startswith(
                "world · automatic lore (Brannoc)" if automatic else "recall · recalled from turn")
            assert any(FACTS["Brannoc"] in text for text in _texts(view, f"text.{kind}"))
            assert any(MARKUP.strip() in text for text in _texts(view, "text"))
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, GameScreen))
            await settle(pilot)
        assert len(game.state.turns) == turns and backend.prompts == []


async def test_automatic_lore_is_marked_beside_its_text() -> None:
    lore = Part("world", "Harrow is a river town.\n", (1, 2, 3),
                ("automatic lore (Harrow)",), automatic=True)
    seen = Seen((lore, Part("story", "You walk.", (4, 5))), n_ctx=1024, reply=60,
                first_visible_turn=0)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_idle(pilot, app.screen)  # type: ignore[arg-type]
        app.push_screen(ContextView(seen))
        await settle(pilot)
        view = app.screen
        assert isinstance(view, ContextView)
        assert _texts(view, "heading.automatic") == ["world · automatic lore (Harrow) · 3 tokens"]
        assert _texts(view, "text.automatic") == ["Harrow is a river town."]
        assert _texts(view, "heading.recalled") == []
