"""Replies written ahead (``candidates``): what they cost the player, and what retry gains.

    python benchmarks/candidates.py [--model FILE] [--json OUT] [--quick] [--rounds N]
                                    [--write-rounds N]

Through the real ``Game`` and ``Session`` on a real ``LlamaBackend`` loaded as the game loads
it (``sequences=MAX_CANDIDATES``, one after another, 2 threads), on a GPT-2-124M-shaped Q8_0
file with random weights unless --model is given, with 60-token replies (``ignore_eos``, so
every reply is as long) to a story of about 450 tokens, played first. Each round restores
that story and plays, for candidates=3 and candidates=1 in turn (the order alternates per
round; both variants get the same actions and waits):

- a reply (the one alternatives are written for), then what the TUI does after it: the
  warm-up laid out on this thread (``Game.warm_up``), run on a worker thread (``Game.warm``:
  the next prompt, then candidates-1 more replies), and each reply written ahead taken in on
  this thread when the worker reports it (``on_ready`` -> ``Game.collect_ahead``);
- then one of: the player reads as long as that reply took and acts (``first_reply``:
  action to the reply's last token); reads as long and types ``/retry`` (``retry_latency``:
  to its ``Done``); or acts a short random moment (5-50% of a reply) into the background
  writing (``act_latency``: to the first piece of the reply).

Then the backend alone: ``write_ahead`` of 3 replies over 1 to the same prompt, batched
(``LlamaBackend(batched=True)``) and one after another. Figures are medians over rounds;
ratios are ratios of medians. The machine's speed drifts: compare only figures from one run.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import queue
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    THREADS,
    action,
    isolate,
    new_session,
    shaped_gguf,
    turn_prompt,
    write_json,
)

STORY_TOKENS = 450  # the story's prompt before each round: a few turns into a game
MANY = 3  # candidates in the measured variant (the default is 2; the most is 5)
SCENARIOS = ("read", "retry", "act")


@dataclasses.dataclass
class Timing:
    """Seconds from the line typed to its first piece, its last piece and its ``Done``."""

    first: float
    last: float
    done: float
    reason: str  # the Done's finish reason ("ahead": a reply written ahead was shown)


def play(game: Any, line: str, *, stop_at_first: bool = False) -> Timing:
    """Type ``line`` and run its stream as a front end does (``stop_at_first``: the player
    stops it once the first piece shows, to measure only the wait for it)."""
    from gpt2_adventure.game import Stream
    from gpt2_adventure.story.events import Done, Piece

    start = time.perf_counter()
    outcome = game.handle(line)
    if not isinstance(outcome, Stream):
        raise RuntimeError(f"{line!r} gave {outcome!r}, not a reply")
    first = last = 0.0
    for event in outcome.events:
        now = time.perf_counter() - start
        if isinstance(event, Piece):
            first = first or now
            last = now
            if stop_at_first:
                outcome.cancel.cancel()
        elif isinstance(event, Done):
            return Timing(first, last, now, event.finish_reason)
    raise RuntimeError(f"{line!r}: the stream ended without Done")


def read(game: Any, ready: queue.SimpleQueue, until: float) -> None:
    """The player reads until ``until``; meanwhile, as the TUI's ``on_ahead_ready`` does,
    each reply the worker reports written ahead is taken in on this thread."""
    while (left := until - time.perf_counter()) > 0:
        try:
            ready.get(timeout=left)
        except queue.Empty:
            return
        game.collect_ahead()


def open_game(model: Path, seed: int = 1) -> Any:
    """A game on a backend loaded as the game loads it (``sequences=MAX_CANDIDATES``)."""
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.sampling import MAX_CANDIDATES
    from gpt2_adventure.game import Game
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.saves.store import SaveStore

    backend = LlamaBackend(model, threads=THREADS, seed=seed, sequences=MAX_CANDIDATES)
    return Game(new_session(backend, seed), SaveStore(AppPaths.from_env()))


def deep_story(game: Any, tokens: int, rng: random.Random) -> Any:
    """Play (one reply per action) until the prompt is ``tokens`` long; the story then."""
    session = game.session
    session.sampling = dataclasses.replace(session.sampling, candidates=1)
    for _ in range(60):
        if session.last_prompt is not None and len(session.last_prompt.tokens) >= tokens:
            break
        play(game, action(rng))
    return copy.deepcopy(session.state)


def cycle(game: Any, story: Any, candidates: int, scenario: str, seed: int) -> Timing:
    """One measured turn: from ``story``, a reply, the background work the TUI starts
    after it, then ``scenario`` (read then act, read then retry, act at once)."""
    session = game.session
    session.replace_state(copy.deepcopy(story))
    session.sampling = dataclasses.replace(session.sampling, candidates=candidates)
    rng = random.Random(seed)  # the same actions and waits for both variants
    warmup = game.warm_up()
    if warmup is not None:
        game.warm(warmup)  # the player has read the story: the cache holds its prompt
    reply = play(game, action(rng))
    shown = time.perf_counter()
    warmup = game.warm_up()  # as GameScreen._finish -> _start_warming: laid out here...
    ready: queue.SimpleQueue = queue.SimpleQueue()
    worker = None
    if warmup is not None:  # ...and run on a worker, which reports each reply written
        worker = threading.Thread(target=game.warm, args=(warmup, lambda: ready.put(True)),
                                  name="warm", daemon=True)
        worker.start()
    try:
        if scenario == "act":
            read(game, ready, shown + reply.done * rng.uniform(0.05, 0.5))
            return play(game, action(rng), stop_at_first=True)
        read(game, ready, shown + reply.done)
        return play(game, "/retry" if scenario == "retry" else action(rng))
    finally:
        game.stop()
        if worker is not None:
            worker.join()


def game_rounds(model: Path, rounds: int, log: Callable[[str], None] = print
                ) -> dict[str, Any]:
    """The first reply, retry and acting while alternatives are written, with
    candidates=MANY and candidates=1, interleaved."""
    game = open_game(model)
    try:
        story = deep_story(game, STORY_TOKENS, random.Random(3))
        story_tokens = len(game.session.last_prompt.tokens)
        times: dict[tuple[str, int], list[Timing]] = {}
        for n in range(rounds):
            order = (MANY, 1) if n % 2 == 0 else (1, MANY)
            for scenario in SCENARIOS:
                for candidates in order:
                    timing = cycle(game, story, candidates, scenario, seed=1000 * n + 7)
                    times.setdefault((scenario, candidates), []).append(timing)
            log(f"round {n + 1}/{rounds} (candidates {MANY}/1): "
                f"read {_last(times, 'read', 'last')}, retry {_last(times, 'retry', 'done')} "
                f"({times['retry', MANY][-1].reason}), act {_last(times, 'act', 'first')}, "
                f"load {os.getloadavg()[0]:.1f}")
    finally:
        game.close()
        game.session.backend.close()

    def median(scenario: str, candidates: int, field: str) -> float:
        return statistics.median(getattr(t, field) for t in times[scenario, candidates])

    result: dict[str, Any] = {"rounds": rounds, "candidates": MANY,
                              "story_prompt_tokens": story_tokens}
    result["first_reply_s"] = median("read", MANY, "last")
    result["first_reply_single_s"] = median("read", 1, "last")
    result["first_reply_over_single"] = result["first_reply_s"] / result["first_reply_single_s"]
    result["retry_latency_ready_s"] = median("retry", MANY, "done")
    result["retry_latency_live_s"] = median("retry", 1, "done")
    retries = times["retry", MANY]
    result["retry_ready_share"] = sum(t.reason == "ahead" for t in retries) / len(retries)
    result["act_latency_while_writing_s"] = median("act", MANY, "first")
    result["act_latency_without_s"] = median("act", 1, "first")
    result["act_latency_while_writing_over_without"] = (
        result["act_latency_while_writing_s"] / result["act_latency_without_s"])
    return result


def _last(times: dict[tuple[str, int], list[Timing]], scenario: str, field: str) -> str:
    many, one = times[scenario, MANY][-1], times[scenario, 1][-1]
    return f"{getattr(many, field):.3f}/{getattr(one, field):.3f} s"


def write_rounds(model: Path, rounds: int) -> dict[str, Any]:
    """Wall time of ``write_ahead`` of 3 replies over 1, batched and one after another, to
    the same prompt (held by the main sequence, as after a warm-up), interleaved."""
    from gpt2_adventure.engine.backend import AheadRequest
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.sampling import MAX_CANDIDATES, Sampling

    backends = {batched: LlamaBackend(model, threads=THREADS, seed=1, batched=batched,
                                      sequences=MAX_CANDIDATES)
                for batched in (True, False)}
    sampling = Sampling(max_tokens=60, ignore_eos=True, temperature=0.8)
    try:
        prompt = turn_prompt(backends[True].tokenize, STORY_TOKENS)
        for backend in backends.values():
            backend.prefill(prompt)
        runs = [(batched, count) for batched in (True, False) for count in (MANY, 1)]
        seconds: dict[tuple[bool, int], list[float]] = {run: [] for run in runs}
        for n in range(rounds):
            for batched, count in runs[n % len(runs):] + runs[: n % len(runs)]:
                start = time.perf_counter()
                request = AheadRequest(prompt, [sampling] * count)
                written = list(backends[batched].write_ahead(request))
                seconds[batched, count].append(time.perf_counter() - start)
                if len(written) != count:
                    raise RuntimeError(f"wrote {len(written)} of {count}")
    finally:
        for backend in backends.values():
            backend.close()
    median = {run: statistics.median(values) for run, values in seconds.items()}
    return {
        "write_rounds": rounds,
        "write_prompt_tokens": len(prompt),
        "batched_3_s": median[True, MANY],
        "batched_1_s": median[True, 1],
        "batched_3_over_1": median[True, MANY] / median[True, 1],
        "sequential_3_s": median[False, MANY],
        "sequential_1_s": median[False, 1],
        "sequential_3_over_1": median[False, MANY] / median[False, 1],
    }


def measure(model: Path, rounds: int, writes: int, log: Callable[[str], None] = print
            ) -> dict[str, Any]:
    """Every figure: the game's rounds, then the backend's."""
    result = game_rounds(model, rounds, log)
    result.update(write_rounds(model, writes))
    return result


def table(result: dict[str, Any], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    shown = Table(title=title)
    shown.add_column("measure")
    shown.add_column("value", justify="right")
    for key, value in result.items():
        shown.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    Console().print(shown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--json", type=Path, dest="json_out")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds of each")
    parser.add_argument("--rounds", type=int, help="rounds through the game (default 15)")
    parser.add_argument("--write-rounds", type=int, help="rounds of write_ahead (default 10)")
    args = parser.parse_args()
    isolate()
    model = args.model or shaped_gguf("gpt2", "q8_0")
    rounds = args.rounds or (2 if args.quick else 15)
    writes = args.write_rounds or (2 if args.quick else 10)
    result: dict[str, Any] = {"model": str(model), "threads": THREADS, "quick": args.quick,
                              "load_average_before": os.getloadavg()[0]}
    result.update(measure(model, rounds, writes))
    result["load_average_after"] = os.getloadavg()[0]  # other work on the machine
    if args.json_out:
        write_json(args.json_out, result)
    table(result, f"replies written ahead ({model.name}, {THREADS} threads)")


if __name__ == "__main__":
    main()
