"""The speed suite: throughput, turn latency vs a naive builder, warm resume, memory, replies
written ahead, upstream llama.cpp's own benchmark, and long stories' memory.

    python benchmarks/run.py [--quick] [--model FILE] [--turns N] [--json OUT] [--shapes A,B]

On a GPT-2-124M-shaped Q8_0 file with random weights unless --model is given (speed does not
depend on the weight values). Prints a Rich table; --json writes every figure, including
ttft_ratio_naive_over_ours, evaluated_over_new_tokens, mean_context_fill,
resume_ttft_over_warm, app_over_bare_tok_s and over_transformers_tok_s (null without
transformers installed); from a few rounds of benchmarks/candidates.py (run it alone for
more): first_reply_over_single, retry_latency_ready_s, act_latency_while_writing_over_without,
batched_3_over_1 and sequential_3_over_1; and app_over_upstream_tg128, the app's writing
speed over ``llama-bench``'s tg128 at the same threads and flash attention (null, with a
note, when llama-bench is not on PATH; see benchmarks/upstream.py); from
benchmarks/memory.py (its whole JSON under "long_story"): fact_recall_in_prompt,
recall_precision, ttft_over_without_recall, evaluated_over_new_tokens_with_recall,
index_ms_per_turn_p95, recall_query_ms_at_10k_turns and autosave_ms_10k_over_10_turns
(--quick: at 1,000 turns).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.candidates import measure as measure_candidates  # noqa: E402
from benchmarks.common import (  # noqa: E402
    PROMPT,
    SHAPES,
    THREADS,
    action,
    app_rate,
    bare_rate,
    evaluated_over_new,
    isolate,
    new_session,
    p95,
    play_measured,
    play_turn,
    shaped_gguf,
    stream_stats,
    turn_prompt,
    warm,
    write_json,
)
from benchmarks.memory import measure as measure_memory  # noqa: E402
from benchmarks.upstream import measure as measure_upstream  # noqa: E402

HEADLINE_CANDIDATES = ("first_reply_over_single", "retry_latency_ready_s",
                       "act_latency_while_writing_over_without", "batched_3_over_1",
                       "sequential_3_over_1")
# issue 24's aims for long stories, from benchmarks/memory.py; "evaluated_over_new_tokens"
# is this suite's own figure (no recall), so memory's comes up as ..._with_recall
HEADLINE_MEMORY = ("fact_recall_in_prompt", "recall_precision", "ttft_over_without_recall",
                   "index_ms_per_turn_p95", "recall_query_ms_at_10k_turns",
                   "autosave_ms_10k_over_10_turns")


def throughput(model: Path, tokens: int, rounds: int) -> dict[str, Any]:
    """Tokens/s after the first token for the app, a bare llama-cpp-python loop and
    transformers, from a short prompt and from a prompt at a long game's context (the
    headline figures: a reply in a game is written on top of a long story)."""
    import contextlib
    import io

    import llama_cpp

    from gpt2_adventure.engine.llama.backend import LlamaBackend

    backend = LlamaBackend(model, threads=THREADS, seed=1)
    with contextlib.redirect_stderr(io.StringIO()):
        llm = llama_cpp.Llama(model_path=str(model), n_ctx=1024, n_threads=THREADS,
                              n_threads_batch=THREADS, seed=1, verbose=False)
    prompts = {"short": backend.tokenize(PROMPT), "turn": turn_prompt(backend.tokenize)}
    result: dict[str, Any] = {"turn_prompt_tokens": len(prompts["turn"])}
    hf_round = transformers_rounds()
    for label, prompt in prompts.items():
        bare, app, hf = [], [], []
        for _ in range(rounds):  # interleaved: this machine's speed drifts over minutes
            bare.append(bare_rate(llm, prompt, tokens))
            app.append(app_rate(backend, prompt, tokens))
            if hf_round is not None:
                hf.append(hf_round(prompt, tokens))
        result[f"{label}_bare_tok_s"] = statistics.median(bare)
        result[f"{label}_app_tok_s"] = statistics.median(app)
        result[f"{label}_transformers_tok_s"] = statistics.median(hf) if hf else None
        result[f"{label}_app_over_bare"] = statistics.median(app) / statistics.median(bare)
        hf = result[f"{label}_transformers_tok_s"]
        result[f"{label}_over_transformers"] = statistics.median(app) / hf if hf else None
    backend.close()
    llm.close()
    result["app_over_bare_tok_s"] = result["turn_app_over_bare"]
    result["over_transformers_tok_s"] = result["turn_over_transformers"]
    return result


def transformers_rounds() -> Callable[[list[int], int], float] | None:
    """One round of Hugging Face transformers on the CPU (same shape, threads and measure:
    tokens/s after the first, greedy with its KV cache); None when it is not installed."""
    try:
        import torch
        from transformers import GPT2Config, GPT2LMHeadModel
        from transformers.generation.streamers import BaseStreamer
    except ImportError:
        return None

    class Clock(BaseStreamer):  # type: ignore[misc]
        def __init__(self) -> None:
            self.times: list[float] = []

        def put(self, value: Any) -> None:  # the prompt first, then one call per token
            self.times.append(time.perf_counter())

        def end(self) -> None:
            pass

    torch.set_num_threads(THREADS)
    model = GPT2LMHeadModel(GPT2Config()).eval()

    def one_round(prompt: list[int], tokens: int) -> float:
        ids = torch.tensor([prompt])
        clock = Clock()
        with torch.inference_mode():
            model.generate(ids, max_new_tokens=tokens, min_new_tokens=tokens,
                           do_sample=False, streamer=clock)
        return (tokens - 1) / (clock.times[-1] - clock.times[1])  # [1]: the first new token

    one_round([464] * 16, 4)  # warm-up
    return one_round


def turn_latency(model: Path, turns: int, naive_samples: int) -> dict[str, Any]:
    """Our builder over a long adventure, and the naive builder's cost at the same prompts."""
    from gpt2_adventure.engine.llama.backend import LlamaBackend

    backend = LlamaBackend(model, threads=THREADS, seed=1)
    session = new_session(backend, 1)
    rng = random.Random(5)
    # As in the game: the next prompt is evaluated while the player types.
    played = play_measured(session, (action(rng) for _ in range(turns)))
    ours = [t.ttft for t in played]
    evaluated = [t.evaluated for t in played]
    fills = [(len(t.prompt) + 60) / backend.n_ctx for t in played]
    full = [fill >= 0.8 for fill in fills]
    fullest = list(max(played, key=lambda t: len(t.prompt)).prompt)
    # The naive builder (the classic dungeons): the whole prompt evaluated every turn.
    naive = []
    prompt = fullest  # the classic dungeons' turn at full context
    for _ in range(naive_samples):
        backend.reset_cache()
        stats = stream_stats(backend, prompt, session.sampling.with_changes(max_tokens=1))
        naive.append(stats.time_to_first_token)
    backend.close()
    warm_full = [t for t, f in zip(ours[1:], full[1:]) if f] or ours[1:]
    return {
        "turns": turns,
        "ours_ttft_median_s": statistics.median(warm_full),
        "ours_ttft_p95_s": p95(warm_full),
        "naive_ttft_median_s": statistics.median(naive),
        "naive_ttft_p95_s": p95(naive),
        "ttft_ratio_naive_over_ours": statistics.median(naive) / statistics.median(warm_full),
        "evaluated_over_new_tokens": evaluated_over_new(played),
        "evaluated_at_reply_over_new_tokens": sum(evaluated[1:])
        / max(1, sum(t.new for t in played[1:])),
        "mean_context_fill": statistics.mean(fills),
        "mean_evaluated_tokens": statistics.mean(evaluated[1:]),
        "full_prompt_tokens": len(prompt),
    }


