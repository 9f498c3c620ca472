"""The Textual application: screens, the model and the open game (both opened on workers),
and the way out."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from gpt2_adventure.engine.backend import Backend, CancelToken
from gpt2_adventure.errors import UserError
from gpt2_adventure.game import Game
from gpt2_adventure.launch import (
    Launch,
    load_state,
    open_game,
    pick_seed,
    player_sampling,
    start_state,
)
from gpt2_adventure.story.model import Seed, StoryState
from gpt2_adventure.tui.base import GameApp
from gpt2_adventure.tui.messages import (
    BackendFailed,
    BackendReady,
    GameFailed,
    GameOpened,
    TuneDone,
    TuneProgress,
)
from gpt2_adventure.tui.say import say
from gpt2_adventure.tui.screens.dialogs import Choice, Questions
from gpt2_adventure.tui.screens.game import GameScreen

BackendFactory = Callable[[Launch], Backend]


class AdventureApp(GameApp):
    """The app owns the open game: ``game`` (one at a time), opened on a worker for the
    ``GameScreen`` that shows it (``game_screen``), and closed on load and on the way out."""

    CSS_PATH = "app.tcss"
    TITLE = "gpt2-adventure"
    BINDINGS = [Binding("ctrl+q", "quit_game", "Quit", priority=True, id="app.quit")]

    def __init__(self, launch: Launch, backend_factory: BackendFactory | None = None) -> None:
        super().__init__()
        self.launch = launch
        self._factory = backend_factory or self._load_real_backend
        self._tuning: CancelToken | None = None  # set while tuning on first use runs
        self.backend: Backend | None = None
        self._backend_model: str | None = None
        self._waiting: list[Screen[None]] = []
        self.game: Game | None = None
        self.game_screen: GameScreen | None = None
        self._not_opening = threading.Event()  # clear while a worker opens a game
        self._not_opening.set()

    def on_mount(self) -> None:
        from gpt2_adventure.tui.themes import register_themes

        register_themes(self)
        theme = self.launch.settings.ui.theme
        if theme in self.available_themes:
            self.theme = theme
        elif theme:  # said once, over the first screen; the default theme stays
            names = ", ".join(sorted(self.available_themes))
            self.call_after_refresh(
                say, self, f"unknown theme {theme!r} in [ui] theme (config.toml); the themes "
                           f"are: {names}", severity="warning", timeout=20)
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
            notes: list[str] = []
            seed = pick_seed(self.launch, notes)
        except UserError as error:
            self.fail(str(error), error.hint)
            return
        if notes:  # what reading the card or lorebook left out
            say(self, "\n".join(notes), timeout=12)
        self.start_seed(seed)

    def start_seed(self, seed: Seed) -> None:
        """Ask the seed's questions, then open the game."""
        ask = [p for p in seed.placeholders if not (p.name == "name" and self.launch.name)]

        def begin(values: dict[str, str] | None) -> None:
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
        """Show ``state`` in a game screen, which opens it once the model is ready. One game
        at a time: an open one is closed first, and its screen leaves if it is on top."""
        old = self.game_screen
        if old is not None:
            self.close_game()
            if self.screen is old:
                self.pop_screen()
        self.game_screen = GameScreen(state)
        self.push_screen(self.game_screen)

    def open_game(self, screen: Screen[None], state: StoryState, backend: Backend) -> None:
        """Open ``state`` for ``screen`` with ``backend``, on a worker: ``GameOpened`` then
        makes it the app's game, or ``GameFailed`` tells the screen why not."""
        self._not_opening.clear()
        self._open_game(screen, state, backend)

    @work(thread=True, group="open-game", exit_on_error=False)
    def _open_game(self, screen: Screen[None], state: StoryState, backend: Backend) -> None:
        # Off the UI thread: the autosave (fsync), the model's fingerprint, and reading,
        # checking and importing a stored model state of up to [model] state_max_mb.
        try:
            start = player_sampling(self.launch.settings, self.launch.paths, backend)
            game = open_game(self.launch, backend, state, start.sampling, fixed=start.fixed,
                             warn=lambda text: say(screen, text, severity="warning"))
        except UserError as error:
            screen.post_message(GameFailed(str(error)))
            return
        except Exception as error:  # noqa: BLE001 - shown to the player, the app goes on
            screen.post_message(GameFailed(f"{type(error).__name__}: {error}"))
            return
        finally:
            self._not_opening.set()
        if not self.post_message(GameOpened(screen, game)):
            game.close()  # the app has closed meanwhile: nobody will take it

    def on_game_opened(self, message: GameOpened) -> None:
        screen = message.screen
        if screen is not self.game_screen or not screen.is_attached:
            message.game.close()  # its screen left while it opened
            return
        self.game = message.game
        self.game_screen.show_game()

    def close_game(self) -> None:
        """Stop what runs on the open game, autosave it, store its model state, release it."""
        game, self.game = self.game, None
        if game is not None:
            game.close()

    def fail(self, error: str, hint: str | None = None) -> None:
        """An error before any game is open: say it; leave if there is nothing to go back to."""
        def after(_: str | None) -> None:
            if len(self.screen_stack) <= 1:
                self.exit(return_code=2)

        body = error + (f"\n\n{hint}" if hint else "")
        self.push_screen(Choice("Something is wrong", body, [("ok", "OK")], error=True), after)

    # -- the model ------------------------------------------------------------------------

    def request_backend(self, screen: Screen[None]) -> None:
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

    def _load_real_backend(self, launch: Launch) -> Backend:
        """On the model worker: the game's model, tuned first when it has no tuning stored
        (the waiting screens show the progress; Esc skips)."""
        from gpt2_adventure.engine.first_use import FirstUse, TuneWatch
        from gpt2_adventure.engine.tune import Step
        from gpt2_adventure.launch import load_model
        from gpt2_adventure.tui.widgets.meter import tune_text

        watch = TuneWatch()

        def begin(_budget: float | None) -> None:
            self._tuning = watch.stop
            self.post_message(TuneProgress(tune_text(None)))

        def step(now: Step) -> None:
            self.post_message(TuneProgress(tune_text(now)))

        def done(result: FirstUse) -> None:
            self.post_message(TuneDone(result.summary()))

        watch.begin, watch.step = begin, step
        try:
            return load_model(launch, watch, done)
        finally:
            self._tuning = None

    def skip_tuning(self) -> bool:
        """Stop tuning on first use, if it runs (the model then opens on the defaults)."""
        tuning = self._tuning
        if tuning is None or tuning.cancelled:
            return False
        tuning.cancel()
        return True

    def on_tune_progress(self, message: TuneProgress) -> None:
        for screen in self._waiting:
            if screen.is_attached:
                screen.post_message(TuneProgress(message.text))

    def on_tune_done(self, message: TuneDone) -> None:
        say(self, message.summary, timeout=12)
        self.on_tune_progress(TuneProgress("loading the model…"))

    def _backend_done(self, backend: Backend | None, message: Message) -> None:
        self.backend = backend
        waiting, self._waiting = self._waiting, []
        for screen in waiting:
            if screen.is_attached:
                screen.post_message(message)

    def pull_default(self, screen: Screen[None]) -> None:
        from gpt2_adventure.tui.screens.models import ModelsScreen

        self.push_screen(ModelsScreen(pull="gpt2"), lambda _: self.request_backend(screen))

    # -- other screens --------------------------------------------------------------------

    def open_models(self) -> None:
        from gpt2_adventure.tui.screens.models import ModelsScreen

        self.push_screen(ModelsScreen())

    def use_model(self, spec: str) -> None:
        """Play model ``spec`` from now on (this session): a story on screen reopens with it
        (autosaved first), else the next adventure starts with it."""
        self.launch.model = spec
        screen = self.game_screen
        if screen is None or not screen.is_attached:
            self.notify(f"{spec} will play your next adventure", markup=False)
            return
        state = self.game.state if self.game is not None else screen.state
        self.notify(f"going on with {spec}", markup=False)
        self.open_state(state)

    def open_settings(self) -> None:
        from gpt2_adventure.tui.screens.settings import SettingsScreen

        self.push_screen(SettingsScreen())

    def open_load(self) -> None:
        from gpt2_adventure.tui.screens.load import LoadScreen

        self.push_screen(LoadScreen())

    # -- leaving --------------------------------------------------------------------------

    def action_quit_game(self) -> None:
        """Ctrl+Q anywhere: stop writing, autosave, release the game, leave."""
        self.close_game()
        self.exit()

    def on_unmount(self) -> None:
        self.skip_tuning()  # stored nothing; the model worker ends soon
        self._not_opening.wait(timeout=60)  # a game being opened still uses the model
        self.close_game()  # however the app ends: saved, and its work out of the model
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
