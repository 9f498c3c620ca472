"""Lore in the same reply: world info that a reply names is put in view before it goes on.

Prompts pick world entries by the keys in the last turns, so a reply that first names the
blacksmith is written without his entry; only the next reply sees it. Here the reply is
watched as it streams: when a key of an entry the prompt lacks appears in it, the stream is
stopped and started again on

    the prompt up to the reply cue | the entry (on lines of its own) | the cue | the reply so far

and the reply goes on from there; the player sees one reply, the entry is not part of it.

GPT-2's positions are absolute, so everything after the insertion point is evaluated again:
the entry and the reply so far (the prompt before it stays in llama.cpp's cache through the
backend's prefix reuse). The reply keeps the very tokens it was written in (the backend's
``tokens_for``), never re-tokenized across the join, so with greedy sampling the reply goes
on exactly as a fresh evaluation of the changed prompt would write it. Measured on the 124M
shape (random weights, q8_0, 2 cores; ``benchmarks/midreply.py``): see ``README.md``.

Bounds: at most ``most`` insertions a reply (each may bring in several entries named at
once); an entry goes in only when the whole reply still fits the context (prompt, entries
and ``max_tokens``) and world info stays within its share (``world_share``); otherwise it
is left out for this reply (the reply so far is never cut to make room). The entry is then
in the layout (``Plan.late_world``, before the reply's turn), where the next prompt keeps
it, so the next turn evaluates only what is new.

Sampling across a restart: the continuation is a new ``stream`` with ``max_tokens`` less the
reply's tokens so far. Its penalties and DRY see the prompt it is given, entry and reply so
far included — the history a fresh evaluation of that prompt has. Its seed is the backend's
next draw (a fixed seed still replays the same session); greedy writing does not use one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gpt2_adventure.engine.backend import Backend, CancelToken, GenerationStats
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.context import triggered_world
from gpt2_adventure.story.events import LoreInserted, Piece
from gpt2_adventure.story.model import StoryState, WorldEntry

if TYPE_CHECKING:
    from gpt2_adventure.story.context import ContextBuilder, Prompt

MOST_PER_REPLY = 2  # restarts a reply may take for lore it names


@dataclass(frozen=True)
class Insertion:
    """One restart: the entries it brought in and what it cost."""

    entries: tuple[int, ...]  # indices into the story's world info
    keys: tuple[str, ...]
    at: int  # characters of the reply written before it
    reply_tokens: int  # the reply's tokens so far, evaluated again after the entries
    entry_tokens: int
    evaluated: int = 0  # tokens the restart evaluated (0 until it has)
    seconds: float = 0.0  # from the restart to its first token


class _Watch:
    """Which entries the prompt lacks, and which of them the reply has named."""

    def __init__(self, world: dict[int, WorldEntry], active: Sequence[int], scan: str) -> None:
        shown = set(active)
        self._world = world
        self._scan = scan
        self.waiting = {i: tuple(k.strip() for k in e.keys if k.strip())
                        for i, e in world.items()
                        if i not in shown and not e.always and e.content.strip()}
        self._longest = max((len(k) for keys in self.waiting.values() for k in keys), default=0)

    def named(self, reply: str, new: int) -> list[tuple[int, str]]:
        """(entry, its key the reply wrote) for the entries the reply has now named: a key
        that ends in the ``new`` characters just written, or an entry whose second key just
        came (world info matches keys as ``triggered_world`` does: anywhere, any case)."""
        if not self.waiting:
            return []
        window = reply[-(new + self._longest):].lower()
        whole = reply.lower()
        found = []
        for i, keys in self.waiting.items():
            entry = self._world[i]
            look = whole if entry.secondary_keys else window
            key = next((k for k in keys if k.lower() in look), None)
            if key is not None and triggered_world([entry], self._scan + reply):
                found.append((i, key))
        return found

    def drop(self, indices: Sequence[int]) -> None:
        for i in indices:
            self.waiting.pop(i, None)


class MidReply:
    """Streams one reply at a time for a ``Session``, inserting the lore it names; afterwards
    ``insertions`` tells what it did and ``tokens_for`` spells the reply in the tokens it was
    written in (the backend's own answer covers only the stream after the last restart)."""

    def __init__(self, most: int = MOST_PER_REPLY) -> None:
        self.most = most
        self.insertions: list[Insertion] = []
        # The reply's text before the last restart and the tokens it was evaluated in.
        self._spelled: tuple[str, list[int]] | None = None
        self.stats = GenerationStats()  # the last reply's, once its stream has ended

    def stream(self, backend: Backend, builder: ContextBuilder, state: StoryState,
               prompt: Prompt, tail: str, sampling: Sampling, stop: Sequence[str],
               cancel: CancelToken | None) -> Iterator[Piece | LoreInserted]:
        """The reply to ``prompt`` (built with the reply cue ``tail``) as events. When it
        ends, ``stats`` is the whole reply's: the restarts' evaluations and tokens are added
        to the last stream's. Automatic lore (``state.lore``, held as ``~i``) is watched for
        too, while it is on."""
        self.insertions, self._spelled = [], None
        self.stats = GenerationStats()
        world = dict(enumerate(state.world))
        if builder.auto_lore:  # (one whose sentences are all in view would only repeat them)
            automatic = builder.telling(state, [~i for i, e in enumerate(state.lore) if e.content])
            world.update({i: state.lore[~i] for i in automatic})
        watch = (_Watch(world, prompt.active_world, _scan(builder, state, tail))
                 if builder.lore_mid_reply and self.most > 0 else None)
        cue = len(prompt.tokens) - prompt.parts.get("tail", 0)
        head, cue_tokens = list(prompt.tokens[:cue]), list(prompt.tokens[cue:])
        entries: list[int] = []  # the tokens of the entries inserted so far
        text = ""  # the reply so far
        spelled: list[int] = []  # its tokens before the current stream
        before = ""  # its text before the current stream
        earlier: list[GenerationStats] = []
        tokens = list(prompt.tokens)
        while True:
            pieces = backend.stream(tokens, replace(sampling, max_tokens=sampling.max_tokens
                                                    - len(spelled)), stop=stop, cancel=cancel)
            found: Insertion | None = None
            try:
                for piece in pieces:
                    text += piece
                    yield Piece(piece)
                    if watch is None or len(self.insertions) >= self.most:
                        continue
                    named = watch.named(text, len(piece))
                    if named:
                        found = self._fits(backend, builder, prompt, sampling, state, named,
                                           entries, spelled, text, before)
                        watch.drop([i for i, _ in named])
                        if found is not None:
                            break
            finally:
                pieces.close()  # the backend's lock is held until it ends
            stats = self.stats = pieces.stats
            if self.insertions:
                self._cost(stats)
            if found is None or (cancel is not None and cancel.cancelled):
                if earlier:
                    _fold(stats, earlier, len(spelled))
                return
            earlier.append(replace(stats))
            for i in found.entries:
                entries += builder.tokens(builder.entry_line(state, i))
                # In the layout from now on, before the reply's turn: the next prompt keeps
                # it where the cache has it.
                builder.plan.late_world += ((i, len(state.turns)),)
            spelled = spelled + _spell(backend, text[len(before):])
            before = text
            self._spelled = (text, list(spelled))
            self.insertions.append(found)
            tokens = head + entries + cue_tokens + spelled
            yield LoreInserted(found.keys, found.at)

    def _fits(self, backend: Backend, builder: ContextBuilder, prompt: Prompt,
              sampling: Sampling, state: StoryState, named: list[tuple[int, str]],
              entries: list[int], spelled: list[int], text: str, before: str
              ) -> Insertion | None:
        """The insertion of the named entries that fit (None: none does, or the reply has
        no tokens left to write)."""
        so_far = len(spelled) + len(_spell(backend, text[len(before):]))
        if so_far >= sampling.max_tokens:
            return None
        # The whole reply must still fit after the entries (``used`` keeps room for it, but
        # at most half the context: a longer reply so far may already be past that room).
        room = backend.n_ctx - max(prompt.used, len(prompt.tokens) + so_far + 1) - len(entries)
        world_room = int(builder.n_ctx * builder.world_share) - prompt.parts.get("world", 0) \
            - len(entries)
        # Automatic entries also within their own share (``ContextBuilder.auto_room``).
        auto_room = builder.auto_room(state, [*prompt.active_world, *(
            i for insertion in self.insertions for i in insertion.entries)])
        kept: list[tuple[int, str]] = []
        size = 0
        for i, key in named:
            need = builder.entry_cost(state, i)
            automatic = need if i < 0 else 0
            if size + need <= min(room, world_room) and automatic <= auto_room:
                kept.append((i, key))
                size += need
                auto_room -= automatic
        if not kept:
            return None
        return Insertion(tuple(i for i, _ in kept), tuple(k for _, k in kept), len(text),
                         so_far, size)

    def _cost(self, stats: GenerationStats) -> None:
        """What the last restart evaluated, once its stream has ended."""
        last = self.insertions[-1]
        if not last.evaluated:
            self.insertions[-1] = replace(last, evaluated=stats.evaluated_tokens,
                                          seconds=stats.prompt_seconds)

    def tokens_for(self, backend: Backend, text: str) -> list[int] | None:
        """``backend.tokens_for`` for the last reply, across its restarts: ``text`` spelled
        with the tokens the reply was written in (None: not known)."""
        if self._spelled is not None and text.startswith(self._spelled[0]):
            known, tokens = self._spelled
            rest = text[len(known):]
            if not rest:
                return list(tokens)
            more = backend.tokens_for(rest)
            return None if more is None else tokens + more
        return backend.tokens_for(text)


def _scan(builder: ContextBuilder, state: StoryState, tail: str) -> str:
    """The text the prompt's world info was found in (as ``ContextBuilder`` scans it),
    which the reply continues."""
    recent = state.turns[-builder.scan_turns:] if builder.scan_turns else []
    return "".join(t.text for t in recent) + tail


def _spell(backend: Backend, text: str) -> list[int]:
    """The tokens the current stream wrote ``text`` in (tokenized when not kept)."""
    if not text:
        return []
    tokens = backend.tokens_for(text)
    return tokens if tokens is not None else backend.tokenize(text)


def _fold(last: GenerationStats, earlier: Sequence[GenerationStats], carried: int) -> None:
    """Make the last stream's stats the whole reply's: its prompt is the first stream's,
    the restarts' evaluations count, and so do the reply's tokens it was given."""
    first = earlier[0]
    last.prompt_tokens = first.prompt_tokens
    last.evaluated_tokens += sum(s.evaluated_tokens for s in earlier)
    last.generated_tokens += carried
    later = [*earlier[1:], last]
    last.generation_seconds = (sum(s.generation_seconds for s in earlier)
                               + sum(s.prompt_seconds for s in later) + last.generation_seconds)
    last.time_to_first_token = last.prompt_seconds = first.prompt_seconds
