"""A game in progress: the player's actions, the model's replies, and the history around them.

Generation methods are generators of events (``story/events.py``), so a UI can stream; how
each mode turns text into turns is ``story/turns.py``. The story changes only when a
generator runs to its end; a cancelled turn leaves the story as it was and waits in
``pending`` for the player to keep or drop it.

Who does what: the ``Session`` is the story and the model's view of it (prompt layout,
replies, history, memory); ``game.Game`` wraps it with the save (lock, autosave, stored model
state) and the command line; the front ends render, and change it only through ``Game`` or
the methods here that check its owner (``story/owner.py``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import replace
from typing import Concatenate, ParamSpec, TypeVar

from gpt2_adventure.engine.backend import AheadRequest, Backend, CancelToken, Handle
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.autolore import AutoLore, numbered
from gpt2_adventure.story.choices import AheadJob, Choices
from gpt2_adventure.story.context import ContextBuilder, Plan, Prompt
from gpt2_adventure.story.events import (
    Done,
    Event,
    Pending,
    Piece,
    Restart,
    SessionError,
    Target,
)
from gpt2_adventure.story.midreply import MidReply
from gpt2_adventure.story.model import ActionKind, StoryState, Turn, WorldEntry
from gpt2_adventure.story.owner import NotOwner, Owner
from gpt2_adventure.story.postprocess import clean_reply, loop_reason
from gpt2_adventure.story.turns import player_turn, reply_cue, reply_turn, stop_strings

REPLY = "a reply being written"  # what holds the owner while a reply's stream runs
P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D")


def _changes(method: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Session, P], R]:
    """A change to the story: made holding the session's owner, refused at once
    (``NotOwner``) while another thread holds it."""
    @functools.wraps(method)
    def held(self: Session, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._owner.hold(f"Session.{method.__name__}"):
            return method(self, *args, **kwargs)
    return held


def _when_free(default: D) -> Callable[[Callable[Concatenate[Session, P], R]],
                                       Callable[Concatenate[Session, P], R | D]]:
    """Like ``_changes``, but while another thread holds the owner (a reply is being
    written) it is not an error: the answer is ``default`` (nothing to warm, nothing taken in)."""
    def wrap(method: Callable[Concatenate[Session, P], R]
             ) -> Callable[Concatenate[Session, P], R | D]:
        @functools.wraps(method)
        def held(self: Session, /, *args: P.args, **kwargs: P.kwargs) -> R | D:
            if self.writing or not self._owner.try_hold(f"Session.{method.__name__}"):
                return default
            try:
                return method(self, *args, **kwargs)
            finally:
                self._owner.release()
        return held
    return wrap


def _looping(cleaned: str, recent: Sequence[str]) -> str | None:
    """Why a cleaned reply must be written again (a loop, or nothing at all), or None."""
    return loop_reason(cleaned, recent) if cleaned.strip() else "an empty reply"


def _stronger(sampling: Sampling, looping: str, tokenize: Callable[[str], list[int]]
              ) -> Sampling:
    """Sampling for a re-roll: more repetition penalty, and the looping words discouraged."""
    bias = dict(sampling.logit_bias)
    for token in tokenize(" " + looping)[:8]:
        bias[token] = min(bias.get(token, 0.0), -4.0)
    return replace(sampling, repeat_penalty=max(sampling.repeat_penalty, 1.0) + 0.15,
                   repeat_last_n=max(sampling.repeat_last_n, 256), logit_bias=bias)


class Session:
    """A story played with a model.

    Who may touch it when: one thread at a time holds its ``Owner`` (``story/owner.py``). A
    reply is written by a generator (``act``, ``retry``, ``continue_``), and from its first
    step until its last event has been handed on, that generator owns the session, on
    whatever thread drives it (the TUI's generation worker). Meanwhile ``writing`` is True, a
    second reply fails at once, and every change from another thread fails with
    ``NotOwner``: each changing method holds the owner for its own length (``_changes``), so
    the front ends call them between replies (``Game.handle`` refuses lines meanwhile).
    Warm-up, the next prompt evaluated ahead while the player types, runs only when the
    session is idle: ``warm_prompt`` lays the prompt out (returning None while a reply is
    written) on the caller's thread, and ``prefill`` hands it to a worker, where it touches
    only the backend (whose lock queues it with a reply; its cancel token stops it).
    """

    def __init__(self, state: StoryState, backend: Backend, sampling: Sampling, *,
                 max_rerolls: int = 2, on_change: Callable[[StoryState], None] | None = None,
                 builder: ContextBuilder | None = None) -> None:
        self.state = state
        self.backend = backend
        self.sampling = sampling
        self.max_rerolls = max_rerolls
        self.on_change = on_change
        self.builder = builder or ContextBuilder(backend.tokenize, backend.n_ctx)
        self.pending: Pending | None = None
        self.last_prompt: Prompt | None = None
        self._owner = Owner()  # held by a reply's stream, or by one change at a time
        # The last reply's alternatives and the replies written ahead for it.
        self._choices = Choices(use=self._use_written)
        self.lore = AutoLore()  # the automatic world entries (state.lore)
        self._update_lore()
        self.mid_reply = MidReply()  # world info a reply names, put in view mid-reply

    @property
    def writing(self) -> bool:
        """A reply is being written: its generator owns the session until it ends."""
        return self._owner.holder == REPLY

    def _owned(self, events: Generator[Event, None, None]) -> Iterator[Event]:
        """Run ``events`` as the session's owner. ``Done`` is handed on after the generator
        has finished and let go, so whoever sees it finds the session idle (to warm it up)."""
        try:
            self._owner.acquire(REPLY, again=False)
        except NotOwner:
            events.close()
            if self.writing:
                raise SessionError("a reply is already being written") from None
            raise
        done: Done | None = None
        try:
            for event in events:
                if isinstance(event, Done):
                    done = event  # the last event: the generator only tidies up after it
                else:
                    yield event
        finally:
            events.close()  # stopped early: its clean-up runs now, while still the owner
            self._owner.release(anywhere=True)
        if done is not None:
            yield done

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no reply is being written (one that was cancelled has tidied up: a
        player's turn nothing came of is gone again); False if ``timeout`` ran out first."""
        return self._owner.wait_free(timeout)

    def player_turn(self, text: str, kind: ActionKind) -> Turn | None:
        """The turn the player's input becomes (None for empty input), not yet in the story."""
        return player_turn(self.state, text, kind)

    # -- generation -----------------------------------------------------------------------

    def _recent_replies(self, n: int = 3) -> list[str]:
        return [t.text for t in self.state.turns if t.role == "model"][-n:]

    def _generate(self, cancel: CancelToken | None, tail: str) -> Iterator[Event]:
        sampling = self.sampling
        recent = self._recent_replies()
        whole = self.state.mode != "story"
        stops = stop_strings(self.state)
        for attempt in range(self.max_rerolls + 1):
            prompt = self.builder.build(self.state, sampling.max_tokens, tail)
            self.last_prompt = prompt
            raw = ""
            for event in self.mid_reply.stream(self.backend, self.builder, self.state, prompt,
                                               tail, sampling, stops, cancel):
                raw += event.text if isinstance(event, Piece) else ""
                yield event
            stats = self.mid_reply.stats
            reason = stats.finish_reason
            if reason == "cancelled" or (cancel is not None and cancel.cancelled):
                yield Done(clean_reply(raw, stops, whole_sentences=False), "cancelled",
                           cancelled=True, rerolls=attempt, stats=stats)
                return
            cleaned = clean_reply(raw, stops, whole_sentences=whole)
            looping = _looping(cleaned, recent)
            if looping is None or attempt == self.max_rerolls:
                yield Done(cleaned, reason, rerolls=attempt, stats=stats)
                return
            yield Restart(looping)
            sampling = _stronger(sampling, cleaned.strip()[:80], self.backend.tokenize)

    def _changed(self, keep_ahead: bool = False) -> None:
        """The story changed: save it. Replies written ahead answer the story as it was, so
        they go too, unless the change leaves the last reply's prompt as it was."""
        if not keep_ahead:
            self._choices.drop(self.state.turns)
        self._update_lore()
        if self.on_change is not None:
            self.on_change(self.state)

    def _update_lore(self) -> None:
        self.lore.update(self.state, self.builder.auto_lore)

    def act(self, text: str, kind: ActionKind = "do",
            cancel: CancelToken | None = None) -> Iterator[Event]:
        """The player acts; the model answers. Empty input just asks the model to go on."""
        return self._owned(self._act(text, kind, cancel))

    def _act(self, text: str, kind: ActionKind,
             cancel: CancelToken | None) -> Generator[Event, None, None]:
        self.pending = None
        turn = player_turn(self.state, text, kind)
        turns = self.state.turns
        if turn is not None:
            turns.append(turn)
        finished = False
        try:
            for event in self._generate(cancel, reply_cue(self.state)):
                if isinstance(event, Done):
                    if event.cancelled:
                        self.pending = Pending(turn, event.text, "new")
                    else:
                        self._commit("new", event.text, finished=True)
                        finished = True
                yield event
        finally:
            if not finished and turn is not None and turns and turns[-1] is turn:
                turns.pop()  # nothing came of it: the story is as it was

    def _add_reply(self, cleaned: str) -> None:
        text, speaker = reply_turn(self.state, cleaned)
        self._adopt_reply(text)
        self.state.turns.append(Turn(role="model", text=text, speaker=speaker,
                                     alternatives=[text]))

    def _adopt_reply(self, text: str) -> None:
        tail = reply_cue(self.state)  # the cue the prompt ended with (a chat speaker's name)
        if text.startswith(tail):
            self._adopt_tokens(text, text[len(tail):], before=tail)

    def _adopt_tokens(self, turn_text: str, written: str, before: str = "") -> None:
        """Let the next prompt spell ``turn_text`` with the tokens the model wrote (``written``
        is its part that came from the model; ``before`` what the turn held already)."""
        tokens = self.mid_reply.tokens_for(self.backend, written)
        if tokens is None:
            return
        prefix = self.builder.tokens(before) if before else []
        self.builder.adopt(turn_text, prefix + tokens)

    def retry(self, cancel: CancelToken | None = None,
              after: Callable[[], None] | None = None) -> Iterator[Event]:
        """A new reply to the last action; the earlier ones stay as alternatives. ``after``:
        first wait for this (as the owner: a reply being written ahead to finish), then take
        in the replies written ahead."""
        return self._owned(self._retry(cancel, after))

    def _retry(self, cancel: CancelToken | None,
               after: Callable[[], None] | None = None) -> Generator[Event, None, None]:
        if after is not None:
            after()
            self._collect_ahead()
        turns = self.state.turns
        if not turns or turns[-1].role != "model":
            raise SessionError("there is no reply to retry")
        self.pending = None
        if self._choices.ready(turns):  # written while the player read: shown at once
            first = self._choices.first_ready(turns)
            last = turns.pop()  # while it is shown, the story is as during a retry
            try:
                yield Piece(first)
            finally:
                turns.append(last)
            yield Done(self._show_ahead(), "ahead")
            return
        last = turns.pop()
        try:
            for event in self._generate(cancel, reply_cue(self.state)):
                if isinstance(event, Done):
                    if event.cancelled:
                        self.pending = Pending(None, event.text, "alternative")
                    else:
                        turns.append(last)
                        self._commit("alternative", event.text, finished=True)
                yield event
        finally:
            if not turns or turns[-1] is not last:
                turns.append(last)

    def _show_ahead(self) -> str:
        """Show the last reply's first reply written ahead (``Choices.show``)."""
        text = self._choices.show(self.state.turns)
        self._changed(keep_ahead=True)
        return text

    def _use_written(self, text: str, handle: Handle) -> None:
        """A reply written ahead is shown: the next turn continues its KV cache, spelled
        with the tokens the model wrote (``Choices``' hook)."""
        self.backend.use_written(handle)
        self._adopt_reply(text)

    def continue_(self, cancel: CancelToken | None = None) -> Iterator[Event]:
        """More of the last reply (or a new reply when the player spoke last)."""
        return self._owned(self._continue(cancel))

    def _continue(self, cancel: CancelToken | None) -> Generator[Event, None, None]:
        turns = self.state.turns
        if not turns or turns[-1].role != "model":
            yield from self._act("", "story", cancel)
            return
        self.pending = None
        for event in self._generate(cancel, ""):
            if isinstance(event, Done):
                if event.cancelled:
                    self.pending = Pending(None, event.text, "extend")
                else:
                    self._commit("extend", event.text, finished=True)
            yield event

    def _extend(self, turn: Turn, more: str) -> None:
        if not more.strip():
            return
        self._adopt_tokens(turn.text + more, more, before=turn.text)
        turn.text += more  # (the chosen alternative: ``Turn.text`` is it)

    def _commit(self, target: Target, cleaned: str, *, finished: bool,
                action: Turn | None = None) -> None:
        """The one way a reply joins the story, then the story is saved: as a new turn (after
        the player's ``action`` when it is not in the story yet), as the last reply's new
        alternative, or as more of it. ``finished``: written to its end (else kept from a
        cancelled one, which also takes away the redo steps). A finished reply or alternative
        answers the prompt the replies written ahead answer, so they stay (a reply new to
        them, such as one read from a save, gets them); anything else makes them stale."""
        turns = self.state.turns
        if target == "new":
            if action is not None:
                turns.append(action)
            self._add_reply(cleaned)
        elif target == "alternative":
            last = turns[-1]
            text, _ = reply_turn(self.state, cleaned)
            if finished:
                self._adopt_reply(text)
            last.alternatives.append(text)
            last.choose(len(last.alternatives) - 1)
        else:
            self._extend(turns[-1], cleaned)
        if target == "new" or not finished:
            self.state.redo.clear()
        keep = finished and target != "extend"
        if keep and self._choices.turn is not turns[-1] and self.last_prompt is not None:
            self._choices.start(turns[-1], self.last_prompt.tokens)
        self._changed(keep_ahead=keep)

    @_changes
    def keep_pending(self) -> None:
        """Keep what a cancelled generation wrote so far."""
        pending, self.pending = self.pending, None
        if pending is None or not pending.text.strip():
            return
        turns = self.state.turns
        last_is_reply = bool(turns) and turns[-1].role == "model"
        if pending.target == "new" or last_is_reply:
            self._commit(pending.target, pending.text, finished=False,
                         action=pending.action)

    @_changes
    def drop_pending(self) -> None:
        self.pending = None

    # -- history --------------------------------------------------------------------------

    @_changes
    def alternative(self, step: int = 1) -> str:
        """Flip the last reply between its alternatives (with none to flip to yet, show a
        ready one written ahead); returns the one now shown."""
        text = self._choices.flip(self.state.turns, step)
        self._changed(keep_ahead=True)
        return text

    @property
    def ready(self) -> int:
        """How many replies written ahead the last reply has that were not shown yet."""
        return self._choices.ready(self.state.turns)

    @_changes
    def pick(self, number: int) -> str:
        """Show reply ``number`` of the last turn: 1.. the ones shown, then the ones
        written ahead (which then join the shown ones)."""
        text = self._choices.pick(self.state.turns, number)
        self._changed(keep_ahead=True)
        return text

    def choices_line(self) -> str:
        """What ``/alt`` and ``/pick`` tell: which reply is shown, of how many, how many wait."""
        return self._choices.summary(self.state.turns)

    @_changes
    def undo(self) -> list[Turn]:
        """Take back the last exchange (the reply and the action that asked for it)."""
        turns = self.state.turns
        if len(turns) <= 1 or turns[-1].role == "opening":
            raise SessionError("nothing to undo")
        step = [turns.pop()]
        if step[0].role == "model" and turns and turns[-1].role == "player":
            step.insert(0, turns.pop())
        self.state.redo.append(step)
        self._changed(keep_ahead=True)  # the reply now last keeps what it had
        return step

    @_changes
    def redo(self) -> list[Turn]:
        if not self.state.redo:
            raise SessionError("nothing to redo")
        step = self.state.redo.pop()
        self.state.turns.extend(step)
        self._changed(keep_ahead=True)
        return step

    @_changes
    def replace_state(self, state: StoryState) -> None:
        """Play another story (a load): its prompt is laid out anew and nothing is pending."""
        self.state = state
        self.builder.reset()
        self._update_lore()
        self.pending = None
        self._choices.forget()  # (its staleness count goes on: a late reply of the old is stale)

    @_changes
    def restore_layout(self, spelled: Sequence[tuple[str, list[int]]], plan: Plan | None
                       ) -> None:
        """The prompt as a stored model state holds it: turns spelled with the tokens the
        model wrote (``ContextBuilder.adopt``) and its layout (None: laid out anew)."""
        for text, tokens in spelled:
            self.builder.adopt(text, tokens)
        if plan is not None:
            self.builder.plan = plan

    @_changes
    def edit(self, index: int, text: str) -> None:
        """Replace the text of any turn (what the model will see from now on)."""
        turn = self._turn(index)
        self.lore.changed_at(index)
        turn.text = text  # (the chosen alternative, for a reply)
        if turn.role == "player":
            turn.raw = text.strip().removeprefix(">").strip()
        # The last reply's own text is not in the prompt its alternatives answer.
        self._changed(keep_ahead=turn is self.state.turns[-1] and turn.role == "model")

    def _turn(self, index: int) -> Turn:
        try:
            return self.state.turns[index]
        except IndexError:
            raise SessionError(f"there is no turn {index + 1}") from None

    # -- memory, note, world info ---------------------------------------------------------

    def memory_lines(self) -> list[str]:
        return [line for line in self.state.memory.splitlines() if line.strip()]

    @_changes
    def remember(self, line: str) -> None:
        line = " ".join(line.split())
        if not line:
            raise SessionError("nothing to remember")
        self.state.memory = "\n".join([*self.memory_lines(), line])
        self._changed()

    @_changes
    def forget(self, index: int) -> str:
        lines = self.memory_lines()
        if not 0 <= index < len(lines):
            raise SessionError(f"there is no memory line {index + 1}")
        gone = lines.pop(index)
        self.state.memory = "\n".join(lines)
        self._changed()
        return gone

    @_changes
    def pin(self, index: int) -> None:
        """Copy a turn into memory, so it stays in view."""
        text = re.sub(r"^\s*>\s*", "", self._turn(index).text).strip()
        self.remember(text)

    @_changes
    def configure(self, sampling: Sampling | None = None, /, **layout: object) -> None:
        """Settings changed in an open game (``/settings``, the Settings screen), for the
        replies from now on: the sampling, and the prompt layout's ``ContextBuilder``
        settings by name (``recall_on``, ``recall_share``, ``auto_lore``...)."""
        for name in layout:
            if not hasattr(self.builder, name):
                raise AttributeError(f"the prompt layout has no setting {name!r}")
        if sampling is not None:
            self.sampling = sampling
        for name, value in layout.items():
            setattr(self.builder, name, value)
        if layout:
            self._update_lore()  # (automatic lore on or off shows at once in /world, F2)

    @_changes
    def set_note(self, note: str) -> None:
        self.state.authors_note = note.strip()
        self._changed()

    @_changes
    def add_world(self, entry: WorldEntry) -> int:
        self.state.world.append(entry)
        self._changed()
        return len(self.state.world) - 1

    @_changes
    def replace_world(self, entries: list[WorldEntry]) -> None:
        self.state.world = list(entries)
        self.builder.plan = Plan(window_start=self.builder.plan.window_start)
        self._changed()

    @_changes
    def set_memory(self, memory: str) -> None:
        self.state.memory = memory.strip()
        self._changed()

    @_changes
    def remove_world(self, index: int) -> WorldEntry:
        """Remove entry ``index`` as ``/world`` numbers them (``autolore.numbered``): one of
        the game's own, or an automatic one, whose name then stays dropped."""
        entries = numbered(self.state)
        if not 0 <= index < len(entries):
            raise SessionError(f"there is no world entry {index + 1}")
        gone, automatic = entries[index]
        if automatic is None:
            self.state.world.pop(index)
            # Indices after it shift: lay the world info out anew at the next turn.
            self.builder.plan = Plan(window_start=self.builder.plan.window_start)
        else:
            self.state.dropped_lore.append(gone.keys[0])
        self._changed()
        return gone

    @_changes
    def keep_world(self, index: int) -> int:
        """Make automatic entry ``index`` (as ``/world`` numbers them) one of the game's own;
        returns its new index."""
        entries = numbered(self.state)
        if not 0 <= index < len(entries) or entries[index][1] is None:
            raise SessionError(f"world entry {index + 1} is not an automatic one")
        self.state.world.append(entries[index][0])
        self._changed()  # its automatic entry goes: the game has one for its name now
        return len(self.state.world) - 1

    def warm(self, cancel: CancelToken | None = None, reserve: int = 48) -> int:
        """While the player types: lay out the next prompt (leaving ``reserve`` tokens for
        their action) and let the backend evaluate it, so the reply starts after only the
        action is evaluated. A trim the next turn would need happens now instead. Both
        halves at once; a front end runs ``warm_prompt`` and ``prefill`` apart."""
        tokens = self.warm_prompt(reserve)
        return 0 if tokens is None else self.prefill(tokens, cancel)

    @_when_free(None)
    def warm_prompt(self, reserve: int = 48) -> list[int] | None:
        """The next prompt for a warm-up, laid out now; None when there is nothing to warm
        (the backend cannot evaluate ahead: laying the prompt out would only move the plan)
        or a reply is being written (warm-up runs only while the session is idle)."""
        if not self.backend.supports_prefill:
            return None
        # Without the chat speaker cue: the player's line comes before it next turn.
        return self.builder.build(self.state, self.sampling.max_tokens + reserve).tokens

    @_when_free(None)
    def spare_prompt(self, reserve: int = 48) -> list[int] | None:
        """The story as the next trim will lay it out, to evaluate ahead in the backend's
        spare sequence while the player reads (None: no trim is near, the backend has no
        spare, or a reply is being written). Laid out here; ``prefill_spare`` on a worker."""
        if not self.backend.supports_spare:
            return None
        return self.builder.next_window(self.state, self.sampling.max_tokens + reserve)

    @_when_free(0)
    def spare_first(self, spare: Sequence[int], reserve: int = 48, within: float = 2.0) -> int:
        """How much of ``spare`` (the window after the next trim, as laid out) the spare
        sequence should hold before replies are written ahead this time (0: no need to go
        first). Within ``within`` exchanges of the trim: all of it; before that, what it
        lacks spread over the exchanges left until then. On a big model writing ahead can
        take all the time the player reads, and the trim would evaluate the window at the
        reply (``Warmup``)."""
        reply = self.sampling.max_tokens + reserve
        left = self.builder.exchanges_to_trim(self.state, reply)
        held = self.backend.spare_holds(spare)
        want = len(spare) if left <= within else (
            held + math.ceil((len(spare) - held) / max(1.0, left - within)))
        return want if want > held else 0

    def prefill_spare(self, tokens: Sequence[int], cancel: CancelToken | None = None) -> int:
        return int(self.backend.prefill_spare(tokens, cancel))

    def prefill(self, tokens: Sequence[int], cancel: CancelToken | None = None) -> int:
        """Evaluate a ``warm_prompt`` (on a worker): only the backend is touched; a reply
        waits for at most one chunk of it once ``cancel`` is set."""
        return int(self.backend.prefill(tokens, cancel))

    # -- replies written ahead (see story/choices.py) ---------------------------------------

    @_when_free(None)
    def ahead_job(self) -> AheadJob | None:
        """What to write ahead for the last reply while the player reads (``Choices.job``);
        None when there is nothing to write, or a reply is being written."""
        if not self.backend.supports_write_ahead:
            return None
        return self._choices.job(self.state, self.sampling, stop_strings(self.state))

    def write_ahead(self, job: AheadJob, cancel: CancelToken | None = None,
                    on_ready: Callable[[], None] | None = None) -> int:
        """Write a job's replies (on a worker: only the backend is touched), posting each to
        the choices' inbox for ``collect_ahead`` and calling ``on_ready`` when it is there;
        returns how many."""
        def judge(text: str, rerolls: int) -> Sampling | None:
            cleaned = clean_reply(text, job.stops, whole_sentences=job.whole)
            looping = _looping(cleaned, job.recent)
            if looping is None or rerolls >= self.max_rerolls:
                return None
            return _stronger(job.sampling, cleaned.strip()[:80], self.backend.tokenize)

        written = 0
        request = AheadRequest(job.prompt, [job.sampling] * job.count, job.stops, job.keep,
                               judge)
        for reply in self.backend.write_ahead(request, cancel):
            cleaned = clean_reply(reply.text, job.stops, whole_sentences=job.whole)
            self._choices.post(job.generation, cleaned, reply.handle)
            written += 1
            if on_ready is not None:
                on_ready()
        return written

    @_when_free(0)
    def collect_ahead(self) -> int:
        """Take in the replies a worker has written ahead (on the thread that owns the story,
        while idle): they join the last reply's ``ahead`` list; returns how many."""
        return self._collect_ahead()  # (while a reply is written: once it is done, by it)

    def _collect_ahead(self) -> int:
        added = self._choices.collect(self.state)
        if added:
            self._changed(keep_ahead=True)
        return added

    @_changes
    def preview(self, text: str = "", kind: ActionKind = "do") -> Prompt:
        """The prompt the next reply would get, without moving anything (for a context meter);
        with ``text``, the prompt of the reply to that action, which is not taken: the story
        is as it was afterwards, and nothing is saved (``/context ACTION``)."""
        saved = replace(self.builder.plan)
        turns = self.state.turns
        action = player_turn(self.state, text, kind) if text else None
        if action is not None:
            turns.append(action)
        try:
            return self.builder.build(self.state, self.sampling.max_tokens, reply_cue(self.state))
        finally:
            if action is not None and turns and turns[-1] is action:
                turns.pop()
            self.builder.plan = saved
