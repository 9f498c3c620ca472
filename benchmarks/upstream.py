"""The app's writing speed against upstream llama.cpp's own benchmark, ``llama-bench`` tg128.

    python benchmarks/upstream.py [--model FILE] [--rounds 3] [--repetitions 5] [--json]

When a ``llama-bench`` binary is on PATH: ``llama-bench -m FILE -t 2 -p 0 -n 128 -fa 0|1
-o json`` (the flash-attention setting the game loads the model with), and the app writing
128 tokens (``LlamaBackend.stream``, ``ignore_eos``, from an empty cache as tg128 starts;
loaded as the game loads it) in interleaved rounds; ``app_over_upstream_tg128`` is the ratio
of their medians. llama-bench times only ``llama_decode``; the app's figure also holds
sampling and detokenizing, as a player's reply does. Without llama-bench the ratio is null
and a note says it was skipped (nothing here builds llama.cpp).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import THREADS, app_rate, shaped_gguf  # noqa: E402

TOKENS = 128  # tg128
SKIPPED = "llama-bench not on PATH: skipped"


def find_llama_bench() -> str | None:
    return shutil.which("llama-bench")


def llama_bench_args(binary: str, model: Path, *, threads: int, flash_attn: bool,
                     tokens: int = TOKENS, repetitions: int = 5) -> list[str]:
    # -fa takes 0|1 in older builds and on|off|auto (which also reads 0 and 1) in newer ones.
    return [binary, "-m", str(model), "-t", str(threads), "-p", "0", "-n", str(tokens),
            "-fa", "1" if flash_attn else "0", "-r", str(repetitions), "-o", "json"]


def parse_tg(output: str, tokens: int = TOKENS) -> float:
    """Tokens/s of the text-generation test of ``tokens`` tokens in ``llama-bench -o json``
    output: an array of test objects, each with ``n_prompt``, ``n_gen`` (``n_depth`` in
    newer builds) and ``avg_ts``, the mean over repetitions of (n_prompt + n_gen) / time."""
    start = output.find("[")
    if start < 0:
        raise ValueError("no JSON array in llama-bench's output")
    tests = json.loads(output[start:])
    for test in tests:
        if (int(test["n_prompt"]) == 0 and int(test["n_gen"]) == tokens
                and int(test.get("n_depth", 0)) == 0):
            return float(test["avg_ts"])
    raise ValueError(f"llama-bench's output has no tg{tokens} test")


def upstream_tg(binary: str, model: Path, *, threads: int, flash_attn: bool,
                tokens: int = TOKENS, repetitions: int = 5) -> float:
    """One ``llama-bench`` run (its own warm-up, then ``repetitions``): tg tokens/s."""
    args = llama_bench_args(binary, model, threads=threads, flash_attn=flash_attn,
                            tokens=tokens, repetitions=repetitions)
    run = subprocess.run(args, capture_output=True, text=True, timeout=1800, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({run.returncode}): {run.stderr[-2000:]}")
    return parse_tg(run.stdout, tokens)


def app_tg(backend: Any, tokens: int = TOKENS) -> float:
    """The app writing ``tokens`` tokens from an empty cache (an empty prompt is GPT-2's
    ``<|endoftext|>``), tokens/s after the first: its sampler chain as generate_overhead's."""
    return app_rate(backend, [], tokens)


def measure(model: Path, *, rounds: int = 3, repetitions: int = 5, threads: int = THREADS,
            log: Callable[[str], None] = print) -> dict[str, Any]:
    """``app_over_upstream_tg128`` (None, with a note, when llama-bench is not on PATH)."""
    binary = find_llama_bench()
    if binary is None:
        log(SKIPPED)
        return {"llama_bench": None, "app_over_upstream_tg128": None, "note": SKIPPED}
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.sampling import MAX_CANDIDATES

    backend = LlamaBackend(model, threads=threads, seed=1, sequences=MAX_CANDIDATES)
    upstream, app = [], []
    try:
        for _ in range(rounds):  # interleaved: the machine's speed drifts
            upstream.append(upstream_tg(binary, model, threads=threads,
                                        flash_attn=backend.flash_attn,
                                        repetitions=repetitions))
            app.append(app_tg(backend))
    finally:
        backend.close()
    return {
        "llama_bench": binary,
        "flash_attn": backend.flash_attn,
        "upstream_tg128_tok_s": statistics.median(upstream),
        "app_tg128_tok_s": statistics.median(app),
        "app_over_upstream_tg128": statistics.median(app) / statistics.median(upstream),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repetitions", type=int, default=5, help="llama-bench's -r")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = args.model or shaped_gguf("gpt2", "q8_0")
    log = (lambda line: print(line, file=sys.stderr)) if args.json else print
    result = {"model": str(model), "threads": THREADS,
              **measure(model, rounds=args.rounds, repetitions=args.repetitions, log=log)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
