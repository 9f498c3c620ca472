"""What the benchmarks share, in one place: no benchmark imports another's helpers.

A benchmark takes from its siblings only this module and, to aggregate, another benchmark's
public ``measure`` (``run.py`` gathers the suite that way); ``tests/test_benchmark_imports.py``
checks it on the source. Here:

- the machine: ``THREADS`` (the 2 cores these figures come from), ``isolate`` (no player's
  config, data or tuning);
- models: ``SHAPES`` of the released GPT-2 models and ``shaped_gguf`` (random weights, the
  real GPT-2 vocabulary: speed does not depend on the weight values);
- figures: ``p95`` (nearest rank), ``timed``, ``write_json``;
- playing: ``sentence``/``action`` (story-like text), ``turn_prompt`` (a prompt as deep as
  a long game's), ``new_session``/``play_turn``/``warm`` (the real story engine on a
  backend), ``measure_turn``/``measure_game_turn`` (a turn as a player plays it, measured:
  ``TurnFigures``; ``evaluated_over_new`` sums them up), ``stream_stats`` (a bare reply's
  statistics), and the writing-speed loops ``bare_rate``/``app_rate`` (the app against a
  bare llama-cpp-python loop with the same sampler).

Nothing here runs at import time beyond putting the repository on ``sys.path``.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # (the package loads lazily: a benchmark's start is part of what it times)
    from gpt2_adventure.engine.backend import Backend, GenerationStats
    from gpt2_adventure.engine.sampling import Sampling

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

T = TypeVar("T")

THREADS = 2  # the cores of the machine the README's figures come from

# -- models ----------------------------------------------------------------------------------

# (n_layer, n_embd, n_head) of the released models
SHAPES = {
    "distilgpt2": (6, 768, 12),
    "gpt2": (12, 768, 12),
    "gpt2-medium": (24, 1024, 16),
    "gpt2-large": (36, 1280, 20),
    "gpt2-xl": (48, 1600, 25),
}
CACHE = ROOT / "benchmarks" / ".cache"


def shaped_gguf(shape: str = "gpt2", quant: str = "q8_0") -> Path:
    """Build (once, cached under benchmarks/.cache) a random GGUF of a released GPT-2 shape."""
    from gpt2_adventure.engine.llama.logs import route_llama_logs
    from gpt2_adventure.engine.models.convert import convert_checkpoint
    from tests.support.hf_checkpoint import make_checkpoint

    out = CACHE / f"{shape}-random-{quant}.gguf"
    if out.exists():
        return out
    n_layer, n_embd, n_head = SHAPES[shape]
    checkpoint = CACHE / f"{shape}-random-checkpoint"
    if not (checkpoint / "config.json").exists():
        make_checkpoint(checkpoint, n_layer=n_layer, n_embd=n_embd, n_head=n_head)
    route_llama_logs(CACHE / "llama.log")
    return convert_checkpoint(checkpoint, out, quant)


def isolate() -> Path:
    """Point the app's config, data and cache folders at a fresh temporary home (no
    player's settings, saves or tuning measured); returns that home."""
    home = Path(tempfile.mkdtemp(prefix="gpt2adv-bench-"))
    for part in ("CONFIG", "DATA", "CACHE"):
        os.environ[f"GPT2_ADVENTURE_{part}_DIR"] = str(home / part.lower())
    return home


# -- figures ---------------------------------------------------------------------------------


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(action: Callable[[], T]) -> tuple[float, T]:
    """(seconds ``action`` took, what it returned)."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def write_json(path: Path, result: Any) -> None:
    """A benchmark's figures as indented JSON (the form every ``--json OUT`` writes)."""
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


# -- playing ---------------------------------------------------------------------------------

_VOCABULARY = (
    "the old stone door wind castle road dark light you see a small fire near river guard "
    "sword shield dragon smoke falls slowly into quiet night cold hall king lantern stairs "
    "and with from across under behind shadow voice calls")
WORDS = _VOCABULARY.split()


def sentence(rng: random.Random, words: int) -> str:
    """A sentence of ``words`` words from a small adventure vocabulary."""
    body = " ".join(rng.choice(WORDS) for _ in range(words))
    return body[0].upper() + body[1:] + "."


def action(rng: random.Random) -> str:
    """A player's action of 10-14 words (what ``play_turn`` types)."""
    return sentence(rng, rng.randint(10, 14)).rstrip(".")


TURN_CONTEXT = 768  # a prompt three quarters into GPT-2's 1024 tokens, as in a long game


def turn_prompt(tokenize: Callable[[str], list[int]], length: int = TURN_CONTEXT) -> list[int]:
    """A story-like prompt of ``length`` tokens (the real GPT-2 vocabulary)."""
    rng = random.Random(7)
    text = ""
    while len(tokenize(text)) < length:
        text += " " + " ".join(sentence(rng, rng.randint(8, 14)) for _ in range(20))
    return tokenize(text)[:length]


def new_session(backend: Any, seed: int, builder: Any = None, state: Any = None) -> Any:
    """A ``Session`` of ``state`` (default: the bundled knight story, player "Anna") on
    ``backend``: 60-token replies that never stop early, no loop re-rolls (every turn costs
    the same)."""
    from gpt2_adventure.engine.sampling import Sampling
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.new_game import new_state
    from gpt2_adventure.story.seeds.library import find_seed
    from gpt2_adventure.story.session import Session

    if state is None:
        state = new_state(find_seed(AppPaths.from_env(), "knight"), {"name": "Anna"},
                          random.Random(seed))
    return Session(state, backend, Sampling(max_tokens=60, ignore_eos=True, temperature=0.8),
                   max_rerolls=0, builder=builder)


