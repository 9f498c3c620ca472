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
  prompt would overflow, not one turn per turn.
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
* Recall (``story/recall/``) works the same way: passages of turns out of view that the
  newest action and the last turns name go where the story has got to, at most
  ``recall_per_turn`` new ones a prompt, within ``recall_share`` of the context and the
  room the prompt has left, never one whose text is still in view. They stay where they
  were put until the next trim, which lays the window out afresh and recalls anew. When the
  player's action names someone whose passage finds no room, the trim comes at once: a
  player who names the blacksmith from forty turns ago expects the model to know him.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gpt2_adventure.story.model import StoryState, WorldEntry
from gpt2_adventure.story.recall.choose import choose, still_placed

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
    # The next trim, fixed ahead of time (``ContextBuilder.next_window``): the first turn it
    # keeps and the world entries on top, so its prompt can be evaluated before it is needed.
    next_start: int | None = None
    next_top_world: tuple[int, ...] = ()
    # recalled passages: (turn it comes from, its sentence there, the turn it goes before,
    # its text), in the order they were placed
    recall: tuple[tuple[int, int, int, str], ...] = ()

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

        return cls(window_start=int(data["window_start"]),
                   note_at=None if data["note_at"] is None else int(data["note_at"]),
                   top_world=tuple(int(i) for i in data["top_world"]),
                   late_world=tuple((int(i), int(at)) for i, at in data["late_world"]),
                   recall=tuple((int(turn), int(part), int(at), text(passage))
                                for turn, part, at, passage in data.get("recall", ())))


@dataclass
class Pinned:
    """The top of every prompt: a chat's persona and example dialogue, then the memory."""

    persona: list[int]
    examples: list[int]
    memory: list[int]
    cut: bool = False
    examples_left_out: int = 0

    @property
    def tokens(self) -> list[int]:
        return self.persona + self.examples + self.memory


@dataclass(frozen=True)
class Recalled:
    """A passage recalled into the prompt: ``text``, from turn ``turn`` (0-based)."""

    turn: int
    text: str


