"""Scripted games at each sampling preset, scored with ``metrics`` (``bench --quality``).

Every preset plays the same stories with the same player lines (``script``) for the same
number of turns, as the game plays them: ``Session.act`` for the reply (re-rolled when it
loops), then the replies a retry would show written ahead (``ahead_job``/``write_ahead``,
``candidates`` in all). A story's own suggested sampling is left out, so that each preset is
measured as it is. With random weights the figures mean nothing; with a real model they tell
which preset loops least, repeats least and follows the player best.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.events import Done
from gpt2_adventure.story.model import Seed
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.quality import metrics
from gpt2_adventure.story.quality.script import action
from gpt2_adventure.story.session import Session
from gpt2_adventure.units import count

CANDIDATES = 3  # replies per turn: the shown one and two a retry would show
_SPEAKER = re.compile(r"\A\s*[^:\n]{1,40}:[ \t]*")  # "\nName: " before a chat turn


@dataclass
class TurnRecord:
    action: str
    reply: str
    alternatives: list[str]  # the reply first, then those written ahead
    rerolls: int


@dataclass
class GameRecord:
    story: str
    turns: list[TurnRecord] = field(default_factory=list)


@dataclass
class PresetQuality:
    """One preset's figures over its games (None: nothing to measure, e.g. no 4-word reply)."""

    preset: str
    games: int
    turns: int
    distinct_1: float | None
    distinct_2: float | None
    distinct_3: float | None
    seq_rep_4: float | None  # mean over replies of 4+ words
    sentence_loop_rate: float | None  # over every game's replies, in order
    self_bleu_4: float | None  # mean over turns with 2+ alternatives
    action_uptake: float | None  # share of replies to an action with a content word
    mean_reply_words: float | None
    rerolls_per_turn: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def score(preset: str, games: Sequence[GameRecord]) -> PresetQuality:
    turns = [t for g in games for t in g.turns]
    replies = [t.reply for t in turns]
    said = [[s for t in g.turns for s in metrics.sentences(t.reply)] for g in games]
    total = sum(len(s) for s in said)
    uptake = [u for u in (metrics.takes_up(t.action, t.reply) for t in turns) if u is not None]
    return PresetQuality(
        preset=preset, games=len(games), turns=len(turns),
        distinct_1=metrics.distinct_n(replies, 1), distinct_2=metrics.distinct_n(replies, 2),
        distinct_3=metrics.distinct_n(replies, 3),
        seq_rep_4=_mean([r for r in map(metrics.seq_rep_n, replies) if r is not None]),
        sentence_loop_rate=sum(map(metrics.sentence_loops, said)) / total if total else None,
        self_bleu_4=_mean([b for b in (metrics.self_bleu(t.alternatives) for t in turns)
                           if b is not None]),
        action_uptake=_mean([1.0 if u else 0.0 for u in uptake]),
        mean_reply_words=_mean([len(metrics.words(r)) for r in replies]),
        rerolls_per_turn=_mean([t.rerolls for t in turns]))


def play_game(backend: Backend, seed: Seed, sampling: Sampling, turns: int,
              rng: random.Random) -> GameRecord:
    """One scripted game of ``turns`` actions from ``seed``."""
    state = new_state(seed, {}, rng)
    session = Session(state, backend, sampling)
    record = GameRecord(seed.id)
    for turn in range(turns):
        line, kind = action(state.mode, turn)
        done = next(e for e in reversed(list(session.act(line, kind))) if isinstance(e, Done))
        alternatives = [done.text]
        job = session.ahead_job()
        if job is not None:
            session.write_ahead(job)
            session.collect_ahead()
            ahead = state.turns[-1].ahead
            alternatives += [_SPEAKER.sub("", a) if state.mode == "chat" else a for a in ahead]
        record.turns.append(TurnRecord(line, done.text, alternatives, done.rerolls))
    return record


def run_quality(backend: Backend, seeds: Sequence[Seed], presets: dict[str, Sampling],
                turns: int, *, candidates: int = CANDIDATES, seed: int = 0,
                progress: Callable[[str], None] | None = None) -> list[PresetQuality]:
    """Each preset's figures over ``seeds``, each played ``turns`` turns; the same story
    openings for every preset (``seed``)."""
    out = []
    for name, sampling in presets.items():
        sampling = replace(sampling, candidates=candidates)
        games = []
        for index, story in enumerate(seeds):
            if progress is not None:
                progress(f"{name}: {story.id} ({index + 1}/{len(seeds)}), {count(turns, 'turn')}")
            games.append(play_game(backend, story, sampling, turns,
                                   random.Random(f"{seed}:{story.id}")))
        out.append(score(name, games))
    return out
