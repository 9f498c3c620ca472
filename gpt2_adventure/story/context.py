"""Build the prompt GPT-2 sees, within its context, keeping consecutive prompts prefix-stable.

llama.cpp re-evaluates a prompt only from the first token that differs from the previous
one, so the layout is chosen to change as little as possible from turn to turn:

    pinned (chat persona, examples, memory) | world info | story ... | note | last few turns
                                                 (late world info and recall among the turns)

* Every part is tokenized on its own and the token lists are joined, so an unchanged part
  always yields the same tokens.
* Each part has a budget, so that a character card cannot crowd the chat out of GPT-2's
  1,024 tokens: persona and memory share ``pinned_share`` of the context (the end cut off,
  at a line end when one is near), example dialogue gets ``examples_share`` (whole
  examples, in order; the rest are left out, as SillyTavern does), world info
  ``world_share`` (an entry too long for what is left waits); the story gets the rest.
* Old turns are trimmed in one large chunk (down to ``low_water`` of the context) when the
  prompt would overflow, not one turn per turn. Everything a trim keeps is evaluated again
  (GPT-2's positions are absolute), so each trim costs about the mark and comes after the
  context less the mark has filled: 0.4 rather than half (as before 2026-12-08) evaluates
  a quarter fewer tokens over a long adventure (benchmarks/memory.py: 1.77 against 2.36
  per new token, spare sequence included) for ~6 % less story in view on average.
* The author's note is placed ``note_depth`` turns from the end at each trim and then stays
  put while the story grows under it, so it does not invalidate the prefix every turn
  (``note_max_depth`` can bound how far it drifts). Measured on a 200-turn adventure
  (benchmarks/prefix_stability.py): moving it only at trims, with trims down to half the
  context, reuses more of the prompt and keeps the context fuller than any fixed drift
  bound tried.
* World info found at a trim goes to the top block, where it stays until the next trim.
  An entry that turns up mid-window is inserted where the story has got to (before the
  player's newest line) and stays there: only the entry itself is new to the model, where
  putting it higher up would re-evaluate every turn below it.
* Automatic lore (``story/autolore.py``: entries for the names the story introduces, in
  ``state.lore``) is world info too, under the same ``world_share``: triggered after the
  player's entries (theirs come first in the top block and among those found together), so
  when the share is short, the automatic ones wait; together they fill at most
  ``auto_lore_share`` of the context (their names come thick and fast on a small model, and
  each entry fills the window, and so trims it, sooner). The plan holds automatic entry ``i`` as
  ``~i`` (a negative index), so the player's new entries never shift it. An automatic entry
  keeps up with the story (its latest sentence changes), so every placed entry is shown as
  it read when it was placed (``Plan.world_text``) until the next trim lays it out afresh:
  the prompt before it stays as the model has it. One whose every sentence is still in view
  is not triggered: it would only repeat them.
* Recall (``story/recall/``) works the same way: passages of turns out of view that the
  newest action and the last turns name go where the story has got to, at most
  ``recall_per_turn`` new ones a prompt, within ``recall_share`` of the context and the
  room the prompt has left, never one whose text is still in view. They stay where they
  were put until the next trim, which lays the window out afresh and recalls anew. When the
  player's action names someone whose passage finds no room, the trim comes at once: a
  player who names the blacksmith from forty turns ago expects the model to know him.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import TYPE_CHECKING, Any, NamedTuple

from gpt2_adventure.story.model import StoryState, WorldEntry
from gpt2_adventure.story.recall.choose import choose, still_placed, to_give_up
from gpt2_adventure.story.recall.passages import sentences

if TYPE_CHECKING:
    from gpt2_adventure.story.recall.recall import Recall

Tokenize = Callable[[str], list[int]]


@dataclass
class Plan:
    """Where things sit in the prompt; kept between turns so the prompt stays stable."""

    window_start: int = 0  # first turn in view
    note_at: int | None = None  # the note block goes before this turn
    top_world: tuple[int, ...] = ()  # world entries in the top block (indices into state.world)
    # world entries found mid-window: (entry index, the turn it goes before)
    late_world: tuple[tuple[int, int], ...] = ()
    # The next trim, fixed ahead of time (``ContextBuilder.next_window``): the world entries
    # on top (``next_laid``) and the first turn it keeps (fixed later), so its prompt can be
    # evaluated before it is needed.
    next_laid: bool = False
    next_start: int | None = None
    next_top_world: tuple[int, ...] = ()
    # ...and those entries' text as it read then: the trim shows them so (an automatic entry
    # keeps up with the story), so the window evaluated ahead stays its prefix.
    next_world_text: dict[int, str] = field(default_factory=dict)
    # recalled passages: (turn it comes from, its sentence there, the turn it goes before,
    # its text), in the order they were placed
    recall: tuple[tuple[int, int, int, str], ...] = ()
    # placed world entries' text as it was placed (by index; automatic ones change later)
    world_text: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Plan:
        """The layout as ``dataclasses.asdict`` wrote it (the stored model state keeps it, so
        a resumed game lays its prompt out as the cache holds it). Bad data raises KeyError,
        TypeError or ValueError; a recalled passage that no longer matches its turn is
        dropped by the next build."""
        def text(value: object) -> str:
            if not isinstance(value, str):
                raise TypeError("a recalled passage is text")
            return value

        shown = data.get("world_text", {})  # JSON keeps the indices as text
        if not isinstance(shown, dict):
            raise TypeError("world_text is a table")

        return cls(window_start=int(data["window_start"]),
                   note_at=None if data["note_at"] is None else int(data["note_at"]),
                   top_world=tuple(int(i) for i in data["top_world"]),
                   late_world=tuple((int(i), int(at)) for i, at in data["late_world"]),
                   recall=tuple((int(turn), int(part), int(at), text(passage))
                                for turn, part, at, passage in data.get("recall", ())),
                   world_text={int(i): text(value) for i, value in shown.items()})


@dataclass
class Pinned:
    """The top of every prompt: a chat's persona and example dialogue, then the memory (and
    the text each spells, or None when it was cut to fit)."""

    persona: list[int]
    examples: list[int]
    memory: list[int]
    cut: bool = False
    examples_left_out: int = 0
    texts: tuple[str | None, str | None, str | None] = ("", "", "")

    @property
    def tokens(self) -> list[int]:
        return self.persona + self.examples + self.memory


@dataclass(frozen=True)
class Recalled:
    """A passage recalled into the prompt: ``text``, from turn ``turn`` (0-based)."""

    turn: int
    text: str


class Span(NamedTuple):  # (a tuple: one per turn in view is made for every prompt)
    """One piece of the prompt as laid out, in prompt order (``story/inspect.py`` shows them):
    the part it belongs to (persona, examples, memory, world, recall, story, note, tail), its
    tokens, the text they spell (None when cut to fit: decode the tokens), and where it comes
    from (world: the entry's index; recall and story: the turn's)."""

    part: str
    tokens: list[int]
    text: str | None
    source: int | None = None


COUNTED = ("persona", "examples", "pinned", "world", "recall", "story", "note", "tail")


def _joined(spans: Sequence[Span]) -> list[int]:
    return list(chain.from_iterable(span.tokens for span in spans))


def _counts(spans: Sequence[Span]) -> dict[str, int]:
    """Tokens per part, as ``Prompt.parts`` has them (the memory is "pinned" there)."""
    parts = dict.fromkeys(COUNTED, 0)
    for span in spans:
        parts["pinned" if span.part == "memory" else span.part] += len(span.tokens)
    return parts


def _drop_front(spans: Sequence[Span], n: int) -> list[Span]:
    """``spans`` without their first ``n`` tokens (a span cut into keeps its end)."""
    kept: list[Span] = []
    for span in spans:
        if n >= len(span.tokens):
            n -= len(span.tokens)
            continue
        if n:
            span, n = Span(span.part, span.tokens[n:], None, span.source), 0
        kept.append(span)
    return kept


@dataclass
class Prompt:
    tokens: list[int]
    # tokens per part: persona, examples, pinned (memory), world, recall, story, note, tail,
    # reply
    parts: dict[str, int]
    first_visible_turn: int  # turns before this one are out of the model's view
    # world entries placed: indices into state.world, and ~i for state.lore[i] (automatic)
    active_world: list[int] = field(default_factory=list)
    trimmed: bool = False  # this prompt moved the window (a full re-evaluation)
    pinned_cut: bool = False  # persona/memory were too long and were shortened
    examples_left_out: int = 0  # example dialogues beyond their budget
    world_left_out: int = 0  # triggered world entries beyond theirs (until the next trim)
    chat: bool = False  # a chat: the meter calls the story "chat" and world info "lore"
    recalled: tuple[Recalled, ...] = ()  # the passages of the recall part, in prompt order
    spans: tuple[Span, ...] = ()  # the pieces ``tokens`` joins, in order (``story/inspect``)

    @property
    def used(self) -> int:
        """Prompt plus the room reserved for the reply."""
        return len(self.tokens) + self.parts.get("reply", 0)


def note_text(note: str) -> str:
    note = note.strip()
    if not note:
        return ""
    return note if note.startswith("[") else f"[Author's note: {note}]"


def triggered_world(world: Sequence[WorldEntry], scan: str) -> list[int]:
    """Entries that are always on, or whose key (and a secondary key, if any) is in ``scan``."""
    text = scan.lower()
    active = []
    for i, entry in enumerate(world):
        if not entry.content.strip():
            continue
        if entry.always:
            active.append(i)
            continue
        if any(k.strip() and k.strip().lower() in text for k in entry.keys) and (
                not entry.secondary_keys
                or any(k.strip() and k.strip().lower() in text for k in entry.secondary_keys)):
            active.append(i)
    return active


def _fitting(pieces: list[list[int]], room: int) -> list[int]:
    """Which pieces fit in ``room`` tokens together, earliest first: one too long for what is
    left is skipped (a later, shorter one may still fit) and waits for the next trim."""
    kept: list[int] = []
    for i, piece in enumerate(pieces):
        if len(piece) <= room:
            room -= len(piece)
            kept.append(i)
    return kept


def _within(pieces: list[list[int]], room: int) -> list[list[int]]:
    """The leading pieces that fit in ``room`` tokens together: world entries share one
    budget, earliest first, and the later ones wait for the next trim."""
    kept: list[list[int]] = []
    for piece in pieces:
        if len(piece) > room:
            break
        room -= len(piece)
        kept.append(piece)
    return kept


class ContextBuilder:
    def __init__(
        self,
        tokenize: Tokenize,
        n_ctx: int,
        *,
        low_water: float = 0.4,
        note_depth: int = 1,
        note_max_depth: int | None = None,
        next_at: float = 0.5,
        scan_turns: int = 4,
        pinned_share: float = 0.3,
        examples_share: float = 0.15,
        world_share: float = 0.25,
        recall: Recall | None = None,
        recall_share: float = 0.12,
        recall_per_turn: int = 2,
        auto_lore_share: float = 0.1,
    ) -> None:
        self._tokenize = tokenize
        self.n_ctx = n_ctx
        self.low_water = low_water
        self.note_depth = note_depth
        self.note_max_depth = note_max_depth
        self.next_at = next_at  # prompt share of the budget from which the next trim is laid out
        self.scan_turns = scan_turns
        self.pinned_share = pinned_share
        self.examples_share = examples_share
        self.world_share = world_share
        self.recall = recall  # None: no recall
        self.recall_on = True  # the [memory] recall setting (``recall`` is the index)
        self.auto_lore = True  # the [memory] auto_lore setting: automatic entries take part
        # The [memory] auto_lore_share setting: the share of the context automatic entries
        # may fill (within the world share): every name they add makes the window fill, and
        # so trim, sooner.
        self.auto_lore_share = auto_lore_share
        self.recall_share = recall_share
        self.recall_per_turn = recall_per_turn
        self.lore_mid_reply = True  # the [memory] lore_mid_reply setting (story/midreply.py)
        self.plan = Plan()
        self._cache: dict[str, list[int]] = {}

    def adopt(self, text: str, tokens: list[int]) -> None:
        """Use these token ids for ``text`` from now on (the ones the model wrote it with)."""
        self._cache[text] = list(tokens)

    def reset(self) -> None:
        """Forget the layout (after a load or a big edit): the next prompt is laid out anew."""
        self.plan = Plan()

    def tokens(self, text: str) -> list[int]:
        cached = self._cache.get(text)
        if cached is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            cached = self._cache[text] = self._tokenize(text) if text else []
        return cached

    # -- the parts ------------------------------------------------------------------------

    def _pinned(self, state: StoryState) -> Pinned:
        persona_text = examples_text = ""
        if state.chat is not None:
            if state.chat.persona.strip():
                persona_text = state.chat.persona.strip() + "\n"
            examples_text = state.chat.example_dialogue.strip()
        memory_text = state.memory.strip() + "\n" if state.memory.strip() else ""
        memory = whole_memory = self.tokens(memory_text)
        persona = whole_persona = self.tokens(persona_text)
        cap = int(self.n_ctx * self.pinned_share)
        cut = len(persona) + len(memory) > cap
        if cut:  # the persona first; the memory gets what is left of the share
            persona = self._cut(persona_text, cap)
            memory = memory[:cap - len(persona)]
        examples, left_out, shown = self._examples(examples_text)
        return Pinned(persona, examples, memory, cut, left_out, texts=(
            persona_text if len(persona) == len(whole_persona) else None, shown,
            memory_text if len(memory) == len(whole_memory) else None))

    def _cut(self, text: str, cap: int) -> list[int]:
        """The start of ``text`` in at most ``cap`` tokens: whole lines when they fill three
        quarters of it, else cut mid-line; it ends with a line break either way."""
        tokens = self.tokens(text)
        if len(tokens) <= cap:
            return tokens
        best = self._first_lines(text.rstrip("\n"), cap)
        if len(best) >= cap * 3 // 4:
            return best
        newline = self.tokens("\n")
        return tokens[:max(0, cap - len(newline))] + newline

    def _first_lines(self, text: str, room: int, lead: str = "") -> list[int]:
        """The most whole lines of ``text`` (not all of them) that fit in ``room`` tokens,
        after ``lead`` and ending with a line break; none fit: []."""
        lines = text.split("\n")
        best: list[int] = []
        for n in range(1, len(lines)):
            head = self.tokens(lead + "\n".join(lines[:n]) + "\n")
            if len(head) > room:
                break
            best = head
        return best

    def _examples(self, text: str) -> tuple[list[int], int, str | None]:
        """The example dialogues that fit their share, whole and in order (a blank line
        ends one); when not even the first fits, as many of its lines as fit. Returns their
        tokens, how many were left out and the text shown (None: part of one)."""
        room = int(self.n_ctx * self.examples_share)
        examples = [e.strip("\n") for e in text.split("\n\n") if e.strip()]
        pieces = [self.tokens("\n" + example + "\n") for example in examples]
        kept = _within(pieces, room)
        if pieces and not kept:
            best = self._first_lines(examples[0], room, lead="\n")
            return best, len(pieces) - (1 if best else 0), None if best else ""
        return ([t for piece in kept for t in piece], len(pieces) - len(kept),
                "".join("\n" + example + "\n" for example in examples[:len(kept)]))

    def _world_text(self, state: StoryState, i: int) -> str:
        """World entry ``i``'s text as placed (``~i``: automatic entry ``i``)."""
        placed = self.plan.world_text.get(i)
        if placed is not None:
            return placed
        return (state.world[i] if i >= 0 else state.lore[~i]).content

    def _placed(self) -> set[int]:
        """The world entries the plan places (in the top block or mid-window)."""
        return {*self.plan.top_world, *(i for i, _ in self.plan.late_world)}

    def _shown(self, state: StoryState) -> list[int]:
        """The placed world entries that fit the world share (the others wait)."""
        plan, share = self.plan, int(self.n_ctx * self.world_share)
        top = [self.tokens(self._world_text(state, i).strip() + "\n") for i in plan.top_world]
        shown = [plan.top_world[i] for i in _fitting(top, share)]
        room = share - len(self._world_tokens(state, plan.top_world))
        late = [self.tokens("\n" + self._world_text(state, i).strip() + "\n")
                for i, _ in plan.late_world]
        return shown + [plan.late_world[i][0] for i in _fitting(late, room)]

    def _valid(self, state: StoryState) -> set[int]:
        """The indices of the world entries there are (automatic ones while they are on)."""
        valid = set(range(len(state.world)))
        if self.auto_lore:
            valid |= {~i for i, entry in enumerate(state.lore) if entry.content}
        return valid

    def _active(self, state: StoryState, scan: str, placed: Collection[int] = ()
                ) -> list[int]:
        """The triggered entries: the player's (and the seed's, the lorebooks') first, then
        the automatic ones that tell the model something it cannot see: not while every
        sentence of theirs is still in view (a name just introduced); those ``placed``
        already, then new ones while they fit ``auto_room``."""
        active = triggered_world(state.world, scan)
        found = triggered_world(state.lore, scan) if self.auto_lore else []
        if found:
            telling = self.telling(state, [~i for i in found])
            room = self.auto_room(state, placed)
            for i in telling:
                cost = 0 if i in placed else self.entry_cost(state, i)
                if cost <= room:
                    active.append(i)
                    room -= cost
        return active

    def telling(self, state: StoryState, indices: Sequence[int]) -> list[int]:
        """The automatic entries (``~i``) of ``indices`` that tell the model something it
        cannot see: not every sentence of theirs is in view (the memory, the window)."""
        seen = "\n".join([state.memory, *(turn.text for turn in
                                          state.turns[self.plan.window_start:])])
        return [i for i in indices
                if not all(part in seen for part in sentences(state.lore[~i].content))]

    def entry_line(self, state: StoryState, i: int) -> str:
        """World entry ``i`` (``~i``: automatic) as it goes among the turns: on its own lines."""
        return "\n" + self._world_text(state, i).strip() + "\n"

    def entry_cost(self, state: StoryState, i: int) -> int:
        """The tokens world entry ``i`` (``~i``: automatic) takes in the prompt."""
        return len(self.tokens(self.entry_line(state, i)))

    def auto_room(self, state: StoryState, placed: Collection[int]) -> int:
        """Tokens left for automatic entries beside the ``placed`` ones."""
        used = sum(self.entry_cost(state, i) for i in placed if i < 0)
        return int(self.n_ctx * self.auto_lore_share) - used

    def _world_pieces(self, state: StoryState, indices: Sequence[int]) -> list[Span]:
        """The top block's entries that fit the world share (``world_share``)."""
        texts = [self._world_text(state, i).strip() + "\n" for i in indices]
        pieces = [self.tokens(text) for text in texts]
        return [Span("world", pieces[k], texts[k], indices[k])
                for k in _fitting(pieces, int(self.n_ctx * self.world_share))]

    def _world_tokens(self, state: StoryState, indices: Sequence[int]) -> list[int]:
        return _joined(self._world_pieces(state, indices))

    def _note_span(self, state: StoryState) -> Span:
        note = note_text(state.authors_note)
        text = "\n" + note + "\n" if note else ""
        return Span("note", self.tokens(text), text)

    def _note_tokens(self, state: StoryState) -> list[int]:
        return self._note_span(state).tokens

    def _late_pieces(self, state: StoryState, room: int) -> list[tuple[int, Span]]:
        """Mid-window entries that fit in ``room`` tokens: (the turn it goes before, it)."""
        late = self.plan.late_world
        texts = [self.entry_line(state, i) for i, _ in late]
        pieces = [self.tokens(text) for text in texts]
        return [(late[k][1], Span("world", pieces[k], texts[k], late[k][0]))
                for k in _fitting(pieces, room)]

    def _scan(self, state: StoryState, tail: str) -> str:
        recent = state.turns[-self.scan_turns:] if self.scan_turns else []
        return "".join(t.text for t in recent) + tail

    # -- assembly -------------------------------------------------------------------------

    def _pinned_spans(self, state: StoryState) -> list[Span]:
        top = self._pinned(state)
        return [Span(part, tokens, text) for part, tokens, text in
                zip(("persona", "examples", "memory"), (top.persona, top.examples, top.memory),
                    top.texts)]

    def _assemble(self, state: StoryState, tail: str
                  ) -> tuple[list[int], dict[str, int], list[Span]]:
        """The prompt's tokens, their count per part and the spans they join, in order."""
        plan = self.plan
        world = self._world_pieces(state, plan.top_world)
        note_at = plan.note_at if plan.note_at is not None else len(state.turns)
        room = int(self.n_ctx * self.world_share) - sum(len(span.tokens) for span in world)
        among: dict[int, list[Span]] = {}  # late world info, then recall, before a turn
        for at, span in self._late_pieces(state, room):
            among.setdefault(at, []).append(span)
        for turn, _, at, text in plan.recall:
            among.setdefault(at, []).append(Span("recall", self._recall_tokens(text),
                                                 "\n" + text + "\n", turn))
        story: list[Span] = []
        before = 0
        n = len(state.turns)
        for i in range(plan.window_start, n + 1):
            if i == min(note_at, n):
                before = len(story)
            story += among.get(i, ())
            if i < n:
                story.append(Span("story", self.tokens(state.turns[i].text),
                                  state.turns[i].text, i))
        spans = [*self._pinned_spans(state), *world, *story[:before], self._note_span(state),
                 *story[before:], Span("tail", self.tokens(tail), tail)]
        spans = [span for span in spans if span.tokens]
        return _joined(spans), _counts(spans), spans

    # -- recall ---------------------------------------------------------------------------

    def _recall_tokens(self, text: str) -> list[int]:
        return self.tokens("\n" + text + "\n")  # on lines of their own, as late world info

    def _keep_recall(self, state: StoryState) -> None:
        """Drop recalled passages that no longer hold (``recall/choose.still_placed``), or
        all of them once recall is turned off."""
        plan = self.plan
        on = self.recall_on and self.recall_share > 0
        plan.recall = still_placed(plan.recall, state.turns, plan.window_start) if on else ()

    def _add_recall(self, state: StoryState, room: int, give_up: bool = True
                    ) -> tuple[bool, bool]:
        """Recall passages for this prompt into at most ``room`` tokens (and what is left of
        the recall share), where the story has got to. A passage about a name in the
        player's action that finds no room takes the place of passages recalled before
        (``to_give_up``; unless ``give_up`` is off), so that the story in view stays as it
        is. Returns (any added, such a passage still waits for room: a trim would make
        it)."""
        plan = self.plan
        if (self.recall is None or not self.recall_on or plan.window_start <= 0
                or self.recall_per_turn <= 0):
            return False, False
        share = int(self.n_ctx * self.recall_share)
        shown = [self._world_text(state, i) for i in self._shown(state)]
        placed = list(plan.recall)

        def cost(text: str) -> int:
            return len(self._recall_tokens(text))

        used = sum(cost(text) for *_, text in placed)
        while True:
            choice = choose(self.recall, state, placed, plan.window_start,
                            min(room, share - used), share, cost, self.recall_per_turn,
                            self.scan_turns, shown)
            drop = to_give_up(placed, choice.asked) if choice.waiting and give_up else None
            if drop is None:
                break
            given_up = placed.pop(drop)[3]
            room, used = room + cost(given_up), used - cost(given_up)
            shown.append(given_up)  # not taken back in its own place's stead
        if not choice.added:
            return False, choice.waiting  # nothing given up for nothing
        plan.recall = (*placed, *choice.added)
        return True, False

    def _turn_cost(self, state: StoryState, i: int) -> int:
        return len(self.tokens(state.turns[i].text))

    def build(self, state: StoryState, reply_tokens: int, tail: str = "") -> Prompt:
        """The prompt for the next reply; ``reply_tokens`` of room are kept free for it."""
        reply_tokens = max(1, min(reply_tokens, self.n_ctx // 2))
        budget = self.n_ctx - reply_tokens
        plan = self.plan
        n = len(state.turns)
        # Edits and undo can shrink the story under the plan: clamp it.
        plan.window_start = min(plan.window_start, max(0, n - 1))
        if plan.note_at is not None:
            plan.note_at = min(max(plan.note_at, plan.window_start), n)
        valid = self._valid(state)
        plan.top_world = tuple(i for i in plan.top_world if i in valid)

        active = self._active(state, self._scan(state, tail),
                              {*plan.top_world, *(i for i, _ in plan.late_world)})
        if plan.note_at is None:  # a fresh layout: the world info found now goes on top
            plan.top_world, plan.late_world = tuple(active), ()
        plan.late_world = tuple((i, min(max(at, plan.window_start), n))
                                for i, at in plan.late_world if i in valid)
        placed = set(plan.top_world) | {i for i, _ in plan.late_world}
        new = [i for i in active if i not in placed]
        if new:
            # Before the player's newest line when it is the last turn, else at the end.
            at = n - 1 if n and state.turns[-1].role == "player" else n
            plan.late_world = plan.late_world + tuple((i, max(at, plan.window_start))
                                                      for i in new)
        drifted = self.note_max_depth is not None and plan.note_at is not None and (
            n - plan.note_at > self.note_max_depth)
        if plan.note_at is None or drifted:
            plan.note_at = max(plan.window_start, n - self.note_depth)

        self._keep_recall(state)
        tokens, parts, spans = self._assemble(state, tail)
        trimmed = False
        if len(tokens) > budget:
            trimmed = True
            if not self._take_next(state, tail, budget):
                self._retrim(state, active, tail, budget)
            tokens, parts, spans = self._assemble(state, tail)
        if len(tokens) <= budget:
            # A trim about to come anyway costs the story little: rather than evaluate
            # again what follows a passage recalled before, a name waits for it.
            near = budget - len(tokens) < self._exchange(state)
            added, waiting = self._add_recall(state, budget - len(tokens), give_up=not near)
            if waiting and not trimmed:
                # The player names someone the story told of long ago, and the context (or
                # the recall share) is full: trim now rather than answer without it.
                trimmed = True
                if not self._take_next(state, tail, budget):
                    self._retrim(state, active, tail, budget)
                tokens = self._assemble(state, tail)[0]
                added = len(tokens) <= budget and self._add_recall(state, budget - len(tokens))[0]
            if added or trimmed:
                tokens, parts, spans = self._assemble(state, tail)
        if len(tokens) > budget:
            # Even the newest turn alone does not fit: keep the end of what is left.
            keep = budget - len(self._pinned(state).tokens) - parts["world"] - parts["note"] \
                - parts["tail"]
            spans = self._fit_last_resort(state, tail, max(0, keep), budget)
            tokens, parts = _joined(spans), _counts(spans)
            plan.recall = ()
        parts["reply"] = reply_tokens
        plan.world_text = {i: self._world_text(state, i) for i in self._placed()}
        top = self._pinned(state)
        room = int(self.n_ctx * self.world_share) - len(self._world_tokens(state, plan.top_world))
        shown = (len(self._world_pieces(state, plan.top_world))
                 + len(self._late_pieces(state, room)))
        return Prompt(tokens=tokens, parts=parts, first_visible_turn=plan.window_start,
                      active_world=sorted(set(plan.top_world) | {i for i, _ in plan.late_world}),
                      trimmed=trimmed, pinned_cut=top.cut,
                      examples_left_out=top.examples_left_out,
                      world_left_out=len(plan.top_world) + len(plan.late_world) - shown,
                      chat=state.mode == "chat" and state.chat is not None,
                      recalled=self._recalled(), spans=tuple(spans))

    def _recalled(self) -> tuple[Recalled, ...]:
        """The recall part's passages in prompt order (by the turn they go before)."""
        placed = sorted(enumerate(self.plan.recall), key=lambda item: (item[1][2], item[0]))
        return tuple(Recalled(turn, text) for _, (turn, _, _, text) in placed)

    def _retrim(self, state: StoryState, active: list[int], tail: str, budget: int,
                growth: int = 0, texts: dict[int, str] | None = None) -> None:
        """Move the window forward in one chunk, down to the low-water mark (less ``growth``:
        the story still to come before a trim laid out ahead is taken), with ``active`` on
        top, as ``texts`` has them (None: as they read now)."""
        plan = self.plan
        n = len(state.turns)
        plan.top_world, plan.late_world, plan.recall = tuple(active), (), ()
        plan.world_text = dict(texts or {})  # laid out afresh: as the entries read now
        fixed = (len(self._pinned(state).tokens) + len(self._world_tokens(state, plan.top_world))
                 + len(self._note_tokens(state)) + len(self.tokens(tail)))
        target = min(budget, max(int(self.n_ctx * self.low_water) - growth, fixed))
        room = target - fixed
        start, used = n, 0
        earliest = min(plan.window_start, n - 1)  # a trim never brings back dropped turns
        while start > earliest and used + self._turn_cost(state, start - 1) <= room:
            start -= 1
            used += self._turn_cost(state, start)
        plan.window_start = min(start, max(0, n - 1))  # the newest turn always stays
        plan.note_at = max(plan.window_start, n - self.note_depth)
        if texts is None:
            # Found again for the window as it now starts: an automatic entry whose
            # sentences the trim took out of view tells the model something again. (A top
            # laid out ahead stays as the spare sequence holds it; ``_take_next`` adds the
            # rest after the story.)
            plan.top_world = tuple(self._active(state, self._scan(state, tail)))

    def _take_next(self, state: StoryState, tail: str, budget: int
                   ) -> bool:
        """Trim to the window laid out ahead of time, if it still moves forward and fits;
        one whose first turn was not fixed yet gets it now, under the top laid out then."""
        plan = self.plan
        n = len(state.turns)
        kept = replace(plan)
        plan.next_laid, plan.next_start, plan.next_top_world = False, None, ()
        plan.next_world_text = {}
        if not kept.next_laid:
            return False
        top = self._next_top(state, kept)
        texts = {i: kept.next_world_text[i] for i in top if i in kept.next_world_text}
        start = kept.next_start
        if start is None or not plan.window_start < start < n:
            self._retrim(state, list(top), tail, budget, texts=texts)
            start = plan.window_start
        plan.window_start, plan.top_world, plan.world_text = start, top, texts
        at = n - 1 if state.turns[-1].role == "player" else n
        active = self._active(state, self._scan(state, tail), plan.top_world)  # (as _retrim)
        plan.late_world = tuple((i, max(at, start)) for i in active if i not in plan.top_world)
        plan.note_at = max(start, n - self.note_depth)
        plan.recall = ()  # recalled anew for the new window
        if start > kept.window_start and len(self._assemble(state, tail)[0]) <= budget:
            return True
        for name in ("window_start", "top_world", "late_world", "note_at", "recall",
                     "world_text"):
            setattr(plan, name, getattr(kept, name))
        return False

    def _next_top(self, state: StoryState, plan: Plan) -> tuple[int, ...]:
        """The top block of the trim laid out ahead: its entries that are still there."""
        valid = self._valid(state)
        return tuple(i for i in plan.next_top_world if i in valid)

    def _exchange(self, state: StoryState) -> float:
        """Tokens an exchange (an action and its reply) adds, as the last few turns did."""
        n = len(state.turns)
        recent = [self._turn_cost(state, i) for i in range(max(0, n - 4), n)]
        return 2 * sum(recent) / len(recent) if recent else 1.0

    def next_window(self, state: StoryState, reply_tokens: int) -> list[int] | None:
        """The prompt as the next trim will lay it out, to evaluate ahead in a spare sequence
        (GPT-2's positions are absolute, so a trim evaluates everything it keeps again).
        None while the prompt is below ``next_at`` of its budget. From there on, the trim's
        top (persona, memory, the world entries on top as they read now) is fixed at once
        and evaluated first; its first turn is fixed once the story to come before the trim
        fits under the low-water mark with it (fixed sooner, the trim would keep all that
        story and come again soon), and from then on the story since and the note are added
        after it. The real trim takes it while it fits; each call only adds to the end, so
        the spare sequence keeps what it holds."""
        reply_tokens = max(1, min(reply_tokens, self.n_ctx // 2))
        budget = self.n_ctx - reply_tokens
        plan = self.plan
        n = len(state.turns)
        now = len(self._assemble(state, "")[0])
        if n < 2 or now < self.next_at * budget:
            return None
        kept = replace(plan)
        try:
            if not kept.next_laid:
                plan.world_text = {}  # as the entries read now
                active = self._active(state, self._scan(state, ""))
                kept.next_laid, kept.next_top_world = True, tuple(active)
                kept.next_world_text = {i: self._world_text(state, i) for i in active}
            top = self._next_top(state, kept)
            texts = dict(kept.next_world_text)
            if kept.next_start is not None and not plan.window_start < kept.next_start < n:
                kept.next_start = None  # (the story was cut back under it)
            if kept.next_start is None:
                kept.next_start = self._next_start(state, top, texts, budget, budget - now)
            plan.top_world, plan.world_text, plan.late_world, plan.recall = top, texts, (), ()
            if kept.next_start is None:  # the top alone, for now
                return _joined([*self._pinned_spans(state), *self._world_pieces(state, top)])
            plan.window_start, plan.note_at = kept.next_start, n
            tokens = self._assemble(state, "")[0]
        finally:
            self.plan = kept
        return tokens

    def _next_start(self, state: StoryState, top: tuple[int, ...], texts: dict[int, str],
                    budget: int, growth: int) -> int | None:
        """The first turn the next trim keeps, with ``top`` on top and ``growth`` tokens of
        story still to come before it; None while it is too early to tell (that story does
        not fit under the low-water mark yet: more than an exchange over it) or nothing
        would be dropped."""
        plan = self.plan
        before = plan.window_start
        plan.top_world, plan.world_text = top, texts
        fixed = (len(self._pinned(state).tokens) + len(self._world_tokens(state, top))
                 + len(self._note_tokens(state)))
        if growth > max(int(self.n_ctx * self.low_water) - fixed, self._exchange(state)):
            return None
        self._retrim(state, list(top), "", budget, growth=max(0, growth), texts=texts)
        return plan.window_start if plan.window_start > before else None

    def exchanges_to_trim(self, state: StoryState, reply_tokens: int) -> float:
        """About how many more exchanges (an action and its reply, as long as the last few)
        fit before the window moves: the room the prompt has left over their mean size."""
        budget = self.n_ctx - max(1, min(reply_tokens, self.n_ctx // 2))
        room = budget - len(self._assemble(state, "")[0])
        return max(0.0, room / max(1.0, self._exchange(state)))

    def _fit_last_resort(self, state: StoryState, tail: str, keep: int, budget: int
                         ) -> list[Span]:
        """The spans of a prompt whose story keeps only its last ``keep`` tokens (after the
        note), cut from the front to ``budget``."""
        story = [Span("story", self.tokens(state.turns[i].text), state.turns[i].text, i)
                 for i in range(self.plan.window_start, len(state.turns))]
        story = _drop_front(story, max(0, sum(len(span.tokens) for span in story) - keep))
        spans = [span for span in [*self._pinned_spans(state),
                                   *self._world_pieces(state, self.plan.top_world),
                                   self._note_span(state), *story,
                                   Span("tail", self.tokens(tail), tail)] if span.tokens]
        return _drop_front(spans, max(0, sum(len(span.tokens) for span in spans) - budget))