def play_turn(session: Any, text: str) -> Any:
    """The player does ``text``; the whole reply is written. Returns the reply's statistics
    (``GenerationStats``: time to first token, tokens evaluated, ...), as its ``Done``
    carries them."""
    from gpt2_adventure.story.events import Done

    stats = None
    for event in session.act(text, "do"):
        if isinstance(event, Done):
            stats = event.stats
    if stats is None:
        raise RuntimeError(f"{text!r}: the reply came without statistics")
    return stats


def warm(session: Any) -> int:
    """What the game does while the player reads and types: lay out the next prompt and
    evaluate it (a front end does the two halves on two threads). Returns the tokens
    evaluated."""
    tokens = session.warm_prompt()
    return 0 if tokens is None else int(session.prefill(tokens))


@dataclass(frozen=True)
class TurnFigures:
    """One turn as ``play_measured`` plays it."""

    ttft: float  # seconds from the action to the reply's first token
    evaluated: int  # prompt tokens evaluated for the reply (after the warm-up)
    warmed: int  # prompt tokens the warm-up before it evaluated
    new: int  # tokens new to the story since the last prompt: this action, the last reply
    prompt: tuple[int, ...]  # the reply's prompt
    generated: int  # the reply's tokens


def measure_turn(session: Any, text: str, previous_reply: int = 0) -> TurnFigures:
    """One turn of a player who has read the last reply (of ``previous_reply`` tokens): the
    next prompt warmed, as the game does meanwhile, then ``text`` acted and its reply written."""
    warmed = warm(session)
    stats = play_turn(session, text)
    action_tokens = len(session.backend.tokenize(session.state.turns[-2].text))
    prompt = tuple(session.last_prompt.tokens) if session.last_prompt is not None else ()
    return TurnFigures(stats.time_to_first_token, stats.evaluated_tokens, warmed,
                       action_tokens + previous_reply, prompt, stats.generated_tokens)


def play_measured(session: Any, actions: Iterable[str]) -> list[TurnFigures]:
    """``measure_turn`` for each of ``actions`` in turn."""
    figures: list[TurnFigures] = []
    for text in actions:
        figures.append(measure_turn(session, text, figures[-1].generated if figures else 0))
    return figures


def measure_game_turn(game: Any, text: str, previous_reply: int = 0,
                      after_warm_up: Callable[[], None] | None = None) -> TurnFigures:
    """``measure_turn`` through a ``Game`` as the TUI plays it: the warm-up laid out
    (``Game.warm_up``) and run (``Game.warm``: the next prompt, replies written ahead, the
    window after the next trim in the spare sequence) to its end while the player reads, then
    the line handled and its reply's stream run (``after_warm_up`` is called between)."""
    from gpt2_adventure.game import Stream
    from gpt2_adventure.story.events import Done

    warmup = game.warm_up()
    warmed = 0 if warmup is None else int(game.warm(warmup))
    if after_warm_up is not None:
        after_warm_up()
    outcome = game.handle(text)
    if not isinstance(outcome, Stream):
        raise RuntimeError(f"{text!r} gave {outcome!r}, not a reply")
    stats = None
    for event in outcome.events:
        if isinstance(event, Done):
            stats = event.stats
    if stats is None:
        raise RuntimeError(f"{text!r}: the reply came without statistics")
    session = game.session
    action_tokens = len(session.backend.tokenize(session.state.turns[-2].text))
    prompt = tuple(session.last_prompt.tokens) if session.last_prompt is not None else ()
    return TurnFigures(stats.time_to_first_token, stats.evaluated_tokens, warmed,
                       action_tokens + previous_reply, prompt, stats.generated_tokens)


def evaluated_over_new(figures: Sequence[TurnFigures]) -> float:
    """Prompt tokens llama.cpp evaluated (warm-ups included) per token new to the story, the
    first turn left out (it evaluates the whole story once)."""
    later = figures[1:]
    return (sum(f.evaluated + f.warmed for f in later)) / max(1, sum(f.new for f in later))


def stream_stats(backend: Backend, prompt: Sequence[int], sampling: Sampling) -> GenerationStats:
    """Run ``backend.stream`` to its end; the reply's ``GenerationStats``."""
    reply = backend.stream(prompt, sampling)
    for _ in reply:
        pass
    return reply.stats


# -- writing speed: the app against a bare llama-cpp-python loop --------------------------------

PROMPT = "You are a knight living in the kingdom of Larion. You have a steel longsword."
SAMPLER = {"temp": 0.6, "top_k": 40, "top_p": 0.9, "min_p": 0.0, "repeat_penalty": 1.0}


def bare_rate(llm: Any, tokens: list[int], n: int) -> float:
    """Tokens/s after the first token, the way a plain llama-cpp-python script streams."""
    llm.reset()
    first = 0.0
    count = 0
    for token in llm.generate(tokens, **SAMPLER):
        llm.detokenize([token])
        count += 1
        if count == 1:
            first = time.perf_counter()
        if count >= n:
            break
    return (count - 1) / (time.perf_counter() - first)


def app_rate(backend: Any, tokens: list[int], n: int) -> float:
    """Tokens/s after the first token through ``LlamaBackend.stream`` from an empty cache,
    with ``SAMPLER``'s settings."""
    from gpt2_adventure.engine.sampling import Sampling

    backend.reset_cache()
    sampling = Sampling(temperature=float(SAMPLER["temp"]), top_k=int(SAMPLER["top_k"]),
                        top_p=float(SAMPLER["top_p"]), repeat_penalty=1.0, max_tokens=n,
                        ignore_eos=True)
    stats = stream_stats(backend, tokens, sampling)
    assert stats.generated_tokens == n, stats
    return float(stats.tokens_per_second)
