"""The game: the story streaming in, the input bar, memory and world, the context meter.

Who does what: the app owns the open ``Game`` (it opens it on a worker and closes it);
``GameScreen`` draws it, hands each typed line to ``Game.handle`` and runs what comes back;
the ``Session`` inside the game is the story itself.
"""

from __future__ import annotations

import gc
import time

from rich.text import Text
from textual import getters, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from gpt2_adventure.errors import UserError
from gpt2_adventure.game import Game
from gpt2_adventure.game_commands import outcomes
from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.context import Prompt
from gpt2_adventure.story.events import Done, LoreInserted, Piece, Restart
from gpt2_adventure.story.model import ActionKind, StoryState
from gpt2_adventure.story.warmup import Warmup
from gpt2_adventure.tui.base import GameApp
from gpt2_adventure.tui.command_views import info_title, numbered_memory, numbered_world
from gpt2_adventure.tui.keys import help_body
from gpt2_adventure.tui.messages import (
    AheadReady,
    BackendFailed,
    BackendReady,
    GameFailed,
    GenerationFailed,
    Streamed,
    TuneProgress,
)
from gpt2_adventure.tui.say import say
from gpt2_adventure.tui.screens.context import ContextView
from gpt2_adventure.tui.screens.dialogs import Choice, EditTurn
from gpt2_adventure.tui.screens.no_model import PLAY_FILE, NoModel
from gpt2_adventure.tui.screens.save_name import ReplaceSave
from gpt2_adventure.tui.widgets.input_bar import InputBar
from gpt2_adventure.tui.widgets.meter import ContextMeter, StatusBar
from gpt2_adventure.tui.widgets.side_panel import SidePanel
from gpt2_adventure.tui.widgets.transcript import FRAME_SECONDS, Transcript


