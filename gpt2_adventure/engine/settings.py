"""The settings the engine needs to open a local model. ``config`` composes them with the
others; the engine never reads the config file itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSettings:
    """The [model] table."""

    name: str | None = None  # catalog name or path to a .gguf; None = the default model
    threads: int | None = None  # None = number of physical cores
    n_gpu_layers: int = -1  # -1 = all layers on the GPU (Metal/CUDA builds); ignored on CPU builds
    n_ctx: int = 1024  # clamped to the model's training context
    n_batch: int = 512
    seed: int | None = None  # None = random per session
    save_state: bool = True  # keep llama.cpp's state beside the autosave: loaded games resume warm
    state_max_mb: int = 256  # larger states are not stored