@dataclass
class Prompt:
    tokens: list[int]
    # tokens per part: persona, examples, pinned (memory), world, recall, story, note, tail,
    # reply
    parts: dict[str, int]
    first_visible_turn: int  # turns before this one are out of the model's view
    active_world: list[int] = field(default_factory=list)
    trimmed: bool = False  # this prompt moved the window (a full re-evaluation)
    pinned_cut: bool = False  # persona/memory were too long and were shortened
    examples_left_out: int = 0  # example dialogues beyond their budget
    world_left_out: int = 0  # triggered world entries beyond theirs (until the next trim)
    chat: bool = False  # a chat: the meter calls the story "chat" and world info "lore"
    recalled: tuple[Recalled, ...] = ()  # the passages of the recall part, in prompt order

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
        low_water: float = 0.5,
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
        memory = self.tokens(state.memory.strip() + "\n" if state.memory.strip() else "")
        persona = self.tokens(persona_text)
        cap = int(self.n_ctx * self.pinned_share)
        cut = len(persona) + len(memory) > cap
        if cut:  # the persona first; the memory gets what is left of the share
            persona = self._cut(persona_text, cap)
            memory = memory[:cap - len(persona)]
        examples, left_out = self._examples(examples_text)
        return Pinned(persona, examples, memory, cut, left_out)

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

    def _examples(self, text: str) -> tuple[list[int], int]:
        """The example dialogues that fit their share, whole and in order (a blank line
        ends one); when not even the first fits, as many of its lines as fit."""
        room = int(self.n_ctx * self.examples_share)
        examples = [e.strip("\n") for e in text.split("\n\n") if e.strip()]
        pieces = [self.tokens("\n" + example + "\n") for example in examples]
        kept = _within(pieces, room)
        if pieces and not kept:
            best = self._first_lines(examples[0], room, lead="\n")
            return best, len(pieces) - (1 if best else 0)
        return [t for piece in kept for t in piece], len(pieces) - len(kept)

    def _world_pieces(self, state: StoryState, indices: Sequence[int]) -> list[list[int]]:
        """The top block's entries that fit the world share (``world_share``)."""
        pieces = [self.tokens(state.world[i].content.strip() + "\n") for i in indices]
        return [pieces[i] for i in _fitting(pieces, int(self.n_ctx * self.world_share))]

    def _world_tokens(self, state: StoryState, indices: Sequence[int]) -> list[int]:
        return [t for piece in self._world_pieces(state, indices) for t in piece]

    def _note_tokens(self, state: StoryState) -> list[int]:
        note = note_text(state.authors_note)
        return self.tokens("\n" + note + "\n") if note else []

    def _late_world(self, state: StoryState, room: int) -> dict[int, list[int]]:
        """Mid-window entries by the turn they go before, within ``room`` tokens."""
        out: dict[int, list[int]] = {}
        for at, piece in self._late_pieces(state, room):
            out[at] = out.get(at, []) + piece
        return out

    def _late_pieces(self, state: StoryState, room: int) -> list[tuple[int, list[int]]]:
        pieces = [self.tokens("\n" + state.world[i].content.strip() + "\n")  # own lines
                  for i, _ in self.plan.late_world]
        return [(self.plan.late_world[i][1], pieces[i]) for i in _fitting(pieces, room)]

    def _scan(self, state: StoryState, tail: str) -> str:
        recent = state.turns[-self.scan_turns:] if self.scan_turns else []
        return "".join(t.text for t in recent) + tail

    # -- assembly -------------------------------------------------------------------------

    def _assemble(self, state: StoryState, tail: str) -> tuple[list[int], dict[str, int]]:
        plan = self.plan
        top = self._pinned(state)
        pinned = top.tokens
        world = self._world_tokens(state, plan.top_world)
        note = self._note_tokens(state)
        note_at = plan.note_at if plan.note_at is not None else len(state.turns)
        late = self._late_world(state, int(self.n_ctx * self.world_share) - len(world))
        recalled: dict[int, list[int]] = {}
        for _, _, at, text in plan.recall:
            recalled[at] = recalled.get(at, []) + self._recall_tokens(text)
        story: list[int] = []
        before = 0
        n = len(state.turns)
        for i in range(plan.window_start, n + 1):
            if i == min(note_at, n):
                before = len(story)
            story += late.get(i, [])
            story += recalled.get(i, [])
            if i < n:
                story += self.tokens(state.turns[i].text)
        late_count = sum(len(piece) for piece in late.values())
        recall_count = sum(len(piece) for piece in recalled.values())
        tail_tokens = self.tokens(tail)
        tokens = pinned + world + story[:before] + note + story[before:] + tail_tokens
        parts = {"persona": len(top.persona), "examples": len(top.examples),
                 "pinned": len(top.memory), "world": len(world) + late_count,
                 "recall": recall_count, "story": len(story) - late_count - recall_count,
                 "note": len(note), "tail": len(tail_tokens)}
        return tokens, parts

    # -- recall ---------------------------------------------------------------------------

    def _recall_tokens(self, text: str) -> list[int]:
        return self.tokens("\n" + text + "\n")  # on lines of their own, as late world info

    def _keep_recall(self, state: StoryState) -> None:
        """Drop recalled passages that no longer hold (``recall/choose.still_placed``), or
        all of them once recall is turned off."""
        plan = self.plan
        on = self.recall_on and self.recall_share > 0
        plan.recall = still_placed(plan.recall, state.turns, plan.window_start) if on else ()

    def _add_recall(self, state: StoryState, room: int) -> tuple[bool, bool]:
        """Recall passages for this prompt into at most ``room`` tokens (and what is left of
        the recall share), where the story has got to. Returns (any added, a passage about a
        name in the player's action waits for room: one a trim would make)."""
        plan = self.plan
        if (self.recall is None or not self.recall_on or plan.window_start <= 0
                or self.recall_per_turn <= 0):
            return False, False
        share = int(self.n_ctx * self.recall_share)
        used = sum(len(self._recall_tokens(text)) for *_, text in plan.recall)
        choice = choose(self.recall, state, plan.recall, plan.window_start,
                        min(room, share - used), share,
                        lambda text: len(self._recall_tokens(text)), self.recall_per_turn,
                        self.scan_turns)
        plan.recall = plan.recall + choice.added
        return bool(choice.added), choice.waiting

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
        valid = set(range(len(state.world)))
        plan.top_world = tuple(i for i in plan.top_world if i in valid)

        active = triggered_world(state.world, self._scan(state, tail))
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
        tokens, parts = self._assemble(state, tail)
        trimmed = False
        if len(tokens) > budget:
            trimmed = True
            if not self._take_next(state, active, tail, budget):
                self._retrim(state, active, tail, budget)
            tokens, parts = self._assemble(state, tail)
        if len(tokens) <= budget:
            added, waiting = self._add_recall(state, budget - len(tokens))
            if waiting and not trimmed:
                # The player names someone the story told of long ago, and the context (or
                # the recall share) is full: trim now rather than answer without it.
                trimmed = True
                if not self._take_next(state, active, tail, budget):
                    self._retrim(state, active, tail, budget)
                tokens, _ = self._assemble(state, tail)
                added = len(tokens) <= budget and self._add_recall(state, budget - len(tokens))[0]
            if added or trimmed:
                tokens, parts = self._assemble(state, tail)
        if len(tokens) > budget:
            # Even the newest turn alone does not fit: keep the end of what is left.
            keep = budget - len(self._pinned(state).tokens) - parts["world"] - parts["note"] \
                - parts["tail"]
            tokens = self._fit_last_resort(state, tail, max(0, keep), budget)
            parts["story"], parts["recall"] = max(0, keep), 0
            plan.recall = ()
        parts["reply"] = reply_tokens
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
                      recalled=self._recalled())

    def _recalled(self) -> tuple[Recalled, ...]:
        """The recall part's passages in prompt order (by the turn they go before)."""
        placed = sorted(enumerate(self.plan.recall), key=lambda item: (item[1][2], item[0]))
        return tuple(Recalled(turn, text) for _, (turn, _, _, text) in placed)

    def _retrim(self, state: StoryState, active: list[int], tail: str, budget: int,
                growth: int = 0) -> None:
        """Move the window forward in one chunk, down to the low-water mark (less ``growth``:
        the story still to come before a trim laid out ahead is taken)."""
        plan = self.plan
        n = len(state.turns)
        plan.top_world, plan.late_world, plan.recall = tuple(active), (), ()
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

    def _take_next(self, state: StoryState, active: list[int], tail: str, budget: int
                   ) -> bool:
        """Trim to the window fixed ahead of time, if it still moves forward and fits."""
        plan = self.plan
        n = len(state.turns)
        start = plan.next_start
        kept = replace(plan)
        plan.next_start, plan.next_top_world = None, ()
        if start is None or not plan.window_start < start < n:
            return False
        valid = set(range(len(state.world)))
        plan.window_start = start
        plan.top_world = tuple(i for i in kept.next_top_world if i in valid)
        at = n - 1 if state.turns[-1].role == "player" else n
        plan.late_world = tuple((i, max(at, start)) for i in active if i not in plan.top_world)
        plan.note_at = max(start, n - self.note_depth)
        plan.recall = ()  # recalled anew for the new window
        if len(self._assemble(state, tail)[0]) <= budget:
            return True
        for name in ("window_start", "top_world", "late_world", "note_at", "recall"):
            setattr(plan, name, getattr(kept, name))
        return False

    def next_window(self, state: StoryState, reply_tokens: int) -> list[int] | None:
        """The story as the next trim will lay it out (the note after it), to evaluate ahead
        in a spare sequence: GPT-2's positions are absolute, so a trim evaluates everything
        it keeps again. None while the prompt is below ``next_at`` of its budget. The trim
        is fixed now (``plan.next_start``) and the real one takes it while it fits."""
        reply_tokens = max(1, min(reply_tokens, self.n_ctx // 2))
        budget = self.n_ctx - reply_tokens
        plan = self.plan
        n = len(state.turns)
        now = len(self._assemble(state, "")[0])
        if n < 2 or now < self.next_at * budget:
            return None
        kept = replace(plan)
        try:
            if plan.next_start is None or not plan.window_start < plan.next_start < n:
                active = triggered_world(state.world, self._scan(state, ""))
                # The trim comes once the story has grown to the budget: drop that much more
                # now, so that after it the prompt is back at the low-water mark.
                self._retrim(state, active, "", budget, growth=max(0, budget - now))
                if plan.window_start <= kept.window_start:
                    return None  # nothing would be dropped
                kept.next_start, kept.next_top_world = plan.window_start, plan.top_world
            assert kept.next_start is not None  # it was in range, or was just set
            plan.window_start = kept.next_start
            plan.top_world = kept.next_top_world
            plan.late_world, plan.note_at, plan.recall = (), n, ()
            tokens, _ = self._assemble(state, "")
        finally:
            self.plan = kept
        return tokens

    def _fit_last_resort(self, state: StoryState, tail: str, keep: int, budget: int
                         ) -> list[int]:
        pinned = self._pinned(state).tokens
        world = self._world_tokens(state, self.plan.top_world)
        note = self._note_tokens(state)
        story: list[int] = []
        for i in range(self.plan.window_start, len(state.turns)):
            story += self.tokens(state.turns[i].text)
        story = story[len(story) - keep:] if keep else []
        tokens = pinned + world + note + story + self.tokens(tail)
        return tokens[-budget:] if len(tokens) > budget else tokens
