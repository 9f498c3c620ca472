"""Open the model a command asked for, with the player's settings."""

from __future__ import annotations

from gpt2_adventure.config import Settings
from gpt2_adventure.engine.llama_backend import LlamaBackend
from gpt2_adventure.engine.store import resolve_model
from gpt2_adventure.paths import AppPaths


def load_backend(
    paths: AppPaths,
    settings: Settings,
    *,
    model: str | None = None,
    threads: int | None = None,
    seed: int | None = None,
) -> LlamaBackend:
    """``model`` (a flag) beats settings.model.name (file/env); both may be a name or a path."""
    chosen = settings.model
    path = resolve_model(paths, model or chosen.name)
    return LlamaBackend(
        path,
        n_ctx=chosen.n_ctx,
        threads=threads or chosen.threads,
        n_gpu_layers=chosen.n_gpu_layers,
        n_batch=chosen.n_batch,
        seed=seed if seed is not None else chosen.seed,
        log_file=paths.log_file,
    )
