"""`bench`: load time, prompt evaluation speed and generation speed of one model, and which
speed settings it ran with; `bench --tune`: measure those settings and keep the fastest."""

from __future__ import annotations

import statistics
import time
from typing import Any

from gpt2_adventure.engine.loader import load_backend, speed_in_use
from gpt2_adventure.engine.remote.settings import BackendSettings
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.engine.tune import Progress, TuneSizes
from gpt2_adventure.engine.tuning import SPEED_NAMES, Speed, Tuning
from gpt2_adventure.paths import AppPaths

_FILLER = ("The old road wound through the hills toward the castle, where the king waited "
           "for news of the dragon. ")


def run_bench(
    paths: AppPaths,
    model_settings: ModelSettings,
    *,
    model: str | None,
    threads: int | None,
    prompt_tokens: int = 512,
    gen_tokens: int = 128,
    repeats: int = 3,
) -> dict[str, Any]:
    """Always the local model through llama.cpp, as ``bench --tune``, even when [backend]
    plays on a server (``backend check`` times a server)."""
    from gpt2_adventure.engine.llama.backend import LlamaBackend

    started = time.perf_counter()
    backend = load_backend(paths, model_settings, BackendSettings(kind="local"), model=model,
                           threads=threads, seed=1234)
    assert isinstance(backend, LlamaBackend)
    load_seconds = time.perf_counter() - started
    prompt_tokens = min(prompt_tokens, backend.n_ctx - 2)
    gen_tokens = min(gen_tokens, backend.n_ctx - 2)
    tokens = backend.tokenize(_FILLER * (prompt_tokens // 8 + 1))[:prompt_tokens]
    one = Sampling(max_tokens=1, ignore_eos=True)
    writing = Sampling(max_tokens=gen_tokens, ignore_eos=True, repeat_penalty=1.0)
    prompt_rates, gen_rates = [], []
    for _ in range(repeats):
        backend.reset_cache()
        reply = backend.stream(tokens, one)
        for _piece in reply:
            pass
        prompt_rates.append(reply.stats.evaluated_tokens / reply.stats.prompt_seconds)
        backend.reset_cache()
        reply = backend.stream(tokens[:1], writing)
        for _piece in reply:
            pass
        gen_rates.append(reply.stats.tokens_per_second)
    info = backend.info
    backend.close()
    speed = speed_in_use(paths, model_settings, info.path, threads)
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
        "settings": speed_report(speed),
    }


def speed_report(speed: Speed) -> dict[str, dict[str, Any]]:
    """{name: {"value": ..., "from": "player" | "tuned" | "default"}}"""
    return {name: {"value": getattr(speed, name), "from": speed.source(name)}
            for name in SPEED_NAMES}


def run_tune(
    paths: AppPaths,
    model_settings: ModelSettings,
    *,
    model: str | None,
    sizes: TuneSizes | None = None,
    progress: Progress | None = None,
) -> tuple[Tuning, Speed]:
    """Measure the speed settings for the local model (``model`` or [model].name), store
    them, and return them with the settings now in use (a player's value still wins)."""
    from gpt2_adventure.engine.models.store import resolve_model
    from gpt2_adventure.engine.tune import tune_model
    from gpt2_adventure.engine.tuning import save_tuning

    path = resolve_model(paths, model or model_settings.name,
                         where=None if model else model_settings.name_from)
    tuning = tune_model(path, n_ctx=model_settings.n_ctx,
                        n_gpu_layers=model_settings.n_gpu_layers, log_file=paths.log_file,
                        sizes=sizes or TuneSizes(), progress=progress)
    save_tuning(paths.tuning_file, path, tuning)
    return tuning, speed_in_use(paths, model_settings, path)
