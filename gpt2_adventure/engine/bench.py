"""`bench`: load time, prompt evaluation speed and generation speed of one model."""

from __future__ import annotations

import statistics
import time
from typing import Any

from gpt2_adventure.engine.loader import load_backend
from gpt2_adventure.engine.remote.settings import BackendSettings
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.paths import AppPaths

_FILLER = ("The old road wound through the hills toward the castle, where the king waited "
           "for news of the dragon. ")


def run_bench(
    paths: AppPaths,
    model_settings: ModelSettings,
    server: BackendSettings,
    *,
    model: str | None,
    threads: int | None,
    prompt_tokens: int = 512,
    gen_tokens: int = 128,
    repeats: int = 3,
) -> dict[str, Any]:
    started = time.perf_counter()
    backend = load_backend(paths, model_settings, server, model=model, threads=threads, seed=1234)
    load_seconds = time.perf_counter() - started
    prompt_tokens = min(prompt_tokens, backend.n_ctx - 2)
    gen_tokens = min(gen_tokens, backend.n_ctx - 2)
    tokens = backend.tokenize(_FILLER * (prompt_tokens // 8 + 1))[:prompt_tokens]
    one = Sampling(max_tokens=1, ignore_eos=True)
    writing = Sampling(max_tokens=gen_tokens, ignore_eos=True, repeat_penalty=1.0)
    prompt_rates, gen_rates = [], []
    for _ in range(repeats):
        backend.reset_cache()
        for _piece in backend.stream(tokens, one):
            pass
        stats = backend.last_stats
        assert stats is not None
        prompt_rates.append(stats.evaluated_tokens / stats.prompt_seconds)
        backend.reset_cache()
        for _piece in backend.stream(tokens[:1], writing):
            pass
        stats = backend.last_stats
        assert stats is not None
        gen_rates.append(stats.tokens_per_second)
    info = backend.info
    backend.close()
    return {
        "model": info.name,
        "path": str(info.path),
        "quantization": info.quantization,
        "parameters": info.parameters,
        "threads": backend.threads,
        "load_seconds": load_seconds,
        "prompt_tokens": prompt_tokens,
        "gen_tokens": gen_tokens,
        "prompt_tok_s": statistics.median(prompt_rates),
        "gen_tok_s": statistics.median(gen_rates),
    }
