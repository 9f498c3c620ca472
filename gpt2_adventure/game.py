"""One open game, driven by typed lines: actions and slash commands, for the TUI and plain mode.

Who does what: ``Game`` is the game as a file and a command line (its save, lock, autosave
and stored model state; what each typed line means); ``story.session.Session`` is the story
and the model's view of it (prompt layout, replies, history); the front ends (``plain`` and
``tui.screens.game.GameScreen``) render and run the streams ``Game`` hands them (the few
changes they make themselves, such as keeping a stopped reply, are ``Session`` methods that
check who owns the story).

The front ends pass each line to ``Game.handle`` and act on the typed outcome; they never
look at the line themselves. Generation comes back as a stream of story-engine events that
the front end consumes (on a worker thread in the TUI).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gpt2_adventure import schema
from gpt2_adventure.config import MemorySettings, toml_value
from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.engine.lifetime import ClosedError
from gpt2_adventure.engine.llama.state_cache import StateCache
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import player_path
from gpt2_adventure.story.commands import Command, CommandError, help_text, parse, usage
from gpt2_adventure.story.context import Plan
from gpt2_adventure.story.events import Event, SessionError
from gpt2_adventure.story.model import ActionKind, StoryState, Turn, WorldEntry
from gpt2_adventure.story.saves.store import GameLock, NameTaken, SaveStore, describe
from gpt2_adventure.story.session import Session
from gpt2_adventure.story.warmup import Warmup
from gpt2_adventure.units import count

log = logging.getLogger(__name__)


@dataclass
class Stream:
    """Run these events (a reply is being written)."""

    events: Iterator[Event]
    cancel: CancelToken
    action: Turn | None = None  # the player's turn it answers, to show while it is written


@dataclass
class Info:
    lines: list[str]
    error: bool = False


@dataclass
class Quit:
    pass


@dataclass
class Reloaded:
    """The story was replaced (load) or rewritten (undo, edit...): draw it again."""

    lines: list[str]


@dataclass
class OpenSettings:
    """``/settings`` alone: open the settings screen (a front end without one shows
    ``fallback``, the current values)."""

    fallback: Info


@dataclass
class OpenLoad:
    """``/load`` alone: let the player pick a save (a front end without a save browser shows
    ``fallback``, how to name one)."""

    fallback: Info


@dataclass
class AskEdit:
    """``/edit`` alone: let the player rewrite turn ``index`` (0-based), starting from its
    ``text``, and pass the result to ``Game.edit`` (a front end without dialogs shows
    ``fallback``, how to give the text on the line)."""

    index: int
    text: str
    fallback: Info


@dataclass
class AskReplace:
    """``/save NAME`` where NAME holds another game's save: ask whether to replace it
    (``/save --replace NAME``) or to save beside it as ``free``; a front end without dialogs
    shows ``fallback``, the refusal and how to force it."""

    name: str
    free: str
    other: str  # that save, described: its title, turns and time
    fallback: Info


Outcome = Stream | Info | Quit | Reloaded | OpenSettings | OpenLoad | AskEdit | AskReplace

EXPORT_FORMATS = ("md", "txt", "kobold", "lorebook", "sillytavern")
REPLACE = "--replace"  # /save --replace NAME: replace another game's save
ALT_STEPS = {"": 1, "next": 1, "n": 1, "prev": -1, "previous": -1, "p": -1}
# How long closing waits for a cancelled reply or warm-up to end (they stop within one token
# or one ~0.1 s chunk; only a stuck backend takes longer).
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
        warmup = Warmup.plan(self.session)
        if warmup is None:
            return None
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
            return self._stream(lambda cancel: self.session.retry(
                cancel, after=lambda: writing.wait_written(cancel)))
        self.stop()  # a warm-up: the reply waits for at most one more chunk or token of it
        self.collect_ahead()
        if problem is not None:
            return Info([str(problem)], error=True)
        if command is None:
            text = line[1:] if line.lstrip().startswith("//") else line
            return self._act(text, kind)
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

    def _stream(self, start: Callable[[CancelToken], Iterator[Event]],
                action: Turn | None = None) -> Stream:
        cancel = CancelToken()
        self._cancels.append(cancel)
        return Stream(start(cancel), cancel, action)

    def _act(self, text: str, kind: ActionKind) -> Stream:
        try:
            action = self.session.player_turn(text, kind)
        except SessionError:
            action = None  # the act itself says what is wrong, from the stream
        return self._stream(lambda cancel: self.session.act(text, kind, cancel), action)

    def run(self, command: Command) -> Outcome:
        name, arg = command.name, command.arg
        s = self.session
        if name in ("do", "say", "story"):
            if not arg and name != "story":
                raise CommandError(usage(name))
            return self._act(arg, name)  # type: ignore[arg-type]
        if name == "retry":
            if not s.state.turns or s.state.turns[-1].role != "model":
                raise SessionError("there is no reply to retry")
            return self._stream(s.retry)
        if name == "continue":
            return self._stream(s.continue_)
        if name == "alt":
            step = ALT_STEPS.get(arg.lower())
            if step is None:
                raise CommandError(f"/alt takes next or prev (or nothing, for next), not "
                                   f"{arg!r}")
            last = s.state.turns[-1] if s.state.turns else None
            if last is not None and last.role == "model" and len(last.alternatives) < 2 \
                    and last.ahead:
                s.pick(len(last.alternatives) + 1)  # nothing to flip to yet: show a ready one
            else:
                s.alternative(step)
            return Reloaded([self._alternatives_line()])
        if name == "pick":
            s.pick(self._number(arg, "pick"))
            return Reloaded([self._alternatives_line()])
        if name == "undo":
            s.undo()
            return Reloaded(["undone"])
        if name == "redo":
            s.redo()
            return Reloaded(["redone"])
        if name == "edit":
            return self._edit(arg)
        if name == "remember":
            s.remember(arg)
            return Info([f"remembered: {arg.strip()}"])
        if name == "forget":
            return Info([f"forgot: {s.forget(self._number(arg, 'forget') - 1)}"])
        if name == "pin":
            number = self._number(arg, "pin")
            s.pin(number - 1)
            return Info([f"pinned turn {number} into memory"])
        if name == "memory":
            lines = s.memory_lines()
            return Info([f"{i + 1}. {line}" for i, line in enumerate(lines)] or ["memory is empty"])
        if name == "note":
            return self._note(arg)
        if name == "world":
            return self._world(arg)
        if name == "save":
            return self._save(arg)
        if name == "load":
            if not arg:
                return OpenLoad(self._saves_listed())
            return self._load(arg)
        if name == "export":
            return self._export(arg)
        if name == "settings":
            if not arg:
                return OpenSettings(self._settings_shown())
            return self._settings(arg)
        if name == "help":
            return Info(help_text(arg))
        if name == "quit":
            return Quit()
        raise CommandError(f"/{name} is not available here")

    def _alternatives_line(self) -> str:
        last = self.state.turns[-1]
        ready = self.ready_note()
        return (f"alternative {last.chosen + 1} of {len(last.alternatives)}"
                + (f" · {ready} (/pick {len(last.alternatives) + 1})" if ready else ""))

    # -- commands with arguments ----------------------------------------------------------

    @staticmethod
    def _number(arg: str, name: str) -> int:
        """A number counted from 1 (a turn, a memory line, a reply, a world entry)."""
        if not arg.strip().isdigit():
            raise CommandError(usage(name))
        number = int(arg.strip())
        if number < 1:  # 0 - 1 would be Python's "the last one"
            raise CommandError(f"/{name} {number}: the numbers start at 1 ({usage(name)})")
        return number

    def _edit(self, arg: str) -> Outcome:
        match = re.match(r"(\d+)\s+(.*)", arg, re.DOTALL)
        turns = self.state.turns
        if match:
            return self.edit(self._number(match.group(1), "edit") - 1, match.group(2))
        if not arg.strip() or arg.strip().isdigit():  # "/edit" or "/edit N": ask for the text
            index = self._number(arg, "edit") - 1 if arg.strip() else len(turns) - 1
            if not 0 <= index < len(turns):
                raise CommandError(usage("edit") if not turns else
                                   f"there is no turn {index + 1} (the story has "
                                   f"{count(len(turns), 'turn')})")
            return AskEdit(index, turns[index].text, Info([usage("edit")], error=True))
        return self.edit(len(turns) - 1, arg)

    def edit(self, index: int, text: str) -> Reloaded:
        """Rewrite turn ``index`` (0-based) as ``text``, keeping how the turn joined the story
        (its leading whitespace, its final newline). Every front end edits through here."""
        if not text.strip():
            raise CommandError(usage("edit"))
        turns = self.state.turns
        old = turns[index].text if 0 <= index < len(turns) else ""
        lead = old[: len(old) - len(old.lstrip())]
        self.store.touch(self.state, index)  # an earlier turn: the autosave's journal is told
        self.session.edit(index, lead + text.strip() + ("\n" if old.endswith("\n") else ""))
        return Reloaded([f"edited turn {index + 1}"])

    def _note(self, arg: str) -> Outcome:
        if not arg:
            note = self.state.authors_note
            return Info([f"author's note: {note}" if note else "no author's note"])
        self.session.set_note("" if arg == "-" else arg)
        return Info(["author's note cleared" if arg == "-" else f"author's note: {arg}"])

    def _world(self, arg: str) -> Outcome:
        action, _, rest = arg.partition(" ")
        if not arg:
            entries = self.state.world
            return Info([f"{i + 1}. [{', '.join(e.keys) or 'always'}] {e.content}"
                         for i, e in enumerate(entries)] or ["no world info"])
        if action == "add" and "=" in rest:
            keys, _, content = rest.partition("=")
            key_list = tuple(k.strip() for k in keys.split(",") if k.strip())
            if not key_list or not content.strip():
                raise CommandError(usage("world"))
            index = self.session.add_world(WorldEntry(keys=key_list, content=content.strip()))
            return Info([f"world info {index + 1} added"])
        if action == "remove":
            gone = self.session.remove_world(self._number(rest, "world") - 1)
            return Info([f"removed world info: {gone.content}"])
        if action == "import" and rest.strip():
            return self._world_import(player_path(rest.strip()))
        raise CommandError(usage("world"))

    def _world_import(self, path: Path) -> Info:
        """A lorebook's entries added to the game (macros with the chat's names)."""
        from gpt2_adventure.story.lorebooks.attach import fresh, state_names
        from gpt2_adventure.story.lorebooks.read import read_lorebook

        book = read_lorebook(path, state_names(self.state))
        new, skipped = fresh(self.state.world, book.entries)
        if new:
            self.session.replace_world([*self.state.world, *new])
        entries = "world entry" if len(new) == 1 else "world entries"
        lines = [f"added {len(new)} {entries} from {path.name} ({book.format})"]
        lines += [f"skipped {skipped} already there"] if skipped else []
        lines += [f"note: {note}" for note in book.notes]
        lines += [f"dropped: {part}" for part in book.dropped]
        return Info(lines)

    def _save(self, arg: str) -> Outcome:
        """``/save [--replace] [NAME]``. A name belongs to one game: another game's save is
        replaced only when asked to. Without a name: the name this game was saved or loaded
        as, else its title (numbered when another game has that name)."""
        replace = arg == REPLACE or arg.startswith(REPLACE + " ")
        name = (arg[len(REPLACE):] if replace else arg).strip() or self._default_save_name()
        try:
            saved = self.store.save_named(self.state, name, replace=replace)
        except NameTaken as taken:
            refusal = Info([str(taken), taken.hint or ""], error=True)
            return AskReplace(taken.name, taken.free, describe(taken.other), refusal)
        self.save_name = saved.path.stem
        return Info(saved.lines())

    def _default_save_name(self) -> str:
        if self.save_name is not None:
            owner = self.store.owner(self.save_name)
            if owner is None or owner.game_id == self.state.id:
                return self.save_name
        from gpt2_adventure.story.importers.common import save_name

        mine = self.store.names_of(self.state.id)
        return mine[0] if mine else self.store.free_name(save_name(self.state.title),
                                                         self.state.id)

    def _saves_listed(self, most: int = 20) -> Info:
        """What ``/load`` alone shows without a save browser: the newest saves to name."""
        found = [i for i in self.store.list() if not i.error]
        if not found:
            return Info(["no saves yet: /save NAME makes one"])
        lines = [f"{i.name} — {describe(i)}" for i in found[:most]]
        more = [f"… and {count(len(found) - most, 'older save')}"] if len(found) > most else []
        return Info(["load one with /load NAME:", *lines, *more])

    def _load(self, arg: str) -> Outcome:
        try:
            path = self.store.locate(arg)
        except UserError as error:  # the CLI's hint (saves list) is not the one in a game
            if error.hint and "saves list" in error.hint:
                error.hint = "/load alone lists the saves"
            raise
        state = self.store.load(path)
        if state.id != self.state.id:
            lock = self.store.hold(state.id).acquire()  # refused if open elsewhere
            self.close()
            self._lock = lock
        self.session.replace_state(state)
        self.save_name = path.stem if path.parent == self.store.saves_dir else None
        warm = self.restore_model_state()
        return Reloaded([f"loaded {arg}: {state.title}" + (" (warm)" if warm else "")])

    def _export(self, arg: str) -> Outcome:
        fmt, _, target = arg.partition(" ")
        if fmt not in EXPORT_FORMATS or not target.strip():
            raise CommandError(usage("export"))
        path = player_path(target.strip())
        if path.is_dir():
            raise UserError("this is a folder; give a file name to export to", path)
        if path.exists():  # (a dangling link is replaced by the file, never followed)
            raise UserError("the file exists; choose another name", path)
        if not path.parent.is_dir():
            raise UserError("the folder to export to does not exist", path.parent)
        from gpt2_adventure.fileio import atomic_write

        try:
            atomic_write(path, self._render(fmt).encode("utf-8", "replace"), mode=0o644)
        except OSError as error:
            raise UserError(f"cannot write the export: {error.strerror or error}",
                            path) from None
        return Info([f"exported: {path}"])

    def _render(self, fmt: str) -> str:
        if fmt == "lorebook":
            from gpt2_adventure.story.lorebooks.sillytavern import export_world_info

            return export_world_info(self.state.world, self.state.title)
        if fmt == "kobold":
            from gpt2_adventure.story.importers.kobold import export_kobold

            text, _notes = export_kobold(self.state)
            return text
        if fmt == "sillytavern":  # a chat only (anything else is refused, by name)
            from gpt2_adventure.story.importers.sillytavern_chat import export_chat

            text, _notes = export_chat(self.state)
            return text
        from gpt2_adventure.story.export import export_markdown, export_text

        return export_markdown(self.state) if fmt == "md" else export_text(self.state)

    def _settings_shown(self) -> Info:
        """The sampling settings as the config file writes them (true, [], "text")."""
        shown = [f"{spec.name} = {toml_value(schema.plain(spec, value))}"
                 for spec, value in schema.rows(self.session.sampling)
                 if spec.kind != "bias"]
        builder = self.session.builder  # [memory]
        shown += [f"recall = {toml_value(builder.recall_on)}",
                  f"recall_share = {toml_value(builder.recall_share)}",
                  f"lore_mid_reply = {toml_value(builder.lore_mid_reply)}"]
        return Info(shown + ["change one with: /settings NAME VALUE"])

    def _settings(self, arg: str) -> Outcome:
        name, _, value = arg.partition(" ")
        memory = {"recall": "recall_on", "recall_share": "recall_share",  # [memory]
                  "lore_mid_reply": "lore_mid_reply"}
        if name in memory and value.strip():
            spec = schema.find(MemorySettings, name)
            try:
                parsed = schema.from_text(spec, value.strip()) if spec else None
            except schema.SettingError as error:
                raise CommandError(str(error)) from None
            setattr(self.session.builder, memory[name], parsed)
            return Info([f"{name} = {toml_value(parsed)}"])
        typed = {s.name: s for s in schema.specs(Sampling) if s.kind in schema.TEXT_KINDS}
        if name not in typed or not value.strip():
            names = ", ".join([*typed, *memory])
            raise CommandError(f"/settings NAME VALUE, NAME one of: {names}")
        try:
            parsed = schema.from_text(typed[name], value.strip())
        except schema.SettingError as error:
            raise CommandError(str(error)) from None
        self.session.sampling = dataclasses.replace(self.session.sampling, **{name: parsed})
        return Info([f"{name} = {toml_value(parsed)}"])