class GameScreen(Screen[None]):
    """Shows the app's open game and runs its work on workers. A reply's stream runs on the
    "generation" worker, which owns the game's ``Session`` until the reply's last event (no
    line is handled meanwhile). Warm-up runs only while the session is idle: its prompt is
    laid out here, on the UI thread, after a reply or an open, and evaluated on the "warm"
    worker, which touches only the backend; the next line cancels it."""

    app = getters.app(GameApp)
    BINDINGS = [
        Binding("escape", "stop", "Stop", id="game.stop"),
        # Not in the footer, which cannot say it per game (a chat has no Do/Say/Story): the
        # line under the input does.
        Binding("tab", "tab", "Complete / Do/Say/Story", show=False, priority=True,
                id="game.mode"),
        Binding("ctrl+r", "command('/retry')", "Retry", id="game.retry"),
        Binding("ctrl+z", "command('/undo')", "Undo", id="game.undo"),
        Binding("ctrl+y", "command('/redo')", "Redo", show=False, id="game.redo"),
        # Priority: the input line (which always has the focus) binds Ctrl+E to end-of-line.
        Binding("ctrl+e", "command('/continue')", "Continue", priority=True,
                id="game.continue"),
        Binding("alt+right", "command('/alt')", "Next reply", show=False, id="game.alt_next"),
        Binding("alt+left", "command('/alt prev')", "Previous reply", show=False,
                id="game.alt_prev"),
        Binding("ctrl+s", "command('/save')", "Save", id="game.save"),
        Binding("f2", "toggle_panel", "Memory/World", id="game.panel"),
        Binding("f1", "help", "Keys & commands", id="game.help"),
        Binding("f4", "command('/context')", "What GPT-2 sees", show=False,  # F1 lists it
                id="game.context"),
        # The story never takes focus (typing always goes to the input line): it scrolls
        # from here, with the mouse wheel, or by dragging its scrollbar.
        Binding("pageup", "scroll_story(-1)", "Scroll up", show=False, id="game.page_up"),
        Binding("pagedown", "scroll_story(1)", "Scroll down", show=False, id="game.page_down"),
    ]
    DEFAULT_CSS = """
    GameScreen #title { height: 1; padding: 0 1; background: $primary; color: $text;
                        text-style: bold; }
    GameScreen #card { height: auto; max-height: 2; padding: 0 1; color: $text-muted;
                       border-bottom: solid $primary; }
    GameScreen Transcript { height: 1fr; }
    GameScreen SidePanel { display: none; }
    GameScreen.panel SidePanel { display: block; }
    """

    def __init__(self, state: StoryState) -> None:
        super().__init__()
        self.state = state  # the story to open (the open game's own is ``game.state``)
        self.stream: outcomes.Stream | None = None
        self._from_turn = 0  # the first turn the current generation adds or rewrites
        self._tok_s: float | None = None
        self._line = ""  # the last line handed to the game (its dialogs are titled after it)

    @property
    def game(self) -> Game | None:
        """The open game, while this screen shows it (the app owns it)."""
        return self.app.game if self.app.game_screen is self else None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Text(printable(self.state.title)), id="title")
        if self.state.chat is not None:
            chat = self.state.chat
            about = " ".join(chat.persona.split())
            card = Text(printable(chat.character), style="bold magenta")
            if about:
                card.append(" — " + printable(about[:160]) + ("…" if len(about) > 160 else ""),
                            style="italic")
            yield Static(card, id="card")
        yield SidePanel()
        yield Transcript(id="transcript")
        yield ContextMeter(id="meter")
        yield InputBar(self.state.mode, id="input")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        width = self.app.launch.settings.ui.text_width
        transcript = self.query_one(Transcript)
        if width:
            transcript.styles.max_width = width + 4
        transcript.show_story(self.state)
        bar = self.query_one(InputBar)
        bar.follow_story(self.state)
        bar.focus_line()
        self._status("loading the model…")
        self.app.request_backend(self)

    # -- the model and the game -----------------------------------------------------------

    def on_backend_ready(self, message: BackendReady) -> None:
        self.app.open_game(self, self.state, message.backend)

    def on_tune_progress(self, message: TuneProgress) -> None:
        self._status(message.text)

    def on_game_failed(self, message: GameFailed) -> None:
        self.app.push_screen(Choice("This game cannot be opened", message.error,
                                    [("back", "Back")], error=True),
                             lambda _: self.app.pop_screen())

    def show_game(self) -> None:
        """The app has opened this screen's game: show it ready, and warm it up."""
        # What is alive now (the model, the tokenizer, the app) lives as long as the game: out
        # of the cyclic collector's way, whose full passes over it stalled every thread (the
        # UI and GPT-2's) for up to 84 ms mid-reply; with it frozen, 23 ms. Collected first,
        # so that no garbage (an earlier game's screen) is frozen with it.
        gc.collect()
        gc.freeze()
        self._refresh_meter()
        self._start_warming()

    def on_backend_failed(self, message: BackendFailed) -> None:
        self._status("no model: download one, pick one in Models, or give a .gguf file")
        self.app.push_screen(NoModel(message.error, message.hint, message.no_model),
                             self._after_backend_failure)

    def _after_backend_failure(self, choice: str | None) -> None:
        if choice == "pull":
            self.app.pull_default(self)
        elif choice == "models":
            self.app.open_models()
        elif choice is not None and choice.startswith(PLAY_FILE):
            self.app.use_model(choice.removeprefix(PLAY_FILE))  # this story, with that file
        else:
            self.app.pop_screen()

    # -- input ----------------------------------------------------------------------------

    def on_input_bar_numbering(self, message: InputBar.Numbering) -> None:
        """Show the numbers the command being typed takes, while it is typed."""
        self.query_one(Transcript).show_numbers(message.what == "turns")
        bar = self.query_one(InputBar)
        if self.game is None or message.what not in ("memory", "world"):
            bar.show_numbered([])
        elif message.what == "memory":
            bar.show_numbered(numbered_memory(self.game.session.memory_lines()))
        else:
            bar.show_numbered(numbered_world(self.game.state))

    def on_input_bar_submitted(self, message: InputBar.Submitted) -> None:
        self.submit(message.text, message.kind)

    def submit(self, text: str, kind: ActionKind) -> None:
        if self.game is None:
            self.notify("the model is still loading", severity="warning")
            return
        if self.stream is not None:
            self.notify("GPT-2 is still writing — Esc stops it", severity="warning")
            return
        self._line = text
        self._show(self.game.handle(text, kind))

    def _show(self, outcome: outcomes.Outcome) -> None:
        if isinstance(outcome, outcomes.Stream):
            self._begin(outcome)
            return
        if isinstance(outcome, outcomes.Info):
            self._info(outcome)
        elif isinstance(outcome, outcomes.Reloaded):
            self._redraw(outcome.changed)
            say(self, "\n".join(outcome.lines))
        elif isinstance(outcome, outcomes.Quit):
            self.app.action_quit_game()
        elif isinstance(outcome, outcomes.OpenSettings):
            self.app.open_settings()
        elif isinstance(outcome, outcomes.OpenLoad):
            self.app.open_load()
        elif isinstance(outcome, outcomes.AskEdit):
            self._ask_edit(outcome)
        elif isinstance(outcome, outcomes.AskReplace):  # a save name another game's save holds
            self.app.push_screen(ReplaceSave(outcome), self._submit_answer)
        elif isinstance(outcome, outcomes.ShowContext):
            self.app.push_screen(ContextView(outcome.seen))
        # Whatever the line changed (memory, note, world info, the story) shows in the meter
        # and the status line now (a redraw did that); handling it stopped the warm-up, which
        # starts again.
        if not isinstance(outcome, outcomes.Reloaded):
            self._refresh_meter()
        self._start_warming()

    def _submit_answer(self, line: str | None) -> None:
        """A dialog's answer that is a line to handle (e.g. ``/save --replace NAME``)."""
        if line:
            self.submit(line, self.query_one(InputBar).kind)

    def _info(self, info: outcomes.Info) -> None:
        if len(info.lines) > 3:
            self.app.push_screen(Choice(info_title(self._line, info), "\n".join(info.lines),
                                        [("ok", "OK")], error=info.error))
        else:
            say(self, "\n".join(info.lines), severity="error" if info.error else "information")

    def _begin(self, stream: outcomes.Stream) -> None:
        assert self.game is not None
        self.stream = stream
        self._from_turn = stream.from_turn
        transcript = self.query_one(Transcript)
        if stream.action is not None:
            transcript.show_pending(stream.action, self.game.state)
        transcript.start_reply()
        self._status("GPT-2 is writing… (Esc stops)")
        self._generate(stream)

    @work(thread=True, exclusive=True, group="generation", exit_on_error=False)
    def _generate(self, stream: outcomes.Stream) -> None:
        # Pieces are passed on in batches, one per frame of the transcript: a message per
        # token keeps the UI thread busy, and while it holds the GIL this thread (and GPT-2)
        # waits.
        batch, last = "", time.monotonic()
        try:
            for event in stream.events:
                if isinstance(event, Piece):
                    batch += event.text
                    if time.monotonic() - last < FRAME_SECONDS:
                        continue
                    event, batch, last = Piece(batch), "", time.monotonic()
                elif batch:
                    self.post_message(Streamed(Piece(batch)))
                    batch = ""
                self.post_message(Streamed(event))
        except UserError as error:
            self.post_message(GenerationFailed(str(error)))
        except Exception as error:  # noqa: BLE001 - shown to the player; the story is intact
            self.post_message(GenerationFailed(f"{type(error).__name__}: {error}"))

    def on_streamed(self, message: Streamed) -> None:
        event = message.event
        transcript = self.query_one(Transcript)
        if isinstance(event, Piece):
            transcript.stream(event.text)
        elif isinstance(event, Restart):
            transcript.restart_reply(event.reason)
        elif isinstance(event, LoreInserted):
            transcript.mark_lore(event.keys)
        elif isinstance(event, Done):
            if event.stats is not None and event.stats.tokens_per_second:
                self._tok_s = event.stats.tokens_per_second
            if event.cancelled:
                self._ask_keep()
            else:
                self._finish()

    def on_generation_failed(self, message: GenerationFailed) -> None:
        self._finish()
        say(self, f"generation failed: {message.error}\nYour story is safe; try again.",
            severity="error", timeout=10)

    def _ask_keep(self) -> None:
        def decide(choice: str | None) -> None:
            assert self.game is not None
            if choice == "keep":
                self.game.session.keep_pending()
            else:
                self.game.session.drop_pending()
            self._finish()

        self.app.push_screen(Choice("GPT-2 stopped mid-reply", "Keep what GPT-2 wrote so far?",
                                    [("keep", "Keep"), ("drop", "Drop")]), decide)

    def _finish(self) -> None:
        """The generation is over: show the turns it added, exactly as the story has them."""
        transcript = self.query_one(Transcript)
        transcript.end_reply()
        self.stream = None
        if self.game is not None:  # from the turn the stream said it changes
            turns = len(self.game.state.turns)
            self.query_one(Transcript).redraw_turns(range(min(self._from_turn, turns), turns),
                                                    self.game.state)
        self._refresh_meter()
        self._start_warming()

    def _start_warming(self) -> None:
        """Evaluate the next prompt while the player reads and types (only when idle)."""
        if self.game is None or self.stream is not None:
            return
        warmup = self.game.warm_up()
        if warmup is not None:
            self._warm(self.game, warmup)

    @work(thread=True, exclusive=True, group="warm", exit_on_error=False)
    def _warm(self, game: Game, warmup: Warmup) -> None:
        def ready() -> None:
            self.post_message(AheadReady())

        game.warm(warmup, on_ready=ready)

    def on_ahead_ready(self, message: AheadReady) -> None:
        """A reply written ahead: take it in (saved with the turn) and say how many wait."""
        if self.game is not None and self.stream is None and self.game.collect_ahead():
            self._refresh_meter()

    def _redraw(self, changed: range | None = None) -> None:
        """Draw again the turns a command ``changed`` (None: the whole story, another one)."""
        if self.game is None:
            return
        prompt = self.game.session.preview()
        transcript = self.query_one(Transcript)
        if changed is None:
            transcript.show_story(self.game.state, prompt.first_visible_turn)
        else:
            transcript.redraw_turns(changed, self.game.state)
        self.query_one(SidePanel).load(self.game.state)
        self._refresh_meter(prompt)

    def _refresh_meter(self, prompt: Prompt | None = None) -> None:
        if self.game is None:
            return
        session = self.game.session
        prompt = prompt or session.preview()
        n_ctx = session.backend.n_ctx
        self.query_one(ContextMeter).show(prompt, n_ctx)
        self._status(self.game.ready_note(), used=prompt.used)
        self.query_one(InputBar).follow_story(self.game.state)
        self.query_one(Transcript).mark_view(prompt.first_visible_turn)

    def _status(self, note: str, used: int | None = None) -> None:
        backend = self.game.session.backend if self.game else None
        device = "GPU" if backend is not None and backend.gpu_offload else (
            "CPU" if backend is not None else "-")
        self.query_one(StatusBar).show(model=backend.name if backend else "", device=device,
                                       tok_s=self._tok_s, used=used,
                                       n_ctx=backend.n_ctx if backend else None, note=note)

    # -- actions --------------------------------------------------------------------------

    def action_stop(self) -> None:
        if self.game is None and self.app.skip_tuning():
            self._status("loading the model…")
        elif self.stream is not None:
            self.stream.cancel.cancel()
        elif self.has_class("panel"):
            self.remove_class("panel")

    def action_scroll_story(self, pages: int) -> None:
        transcript = self.query_one(Transcript)
        if pages < 0:
            transcript.scroll_page_up(animate=False)
        else:
            transcript.scroll_page_down(animate=False)

    def action_help(self) -> None:
        self.app.push_screen(Choice("Keys and commands", help_body(self.state.mode),
                                    [("ok", "OK")]))

    def action_tab(self) -> None:
        """Complete the command being typed; else switch Do / Say / Story."""
        bar = self.query_one(InputBar)
        if not bar.complete():
            bar.cycle()

    def action_command(self, line: str) -> None:
        self.submit(line, self.query_one(InputBar).kind)

    def action_toggle_panel(self) -> None:
        self.toggle_class("panel")
        if self.has_class("panel") and self.game is not None:
            self.query_one(SidePanel).load(self.game.state)

    def on_side_panel_applied(self, message: SidePanel.Applied) -> None:
        if self.game is None or self.stream is not None:
            self.notify("wait for GPT-2 to finish first", severity="warning")
            return
        session = self.game.session
        session.set_memory(message.memory)
        session.set_note(message.note)
        session.replace_world(message.world)
        self._refresh_meter()
        self._start_warming()
        self.notify("memory, note and world info updated")

    def _ask_edit(self, ask: outcomes.AskEdit) -> None:
        def save(text: str | None) -> None:
            if text is None or not text.strip() or self.game is None:
                return  # cancelled, or emptied: the turn stays as it was
            self._redraw(self.game.edit(ask.index, text).changed)

        self.app.push_screen(EditTurn(f"Edit turn {ask.index + 1}", printable(ask.text.strip())),
                             save)
