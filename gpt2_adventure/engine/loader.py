"""Open the model a command asked for: on this machine through llama.cpp, or on a server.

It sits above ``llama/`` and ``remote/`` (it picks one of them), so it lives at the engine's
top rather than in ``models/``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.engine.remote.settings import BackendKind, BackendSettings
from gpt2_adventure.engine.sampling import MAX_CANDIDATES
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.paths import AppPaths

if TYPE_CHECKING:
    from gpt2_adventure.engine.tuning import Speed


def choose_server(settings: BackendSettings, url: str | None = None,
                  kind: BackendKind | None = None) -> BackendSettings:
    """Apply --backend-url / --backend-kind over the [backend] settings. A URL with no kind
    asks the server which API it speaks."""
    chosen = replace(settings, url=url) if url else settings
    if url and not kind:
        from gpt2_adventure.engine.remote import detect_kind

        return replace(chosen, kind=detect_kind(replace(chosen, kind="openai")))
    return replace(chosen, kind=kind) if kind else chosen


# What a game's local model holds at once: the main sequence, up to MAX_CANDIDATES - 1 replies
# written ahead, and the spare (the window after the next trim).
GAME_SEQUENCES = MAX_CANDIDATES + 1


def load_backend(
    paths: AppPaths,
    model_settings: ModelSettings,
    server: BackendSettings,
    *,
    model: str | None = None,
    threads: int | None = None,
    seed: int | None = None,
    sequences: int = 1,
) -> Backend:
    """``model`` (a flag) beats model_settings.name (file/env); both may be a name or a path.
    With a ``server`` kind other than "local", the model runs on that server instead.
    ``sequences``: replies a local model can hold at once (a game that writes replies
    ahead asks for ``GAME_SEQUENCES``, so that changing ``candidates`` needs no reload)."""
    if server.kind != "local":
        from gpt2_adventure.engine.remote import open_remote

        return open_remote(server, paths)
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.models.store import resolve_model

    path = resolve_model(paths, model or model_settings.name,
                         where=None if model else model_settings.name_from)
    speed = speed_in_use(paths, model_settings, path, threads)
    return LlamaBackend(
        path,
        n_ctx=model_settings.n_ctx,
        threads=speed.threads,
        n_gpu_layers=model_settings.n_gpu_layers,
        n_batch=speed.n_batch,
        seed=seed if seed is not None else model_settings.seed,
        log_file=paths.log_file,
        flash_attn=speed.flash_attn,
        sequences=sequences,
        batched=speed.batched,
    )


def speed_in_use(paths: AppPaths, model_settings: ModelSettings, path: Path,
                 threads: int | None = None) -> Speed:
    """The speed settings the local model at ``path`` opens with, and where each comes from:
    the player's (``threads``: the --threads flag), else ``bench --tune``'s, else the
    built-in default."""
    from gpt2_adventure.engine.tuning import choose_speed, load_tuning

    return choose_speed(model_settings, load_tuning(paths.tuning_file, path), threads)
