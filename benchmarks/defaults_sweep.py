"""Which llama.cpp settings suit GPT-2 here: batch size, flash attention, KV cache type.

    python benchmarks/defaults_sweep.py [--model FILE] [--json]

For each combination: prompt tokens/s on a 900-token prompt (a full-context re-evaluation,
the cost of a trim turn) and generated tokens/s over 128 tokens at that depth.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import THREADS, shaped_gguf  # noqa: E402


def measure(model: Path, n_batch: int, flash: bool, kv: str, rounds: int) -> dict[str, object]:
    import llama_cpp

    kv_type = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0}[kv]
    row: dict[str, object] = {"n_batch": n_batch, "flash_attn": flash, "kv_cache": kv}
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            llm = llama_cpp.Llama(model_path=str(model), n_ctx=1024, n_batch=n_batch,
                                  n_threads=THREADS, n_threads_batch=THREADS, flash_attn=flash,
                                  type_k=kv_type, type_v=kv_type, verbose=False)
    except ValueError:  # e.g. a quantized V cache needs flash attention
        return {**row, "prompt_tok_s": None, "eval_tok_s_at_depth": None}
    prompt = [464, 3290, 373, 257, 1310] * 180  # 900 tokens
    prompt_rates, gen_rates = [], []
    for _ in range(rounds):
        llm.reset()
        start = time.perf_counter()
        llm.eval(prompt)
        prompt_rates.append(len(prompt) / (time.perf_counter() - start))
        start = time.perf_counter()
        for _ in range(100):
            llm.eval([464])
        gen_rates.append(100 / (time.perf_counter() - start))
    llm.close()
    return {**row, "prompt_tok_s": statistics.median(prompt_rates),
            "eval_tok_s_at_depth": statistics.median(gen_rates)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = args.model or shaped_gguf("gpt2", "q8_0")
    rows = [measure(model, b, f, kv, args.rounds)
            for b, f, kv in itertools.product((128, 512), (False, True), ("f16", "q8_0"))]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'n_batch':>7} {'flash':>5} {'kv':>5} {'prompt tok/s':>13} {'eval tok/s':>11}")
    for row in rows:
        rates = (f"{row['prompt_tok_s']:>13.1f} {row['eval_tok_s_at_depth']:>11.1f}"
                 if row["prompt_tok_s"] is not None else f"{'not supported':>25}")
        print(f"{row['n_batch']:>7} {row['flash_attn']!s:>5} {row['kv_cache']:>5} {rates}")


if __name__ == "__main__":
    main()
