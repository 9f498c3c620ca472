"""One open game, driven by typed lines: actions and slash commands, for the TUI and plain mode.

Who does what: ``Game`` is the game as a file and a command line (its save, lock, autosave,
stored model state and warm-up; ``COMMAND_TABLE``, what each command runs, in
``game_commands/``); ``story.session.Session`` is the story and the model's view of it (prompt
layout, replies, history); the front ends (``plain`` and ``tui.screens.game.GameScreen``)
render and run the streams ``Game`` hands them (the few changes they make themselves, such as
keeping a stopped reply, are ``Session`` methods that check who owns the story).

The front ends pass each line to ``Game.handle`` and act on the typed outcome
(``game_commands/outcomes.py``); they never look at the line themselves. Generation comes
back as a stream of story-engine events that the front end consumes (on a worker thread in
the TUI).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterator

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.engine.lifetime import ClosedError
from gpt2_adventure.engine.llama.state_cache import StateCache
from gpt2_adventure.errors import UserError
from gpt2_adventure.game_commands import (
    alternatives,
    context,
    export,
    history,
    memory,
    replies,
    saves,
    settings,
    world,
)
from gpt2_adventure.game_commands.host import Handler
from gpt2_adventure.game_commands.outcomes import Info, Outcome, Quit, Reloaded, Stream, Writes
from gpt2_adventure.story.commands import Command, CommandError, help_text, parse
from gpt2_adventure.story.context import Plan
from gpt2_adventure.story.events import Event, SessionError
from gpt2_adventure.story.model import ActionKind, StoryState, Turn
from gpt2_adventure.story.saves.store import GameLock, SaveStore
from gpt2_adventure.story.session import Session
from gpt2_adventure.story.warmup import Pace, Warmup

# The outcomes ``Game`` itself returns are known from here too; the screen-opening ones
# (``OpenSettings``, ``AskEdit``...) are imported from ``game_commands.outcomes``.
__all__ = ["COMMAND_TABLE", "Game", "Info", "Outcome", "Quit", "Reloaded", "Stream"]

log = logging.getLogger(__name__)

# Each command of ``story/commands.COMMANDS`` (its usage and help) and what runs it: a handler
# ``(game, arg) -> Outcome`` (tests/test_game_table.py keeps the two in step).
COMMAND_TABLE: dict[str, Handler] = {
    "do": replies.acting("do"),
    "say": replies.acting("say"),
    "story": replies.acting("story"),
    "retry": replies.retry,
    "alt": alternatives.alt,
    "pick": alternatives.pick,
    "undo": history.undo,
    "redo": history.redo,
    "continue": replies.continue_,
    "edit": history.edit,
    "remember": memory.remember,
    "forget": memory.forget,
    "pin": memory.pin,
    "memory": memory.memory,
    "note": memory.note,
    "world": world.world,
    "save": saves.save,
    "load": saves.load,
    "export": export.export,
    "context": context.context,
    "settings": settings.settings,
    "help": lambda game, arg: Info(help_text(arg)),
    "quit": lambda game, arg: Quit(),
}

# How long closing waits for a cancelled reply or warm-up to end (they stop within one token
# or one chunk of a prompt, which llama.cpp aborts; only a stuck backend takes longer).
CLOSE_WAIT_SECONDS = 30.0


class Game:
    """One open game: a ``Session`` (the story and the model) with its save around it.

    ``Game`` turns typed lines into outcomes, holds the save's lock, autosaves every change
    and keeps llama.cpp's state beside the autosave; the ``Session`` does the story itself.
    While a reply streams, whoever runs its ``Stream`` owns the session (see ``Session``):
    ``handle`` refuses lines until it ends. A warm-up (``warm_up`` then ``warm``) starts only
    while the session is idle, and the next line cancels it.
    """

    def __init__(self, session: Session, store: SaveStore, *,
                 warn: Callable[[str], None] | None = None,
                 state_cache: StateCache | None = None) -> None:
        self.session = session
        self.store = store
        self.warn = warn or (lambda message: None)
        self.state_cache = state_cache
        self._lock: GameLock | None = None
        self._cancels: list[CancelToken] = []  # of the streams handed out
        self._warmup: Warmup | None = None  # the warm-up handed out last
        self._warmups: list[Warmup] = []  # handed out and not known to be over
        self._pace = Pace()  # how long the player takes from a warm-up to the next line
        self._warm_error = ""  # the warm-up's last failure, told once
        self.save_name: str | None = None  # the name this game was last saved or loaded as
        session.on_change = self.autosave

    @property
    def state(self) -> StoryState:
        return self.session.state

    # -- lifecycle ------------------------------------------------------------------------

    def open(self) -> Game:
        """Hold this game's lock (a second instance on it is refused) and autosave it."""
        self._lock = self.store.hold(self.state.id).acquire()
        self.autosave(self.state)
        return self

    def stop(self, keep: Warmup | None = None) -> None:
        """Cancel what was handed out to run: a reply being written, warm-ups (but
        ``keep``, which a retry takes over)."""
        for cancel in self._cancels:
            cancel.cancel()
        self._cancels = []
        for warmup in self._warmups:
            if warmup is not keep:
                warmup.stop()

    def close(self) -> None:
        """Stop what runs and wait for it, then autosave, store the model state and let go
        of the save. The wait matters twice: a reply being written may still be undoing
        itself (its player's turn leaves the story only as its stream ends: saved before,
        the action would be kept without its reply), and a warm-up still inside the backend
        must be out before anyone closes the backend (or stores its state)."""
        self.stop()
        self._wait_stopped()
        self.collect_ahead()
        self.autosave(self.state, finish=True)  # whole again: no journal at rest
        self.store_model_state()
        if self.session.builder.recall is not None:  # the recall index is this game's too
            self.session.builder.recall.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _wait_stopped(self) -> None:
        """After ``stop``: wait for the reply being written and the warm-ups to end (each
        stops within one token or chunk once cancelled; the timeout only keeps a stuck
        backend from hanging the way out)."""
        if not self.session.wait_idle(CLOSE_WAIT_SECONDS):
            self.warn(f"a reply was still being written after {CLOSE_WAIT_SECONDS:.0f} s")
        for warmup in self._warmups:
            if not warmup.wait_stopped(CLOSE_WAIT_SECONDS):
                self.warn(f"the warm-up was still running after {CLOSE_WAIT_SECONDS:.0f} s")
        self._warmups = []

    def store_model_state(self) -> None:
        """Keep llama.cpp's state beside the autosave, so loading this game resumes warm."""
        backend = self.session.backend
        if self.state_cache is None or not backend.supports_state:
            return
        builder = self.session.builder
        # The replies as the model wrote them: re-tokenized, they could differ from the cache.
        shown = builder.plan.window_start
        spelled = [[t.text, builder.tokens(t.text)] for t in self.state.turns[shown:]]
        try:
            plan = dataclasses.asdict(builder.plan)
            self.state_cache.store(self.state.id, backend, {"plan": plan, "spelled": spelled})
        except OSError as error:
            self.warn(f"could not store the model state: {error}")

    def restore_model_state(self) -> bool:
        """Load a stored state for this game if one is valid; the prompt layout comes with it."""
        backend = self.session.backend
        if self.state_cache is None or not backend.supports_state:
            return False
        extra = self.state_cache.restore(self.state.id, backend)
        if extra is None:
            return False
        spelled = [(item[0], item[1]) for item in extra.get("spelled") or []
                   if (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                       and isinstance(item[1], list) and all(isinstance(t, int) for t in item[1])
                       and self.session.backend.detokenize(item[1]) == item[0])]
        stored, plan = extra.get("plan"), None
        # A bad layout is dropped: the KV cache still helps; the layout is recomputed.
        with contextlib.suppress(KeyError, TypeError, ValueError):
            if isinstance(stored, dict):
                plan = Plan.from_dict(stored)
        self.session.restore_layout(spelled, plan)
        return True

    def warm_up(self) -> Warmup | None:
        """Lay out what to do while the player types (None: nothing, or a reply is being
        written): the next prompt to evaluate, then replies to write ahead; run it with
        ``warm`` on a worker. The next line stops it (``story/warmup.py``)."""
        warmup = Warmup.plan(self.session, self._pace.usual())
        if warmup is None:
            return None
        self._pace.started()
        self._warmup = warmup
        self._warmups = [w for w in self._warmups if not w.done] + [warmup]
        return warmup

    def warm(self, warmup: Warmup, on_ready: Callable[[], None] | None = None) -> int:
        """Run a warm-up on a worker (``Warmup.run``: it touches only the backend; ``on_ready``
        as each reply written ahead is there, for ``collect_ahead``). A failure is logged
        and told once: the next reply is evaluated and written as usual."""
        try:
            return warmup.run(self.session, on_ready)
        except ClosedError:
            return 0  # the backend went first (only when a front end closes it too early)
        except Exception as error:  # noqa: BLE001 - an optimisation: the turn evaluates anyway
            self._warm_failed(error)
            return 0

    def _warm_failed(self, error: Exception) -> None:
        """Log a warm-up's failure and tell the player once (not again at every turn while,
        say, a server stays away): the next reply is evaluated and written as usual."""
        log.info("the warm-up failed", exc_info=error)  # (below WARNING: no stderr traceback)
        said = f"{type(error).__name__}: {error}"
        if said != self._warm_error:
            self._warm_error = said
            self.warn(f"warming up failed ({said}); replies are written as usual")

    def collect_ahead(self) -> int:
        """Take in the replies written ahead so far (on the thread that runs ``handle``)."""
        return self.session.collect_ahead()

    def ready_note(self) -> str:
        """"2 more ready" when replies written ahead wait for the player; else ""."""
        ready = self.session.ready
        return f"{ready} more ready" if ready else ""

    def autosave(self, state: StoryState, finish: bool = False) -> None:
        try:
            if finish:
                self.store.finish_autosave(state)
            else:
                self.store.autosave(state)
        except UserError as error:  # a full disk must not end the game: say it, play on
            self.warn(f"autosave failed: {error}")

    # -- input ----------------------------------------------------------------------------

    def handle(self, line: str, kind: ActionKind = "do") -> Outcome:
        """One line the player typed: a slash command or an action of the given kind."""
        if self.session.writing or self._taking_over():
            return Info(["GPT-2 is still writing; wait for it, or stop it"], error=True)
        try:
            command = parse(line)
        except CommandError as error:
            command = None
            problem: CommandError | None = error
        else:
            problem = None
        writing = self._writing_ahead() if command == Command("retry") else None
        if writing is not None:  # the retry's reply is being written: take it over
            return self.stream(lambda cancel: self.session.retry(
                cancel, after=lambda: writing.wait_written(cancel)), writes="alternative")
        self._pace.acted()
        self.stop()  # a warm-up: the reply waits for at most one more chunk or token of it
        self.collect_ahead()
        if problem is not None:
            return Info([str(problem)], error=True)
        if command is None:
            text = line[1:] if line.lstrip().startswith("//") else line
            return self.act(text, kind)
        try:
            return self.run(command)
        except (SessionError, CommandError) as error:
            return Info([str(error)], error=True)
        except UserError as error:
            return Info([str(error)] + ([error.hint] if error.hint else []), error=True)

    def _writing_ahead(self) -> Warmup | None:
        """The warm-up writing an alternative to the last reply now, when none is ready: a
        retry waits for it (at most one reply's time, work that is not thrown away) rather
        than stopping it and writing another from the start."""
        self.collect_ahead()
        warmup = self._warmup
        if warmup is None or self.session.ready or not warmup.take_over():
            return None
        self.stop(keep=warmup)  # anything else handed out (a stream that ended)
        return warmup

    def _taking_over(self) -> bool:
        """A retry waits for the warm-up's alternative (its stream owns the session as soon
        as it runs; until then, this keeps other lines out)."""
        warmup = self._warmup
        return warmup is not None and warmup.taken_over and not warmup.done

    def stream(self, start: Callable[[CancelToken], Iterator[Event]],
               action: Turn | None = None, writes: Writes = "new") -> Stream:
        """Hand out a reply to run; ``stop`` and ``close`` cancel it. ``writes``: what the
        reply becomes (a new turn, or the last reply rewritten), which tells the front end
        the first turn it changes."""
        cancel = CancelToken()
        self._cancels.append(cancel)
        turns = len(self.state.turns)
        return Stream(start(cancel), cancel, action, writes,
                      from_turn=turns if writes == "new" else max(turns - 1, 0))

    def act(self, text: str, kind: ActionKind) -> Stream:
        try:
            action = self.session.player_turn(text, kind)
        except SessionError:
            action = None  # the act itself says what is wrong, from the stream
        return self.stream(lambda cancel: self.session.act(text, kind, cancel), action)

    def run(self, command: Command) -> Outcome:
        handler = COMMAND_TABLE.get(command.name)
        if handler is None:
            raise CommandError(f"/{command.name} is not available here")
        return handler(self, command.arg)

    def edit(self, index: int, text: str) -> Reloaded:
        """Rewrite turn ``index`` (0-based) as ``text``, keeping how the turn joined the story
        (its leading whitespace, its final newline). Every front end edits through here."""
        return history.edit_turn(self, index, text)

    def replace_story(self, state: StoryState) -> None:
        """Play ``state`` from now on (``/load``): another game's lock is taken first
        (refused if it is open elsewhere), then this one is closed (saved, its lock let go)."""
        if state.id != self.state.id:
            lock = self.store.hold(state.id).acquire()  # refused if open elsewhere
            self.close()
            self._lock = lock
        self.session.replace_state(state)
