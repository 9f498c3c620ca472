"""Open the model a command asked for, with the player's settings: local, or on a server."""

from __future__ import annotations

from dataclasses import replace

from gpt2_adventure.config import Settings
from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.paths import AppPaths


def backend_settings(settings: Settings, url: str | None = None, kind: str | None = None
                     ) -> Settings:
    """Apply --backend-url / --backend-kind over the [backend] settings. A URL with no kind
    asks the server which API it speaks."""
    chosen = settings.backend
    if url:
        chosen = replace(chosen, url=url, kind=kind or "auto")  # type: ignore[arg-type]
    elif kind:
        chosen = replace(chosen, kind=kind)  # type: ignore[arg-type]
    if chosen.kind == "auto":
        from gpt2_adventure.engine.remote_config import detect_kind

        chosen = replace(chosen, kind=detect_kind(replace(chosen, kind="openai")))
    return replace(settings, backend=chosen)


def load_backend(
    paths: AppPaths,
    settings: Settings,
    *,
    model: str | None = None,
    threads: int | None = None,
    seed: int | None = None,
) -> Backend:
    """``model`` (a flag) beats settings.model.name (file/env); both may be a name or a path.
    With ``[backend].kind`` other than "local", the model runs on that server instead."""
    if settings.backend.kind != "local":
        from gpt2_adventure.engine.remote_config import open_remote

        return open_remote(settings.backend, paths)
    from gpt2_adventure.engine.llama_backend import LlamaBackend
    from gpt2_adventure.engine.store import resolve_model

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
