"""The Textual application: screens, the model (loaded in a worker), and the way out."""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.errors import UserError
from gpt2_adventure.launch import Launch, load_state, pick_seed, start_state
from gpt2_adventure.story.model import Seed, StoryState
from gpt2_adventure.tui.messages import BackendFailed, BackendReady
from gpt2_adventure.tui.screens.dialogs import Choice, Questions
from gpt2_adventure.tui.screens.game import GameScreen

BackendFactory = Callable[[Launch], Backend]


def _load_real_backend(launch: Launch) -> Backend:
    from gpt2_adventure.engine.loader import load_backend

    return load_backend(launch.paths, launch.settings.model, launch.settings.backend,
                        model=launch.model, threads=launch.threads, seed=launch.rng_seed)


class AdventureApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "gpt2-adventure"
    BINDINGS = [Binding("ctrl+q", "quit_game", "Quit", priority=True, id="app.quit")]

    def __init__(self, launch: Launch, backend_factory: BackendFactory | None = None) -> None:
        super().__init__()
        self.launch = launch
        self._factory = backend_factory or _load_real_backend
        self.backend: Backend | None = None
        self._backend_model: str | None = None
        self._waiting: list[Screen] = []

    def on_mount(self) -> None:
        from gpt2_adventure.tui.themes import register_themes

        register_themes(self)
        theme = self.launch.settings.ui.theme
        if theme in self.available_themes:
            self.theme = theme
        if self.launch.mode == "title":
            from gpt2_adventure.tui.screens.title import TitleScreen

            self.push_screen(TitleScreen())
        else:
            self.start_from_launch()

    # -- starting a game ------------------------------------------------------------------

    def start_from_launch(self) -> None:
        """Straight into a game from the command line (play/chat/write)."""
        try:
            if self.launch.load:
                self.open_state(load_state(self.launch))
                return
            seed = pick_seed(self.launch)
        except UserError as error:
            self.fail(str(error), error.hint)
            return
        self.start_seed(seed)

    def start_seed(self, seed: Seed) -> None:
        """Ask the seed's questions, then open the game."""
        ask = [p for p in seed.placeholders if not (p.name == "name" and self.launch.name)]

        def begin(values: dict | None) -> None:
            if values is None:
                if not self.screen_stack[1:]:
                    self.exit()
                return
            try:
                state = start_state(self.launch, seed, lambda p: values.get(p.name, p.default))
            except UserError as error:
                self.fail(str(error), error.hint)
                return
            self.open_state(state)

        if ask:
            self.push_screen(Questions(ask, {}), begin)
        else:
            begin({})

    def open_state(self, state: StoryState) -> None:
        self.push_screen(GameScreen(state))

    def fail(self, error: str, hint: str | None = None) -> None:
        """An error before any game is open: say it; leave if there is nothing to go back to."""
        def after(_: str | None) -> None:
            if len(self.screen_stack) <= 1:
                self.exit(return_code=2)

        body = error + (f"\n\n{hint}" if hint else "")
        self.push_screen(Choice("Something is wrong", body, [("ok", "OK")], error=True), after)

    # -- the model ------------------------------------------------------------------------

    def request_backend(self, screen: Screen) -> None:
        """Give ``screen`` the model (BackendReady/BackendFailed), loading it once."""
        wanted = self.launch.model or ""
        if self.backend is not None and self._backend_model == wanted:
            screen.post_message(BackendReady(self.backend))
            return
        self._waiting.append(screen)
        self._load_backend(wanted)

    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def _load_backend(self, wanted: str) -> None:
        try:
            if self.backend is not None:
                self.backend.close()
                self.backend = None
            backend = self._factory(self.launch)
        except UserError as error:
            no_model = "models pull" in f"{error} {error.hint or ''}"
            self.call_from_thread(self._backend_done, None,
                                  BackendFailed(str(error), error.hint, no_model))
            return
        except Exception as error:  # noqa: BLE001 - a loader crash must not kill the UI
            self.call_from_thread(self._backend_done, None,
                                  BackendFailed(f"{type(error).__name__}: {error}", None, False))
            return
        self._backend_model = wanted
        self.call_from_thread(self._backend_done, backend, BackendReady(backend))

    def _backend_done(self, backend: Backend | None, message: object) -> None:
        self.backend = backend
        waiting, self._waiting = self._waiting, []
        for screen in waiting:
            if screen.is_attached:
                screen.post_message(message)  # type: ignore[arg-type]

    def pull_default(self, screen: Screen) -> None:
        from gpt2_adventure.tui.screens.models import ModelsScreen

        self.push_screen(ModelsScreen(pull="gpt2"), lambda _: self.request_backend(screen))

    # -- other screens --------------------------------------------------------------------

    def open_models(self) -> None:
        from gpt2_adventure.tui.screens.models import ModelsScreen

        self.push_screen(ModelsScreen())

    def open_settings(self) -> None:
        from gpt2_adventure.tui.screens.settings import SettingsScreen

        self.push_screen(SettingsScreen())

    def open_load(self) -> None:
        from gpt2_adventure.tui.screens.load import LoadScreen

        self.push_screen(LoadScreen())

    # -- leaving --------------------------------------------------------------------------

    def action_quit_game(self) -> None:
        """Ctrl+Q anywhere: stop writing, autosave, release the game, leave."""
        for screen in self.screen_stack:
            if isinstance(screen, GameScreen):
                screen.shutdown()
        self.exit()

    def on_unmount(self) -> None:
        if self.backend is not None:
            self.backend.close()


def run_tui(launch: Launch, backend_factory: BackendFactory | None = None) -> int:
    import sys

    # GPT-2's thread needs the GIL between tokens; by default it may wait up to 5 ms for the
    # UI thread to let go, which costs a quarter of the speed at 80 tokens/s.
    sys.setswitchinterval(0.0005)
    app = AdventureApp(launch, backend_factory)
    result = app.run()
    return result if isinstance(result, int) else (app.return_code or 0)
