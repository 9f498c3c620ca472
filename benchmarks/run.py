"""The speed suite: throughput, turn latency vs a naive builder, warm resume, memory, replies
written ahead, and upstream llama.cpp's own benchmark.

    python benchmarks/run.py [--quick] [--model FILE] [--turns N] [--json OUT] [--shapes A,B]

On a GPT-2-124M-shaped Q8_0 file with random weights unless --model is given (speed does not
depend on the weight values). Prints a Rich table; --json writes every figure, including
ttft_ratio_naive_over_ours, evaluated_over_new_tokens, mean_context_fill,
resume_ttft_over_warm, app_over_bare_tok_s and over_transformers_tok_s (null without
transformers installed); from a few rounds of benchmarks/candidates.py (run it alone for
more): first_reply_over_single, retry_latency_ready_s, act_latency_while_writing_over_without,
batched_3_over_1 and sequential_3_over_1; and app_over_upstream_tg128, the app's writing
speed over ``llama-bench``'s tg128 at the same threads and flash attention (null, with a
note, when llama-bench is not on PATH; see benchmarks/upstream.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate_overhead import PROMPT, app_rate, bare_rate  # noqa: E402
from benchmarks.prefix_stability import sentence  # noqa: E402
from benchmarks.shapes import SHAPES, shaped_gguf  # noqa: E402

THREADS = 2
HEADLINE_CANDIDATES = ("first_reply_over_single", "retry_latency_ready_s",
                       "act_latency_while_writing_over_without", "batched_3_over_1",
                       "sequential_3_over_1")


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _isolate() -> None:
    home = Path(tempfile.mkdtemp(prefix="gpt2adv-suite-"))
    for part in ("CONFIG", "DATA", "CACHE"):
        os.environ[f"GPT2_ADVENTURE_{part}_DIR"] = str(home / part.lower())


TURN_CONTEXT = 768  # a prompt three quarters into GPT-2's 1024 tokens, as in a long game


def turn_prompt(tokenize: Any, length: int = TURN_CONTEXT) -> list[int]:
    """A story-like prompt of ``length`` tokens (the real GPT-2 vocabulary)."""
    rng = random.Random(7)
    text = ""
    while len(tokenize(text)) < length:
        text += " " + " ".join(sentence(rng, rng.randint(8, 14)) for _ in range(20))
    return tokenize(text)[:length]


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


def _new_session(model_backend: Any, seed: int) -> Any:
    from gpt2_adventure.engine.sampling import Sampling
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.new_game import new_state
    from gpt2_adventure.story.seeds.library import find_seed
    from gpt2_adventure.story.session import Session

    state = new_state(find_seed(AppPaths.from_env(), "knight"), {"name": "Anna"},
                      random.Random(seed))
    return Session(state, model_backend,
                   Sampling(max_tokens=60, ignore_eos=True, temperature=0.8), max_rerolls=0)


def _turn(session: Any, rng: random.Random) -> Any:
    events = list(session.act(sentence(rng, rng.randint(10, 14)).rstrip("."), "do"))
    return events[-1].stats  # the Done's


def turn_latency(model: Path, turns: int, naive_samples: int) -> dict[str, Any]:
    """Our builder over a long adventure, and the naive builder's cost at the same prompts."""
    from gpt2_adventure.engine.llama.backend import LlamaBackend

    backend = LlamaBackend(model, threads=THREADS, seed=1)
    session = _new_session(backend, 1)
    rng = random.Random(5)
    ours, evaluated, warmed, new, fills, full = [], [], [], [], [], []
    previous_reply = 0
    fullest: list[int] = []
    for _ in range(turns):
        # As in the game: the next prompt is evaluated while the player types.
        warmed.append(session.warm())
        stats = _turn(session, rng)
        ours.append(stats.time_to_first_token)
        evaluated.append(stats.evaluated_tokens)
        if session.last_prompt is not None and len(session.last_prompt.tokens) > len(fullest):
            fullest = list(session.last_prompt.tokens)
        action = len(backend.tokenize(session.state.turns[-2].text))
        new.append(action + previous_reply)
        previous_reply = stats.generated_tokens
        used = stats.prompt_tokens + 60
        fills.append(used / backend.n_ctx)
        full.append(used >= 0.8 * backend.n_ctx)
    # The naive builder (the classic dungeons): the whole prompt evaluated every turn.
    naive = []
    prompt = fullest  # the classic dungeons' turn at full context
    for _ in range(naive_samples):
        backend.reset_cache()
        reply = backend.stream(prompt, session.sampling.with_changes(max_tokens=1))
        for _piece in reply:
            pass
        naive.append(reply.stats.time_to_first_token)
    backend.close()
    warm_full = [t for t, f in zip(ours[1:], full[1:]) if f] or ours[1:]
    return {
        "turns": turns,
        "ours_ttft_median_s": statistics.median(warm_full),
        "ours_ttft_p95_s": p95(warm_full),
        "naive_ttft_median_s": statistics.median(naive),
        "naive_ttft_p95_s": p95(naive),
        "ttft_ratio_naive_over_ours": statistics.median(naive) / statistics.median(warm_full),
        "evaluated_over_new_tokens": (sum(evaluated[1:]) + sum(warmed[1:]))
        / max(1, sum(new[1:])),
        "evaluated_at_reply_over_new_tokens": sum(evaluated[1:]) / max(1, sum(new[1:])),
        "mean_context_fill": statistics.mean(fills),
        "mean_evaluated_tokens": statistics.mean(evaluated[1:]),
        "full_prompt_tokens": len(prompt),
    }


def resume(model: Path, turns: int, loads: int = 4) -> dict[str, Any]:
    """TTFT of the first turn after loading a save, with and without the stored state.

    The game warms the next prompt when it opens and after every reply (the turn-latency run
    does the same), so warm turns and the resumed turn "as the game plays it" come after
    ``Session.warm()``; with a stored state that warm-up evaluates one token. The immediate
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
    session = _new_session(backend, 2)
    state = session.state
    game = open_game(launch, backend, state, sampling)
    game.session.max_rerolls = 0
    rng = random.Random(9)
    warm = []
    for _ in range(turns):
        game.session.warm()
        warm.append(_turn(game.session, rng).time_to_first_token)
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
            warmed.append(game.session.warm())
        stats = _turn(game.session, random.Random(11))
        results.setdefault(label, []).append(stats.time_to_first_token)
        game.close()
        backend.close()
    warm_median = statistics.median(warm[len(warm) // 2:])
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
    from benchmarks import candidates, upstream  # they use this module's helpers

    _isolate()
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
    result["candidates"] = candidates.measure(model, 1 if args.quick else 3,
                                              1 if args.quick else 4, log=lambda _line: None)
    for key in HEADLINE_CANDIDATES:
        result[key] = result["candidates"][key]
    result["upstream"] = upstream.compare(model, rounds=1 if args.quick else 3,
                                          repetitions=1 if args.quick else 5)
    result["app_over_upstream_tg128"] = result["upstream"]["app_over_upstream_tg128"]
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2))
    _table(result)


def _table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"gpt2-adventure speed suite ({Path(result['model']).name}, "
                        f"{result['threads']} threads)")
    table.add_column("group")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for group in ("throughput", "turns", "resume", "memory", "candidates", "upstream"):
        for key, value in result[group].items():
            shown = "n/a" if value is None else (f"{value:.3f}" if isinstance(value, float)
                                                 else str(value))
            table.add_row(group, key, shown)
    Console().print(table)


if __name__ == "__main__":
    main()
