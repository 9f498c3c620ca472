"""Trim turns on a big model: time to the first token over a scripted game where the player
acts a few seconds after each reply, with the next window evaluated ahead in the spare
sequence and without (as before: the warm-up alone).

    python benchmarks/trim.py [--shape gpt2-xl] [--turns 60] [--think 3] [--model FILE]
                              [--variants spare,without,...] [--json OUT]

GPT-2's positions are absolute: when the window moves, everything it keeps is evaluated
again (~500 tokens; ~6 s at the gpt2-xl shape's ~80 prompt tokens/s on 2 cores). Keys:
``xl_trim_ttft_p95_fast_player_s`` (p95 over all turns, with the spare), the same without
it, the worst time at a trim turn for both, and the memory the spare's cells cost; per game
(``--variants``: what one idea changes, played one after another in the same run) the p95,
the median of the turns without a trim, the trim turns' times and the load average.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHAPES, THREADS, isolate, p95, sentence, shaped_gguf  # noqa: E402

# The games one run can play, side by side on the same machine (``--variants``): what each
# changes from the game as it ships.
VARIANTS: dict[str, str] = {
    "spare": "as it ships: the next window evaluated ahead in the spare sequence",
    "without": "no spare sequence: a trim evaluates the kept window at the reply",
    "wait": "the spare, with background chunks of ~0.1 s that a reply waits for instead of "
            "chunks it aborts inside llama.cpp (as before)",
    "low-water": "the spare, with trims down to 35% of the context, not 40%",
    "half": "the spare, with trims down to half the context (as before 2026-12-08)",
    "candidates": "the spare, with 1 alternative written ahead (candidates 2, as shipped)",
    "candidates-ahead-first": "candidates 2, writing ahead first even when a trim is near",
    "candidates-spare-first": "candidates 2, the whole window after the trim evaluated before "
                              "writing ahead, not a share of it",
}


def warm_up(game: Any, think: float) -> None:
    """The warm-up on a worker while the player reads for ``think`` seconds."""
    warmup = game.warm_up()
    if warmup is not None:
        threading.Thread(target=game.warm, args=(warmup,), daemon=True).start()
    time.sleep(think)


def play(model: Path, turns: int, think: float, variant: str, seed: int = 3) -> dict[str, Any]:
    """One scripted game; returns every turn's time to first token and the trim turns."""
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.loader import GAME_SEQUENCES
    from gpt2_adventure.engine.sampling import Sampling
    from gpt2_adventure.game import Game, Stream
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.events import Done, Piece
    from gpt2_adventure.story.new_game import new_state
    from gpt2_adventure.story.saves.store import SaveStore
    from gpt2_adventure.story.seeds.library import find_seed
    from gpt2_adventure.story.session import Session

    paths = AppPaths.from_env()
    backend = LlamaBackend(model, threads=THREADS, seed=1, sequences=GAME_SEQUENCES)
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(seed))
    candidates = 2 if variant.startswith("candidates") else 1
    session = Session(state, backend, Sampling(max_tokens=60, temperature=0.8,
                                               candidates=candidates), max_rerolls=0)
    if variant == "without":
        session.builder.next_at = math.inf  # never laid out ahead: the trim as before
    elif variant == "wait":
        backend.abort_background = False
    elif variant == "low-water":
        session.builder.low_water = 0.35
    elif variant == "half":
        session.builder.low_water = 0.5
    elif variant == "candidates-ahead-first":
        session.spare_first = lambda *args, **kwargs: 0  # type: ignore[method-assign]
    elif variant == "candidates-spare-first":
        session.spare_first = lambda spare, *args, **kwargs: len(spare)  # type: ignore[method-assign]
    game = Game(session, SaveStore(paths)).open()
    rng = random.Random(seed)
    ttfts: list[float] = []
    trims: list[int] = []
    evaluated: list[int] = []
    prompts: list[int] = []
    spare_tokens = 0
    try:
        window = 0
        warm_up(game, think)  # as the TUI does when it shows the game
        for turn in range(turns):
            # The window moves when a prompt is laid out: usually at the warm-up after the
            # reply before, else at the action. Either way this turn pays for it.
            moved = session.builder.plan.window_start != window
            started = time.perf_counter()
            outcome = game.handle(sentence(rng, rng.randint(8, 12)).rstrip("."))
            assert isinstance(outcome, Stream)
            first = 0.0
            for event in outcome.events:
                if not first and isinstance(event, (Piece, Done)):
                    first = time.perf_counter() - started
                if isinstance(event, Done) and event.stats is not None:
                    evaluated.append(event.stats.evaluated_tokens)  # at the reply
                    prompts.append(event.stats.prompt_tokens)
            ttfts.append(first)
            if moved or session.builder.plan.window_start != window:
                trims.append(turn)
            print(f"{variant} turn {turn + 1}: first word after {first:.2f} s, "
                  f"{evaluated[-1] if evaluated else '?'} of {prompts[-1] if prompts else '?'} "
                  "prompt tokens evaluated at the reply"
                  + (" (trim)" if trims and trims[-1] == turn else ""), file=sys.stderr,
                  flush=True)
            window = session.builder.plan.window_start
            warm_up(game, think)  # as the TUI does after a reply
            if backend.supports_spare:
                spare_tokens = max(spare_tokens, len(backend._seqs.tokens[backend._spare]))  # noqa: SLF001
    finally:
        game.close()
        backend.close()
    return {"ttfts": ttfts, "trims": trims, "spare_tokens": spare_tokens,
            "evaluated": evaluated, "prompts": prompts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="gpt2-xl", choices=sorted(SHAPES))
    parser.add_argument("--model", type=Path)
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--think", type=float, default=3.0, help="seconds before each action")
    parser.add_argument("--json", type=Path, dest="json_out")
    parser.add_argument("--variants", default="spare,without",
                        help="games to play one after another, comma-separated: "
                        + "; ".join(f"{k} ({v})" for k, v in VARIANTS.items()).replace("%", "%%"))
    parser.add_argument("--only", choices=("spare", "without"), help="one of the two games")
    args = parser.parse_args()
    names = [args.only] if args.only else [v.strip() for v in args.variants.split(",")]
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r} (known: {', '.join(VARIANTS)})")
    isolate()
    model = args.model or shaped_gguf(args.shape, "q8_0")
    n_layer, n_embd, _ = SHAPES[args.shape]
    result: dict[str, Any] = {"model": str(model), "turns": args.turns, "think_s": args.think}
    runs = {}
    for name in names:  # the machine's load before and after each game, as uptime has it
        load = os.getloadavg()[0]
        runs[name] = play(model, args.turns, args.think, name)
        runs[name]["load"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    for name, run in runs.items():
        trims = set(run["trims"])
        at_trims = [run["ttfts"][t] for t in sorted(trims)] or [0.0]
        ordinary = sorted(t for i, t in enumerate(run["ttfts"]) if i not in trims) or [0.0]
        result[name] = {"ttft_p95_s": p95(run["ttfts"]),
                        "ttft_median_s": sorted(run["ttfts"])[len(run["ttfts"]) // 2],
                        "ordinary_ttft_median_s": ordinary[len(ordinary) // 2],
                        "trim_turns": run["trims"], "trim_ttft_max_s": max(at_trims),
                        "trim_ttfts_s": at_trims, "load_average": run["load"],
                        # prompt tokens evaluated at each trim turn's reply, and the prompt
                        "trim_evaluated_tokens": [run["evaluated"][t] for t in sorted(trims)
                                                  if t < len(run["evaluated"])],
                        "trim_prompt_tokens": [run["prompts"][t] for t in sorted(trims)
                                               if t < len(run["prompts"])]}
    if "spare" in runs:
        result["xl_trim_ttft_p95_fast_player_s"] = result["spare"]["ttft_p95_s"]
        kv_per_token = 2 * n_layer * n_embd * 2  # K and V, f16
        result["spare_extra_mb"] = runs["spare"]["spare_tokens"] * kv_per_token / 2**20
    if "without" in runs:
        result["xl_trim_ttft_p95_without_spare_s"] = result["without"]["ttft_p95_s"]
    print(json.dumps(result, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