def resume(model: Path, turns: int, loads: int = 4) -> dict[str, Any]:
    """TTFT of the first turn after loading a save, with and without the stored state.

    The game warms the next prompt when it opens and after every reply (the turn-latency run
    does the same), so warm turns and the resumed turn "as the game plays it" come after
    ``common.warm``; with a stored state that warm-up evaluates one token. The immediate
    figures are a player who acts before any warm-up (without a state: the whole prompt)."""
    from dataclasses import replace

    from gpt2_adventure.config import Settings
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.sampling import Sampling
    from gpt2_adventure.launch import Launch, load_state, open_game
    from gpt2_adventure.paths import AppPaths

    sampling = Sampling(max_tokens=60, ignore_eos=True, temperature=0.8)
    launch = Launch(paths=AppPaths.from_env(), settings=Settings(sampling=sampling),
                    mode="play", story="knight", name="Anna", rng_seed=1)
    backend = LlamaBackend(model, threads=THREADS, seed=1)
    session = new_session(backend, 2)
    state = session.state
    game = open_game(launch, backend, state, sampling)
    game.session.max_rerolls = 0
    rng = random.Random(9)
    warmed_ttft = []
    for _ in range(turns):
        warm(game.session)
        warmed_ttft.append(play_turn(game.session, action(rng)).time_to_first_token)
    game.close()
    backend.close()
    results: dict[str, list[float]] = {}
    warmed: list[int] = []
    variants = [("with_state", True, True), ("with_state_immediate", True, False)] * loads
    variants += [("without_state_immediate", False, False)] * loads  # last: it stores none
    for label, keep, warm_first in variants:
        base = Settings(sampling=sampling)
        launch.settings = replace(base, model=replace(base.model, save_state=keep))
        launch.load = f"autosave/{state.id}"
        backend = LlamaBackend(model, threads=THREADS, seed=1)
        game = open_game(launch, backend, load_state(launch), sampling)
        game.session.max_rerolls = 0
        if warm_first:
            warmed.append(warm(game.session))
        stats = play_turn(game.session, action(random.Random(11)))
        results.setdefault(label, []).append(stats.time_to_first_token)
        game.close()
        backend.close()
    warm_median = statistics.median(warmed_ttft[len(warmed_ttft) // 2:])
    median = {label: statistics.median(values) for label, values in results.items()}
    return {
        "warm_ttft_s": warm_median,
        "resume_with_state_ttft_s": median["with_state"],
        "resume_warm_up_tokens_median": statistics.median(warmed),
        "resume_with_state_immediate_ttft_s": median["with_state_immediate"],
        "resume_without_state_immediate_ttft_s": median["without_state_immediate"],
        "resume_ttft_over_warm": median["with_state"] / warm_median,
        "resume_immediate_ttft_over_warm": median["with_state_immediate"] / warm_median,
    }


def memory(model: Path) -> dict[str, Any]:
    """Peak RSS of a fresh process that loads the model and writes 64 tokens. Read from
    VmHWM: ru_maxrss carries the parent's peak across fork and exec (torch, once loaded here,
    made a 124M model look like 1.5 GB)."""
    import subprocess

    code = (
        "from gpt2_adventure.engine.llama.backend import LlamaBackend\n"
        "from gpt2_adventure.engine.sampling import Sampling\n"
        f"b = LlamaBackend({str(model)!r}, threads={THREADS})\n"
        "''.join(b.stream('Hello', Sampling(max_tokens=64, ignore_eos=True)))\n"
        "status = open('/proc/self/status').read()\n"
        "print(status.split('VmHWM:')[1].split()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return {"peak_rss_mb": int(out.stdout.split()[-1]) / 1024,
            "file_mb": model.stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few turns and rounds")
    parser.add_argument("--model", type=Path)
    parser.add_argument("--turns", type=int)
    parser.add_argument("--json", type=Path, dest="json_out")
    parser.add_argument("--shapes", default="",
                        help="also measure peak RSS for these shapes (comma-separated: "
                             "distilgpt2, gpt2-medium, gpt2-large, gpt2-xl), built once")
    args = parser.parse_args()
    isolate()
    model = args.model or shaped_gguf("gpt2", "q8_0")
    turns = args.turns or (8 if args.quick else 200)
    rounds = 1 if args.quick else 5
    result: dict[str, Any] = {"model": str(model), "threads": THREADS, "quick": args.quick}
    result["throughput"] = throughput(model, 32 if args.quick else 128, rounds)
    result["turns"] = turn_latency(model, turns, 2 if args.quick else 10)
    result["resume"] = resume(model, 4 if args.quick else 12, 1 if args.quick else 4)
    result["memory"] = memory(model)
    for shape in filter(None, (name.strip() for name in args.shapes.split(","))):
        if shape not in SHAPES:
            parser.error(f"unknown shape {shape!r}; one of {', '.join(SHAPES)}")
        result["memory"][f"{shape}_peak_rss_mb"] = memory(shaped_gguf(shape, "q8_0"))[
            "peak_rss_mb"]
    result["peak_rss_mb_this_process"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for key in ("app_over_bare_tok_s", "over_transformers_tok_s"):
        result[key] = result["throughput"][key]
    for key in ("ttft_ratio_naive_over_ours", "evaluated_over_new_tokens", "mean_context_fill"):
        result[key] = result["turns"][key]
    result["resume_ttft_over_warm"] = result["resume"]["resume_ttft_over_warm"]
    result["candidates"] = measure_candidates(model, 1 if args.quick else 3,
                                              1 if args.quick else 4, log=lambda _line: None)
    for key in HEADLINE_CANDIDATES:
        result[key] = result["candidates"][key]
    result["upstream"] = measure_upstream(model, rounds=1 if args.quick else 3,
                                          repetitions=1 if args.quick else 5)
    result["app_over_upstream_tg128"] = result["upstream"]["app_over_upstream_tg128"]
    result["long_story"] = measure_memory(model, quick=args.quick, log=lambda _line: None)
    for key in HEADLINE_MEMORY:
        result[key] = result["long_story"][key]
    result["evaluated_over_new_tokens_with_recall"] = result["long_story"][
        "evaluated_over_new_tokens"]
    if args.json_out:
        write_json(args.json_out, result)
    _table(result)


def _table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"gpt2-adventure speed suite ({Path(result['model']).name}, "
                        f"{result['threads']} threads)")
    table.add_column("group")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for group in ("throughput", "turns", "resume", "memory", "candidates", "upstream",
                  "long_story"):
        for key, value in result[group].items():
            if isinstance(value, (dict, list)):
                continue  # the details: in the JSON
            shown = "n/a" if value is None else (f"{value:.3f}" if isinstance(value, float)
                                                 else str(value))
            table.add_row(group, key, shown)
    Console().print(table)


if __name__ == "__main__":
    main()
