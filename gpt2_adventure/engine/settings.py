"""The settings the engine needs to open a local model. ``config`` composes them with the
others; the engine never reads the config file or the environment itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from gpt2_adventure.engine.models.catalog import DEFAULT_MODEL
from gpt2_adventure.schema import setting

MAX_THREADS = 512  # ggml's own limit (GGML_MAX_N_THREADS); llama.cpp crashes far above it
DEFAULT_N_BATCH = 512  # when neither the player nor ``bench --tune`` chose one


@dataclass(frozen=True)
class ModelSettings:
    """The [model] table."""

    name: str | None = setting(None, env="GPT2_ADVENTURE_MODEL", label="model", screen=True,
                               unset=DEFAULT_MODEL, help="catalog name or path to a .gguf")
    # threads, n_batch and flash_attn: None = what ``bench --tune`` measured fastest on this
    # machine, else the built-in default (see engine/tuning.py).
    threads: int | None = setting(None, env="GPT2_ADVENTURE_THREADS", low=1, high=MAX_THREADS,
                                  unset="tuned, else physical cores", screen=True,
                                  help="CPU threads")
    n_gpu_layers: int = setting(-1, env="GPT2_ADVENTURE_N_GPU_LAYERS",
                                help="layers on the GPU (Metal/CUDA builds); -1 = all")
    n_ctx: int = setting(1024, env="GPT2_ADVENTURE_N_CTX", low=16,
                         help="context tokens, clamped to the model's training context")
    n_batch: int | None = setting(None, env="GPT2_ADVENTURE_N_BATCH", low=1,
                                  unset=f"tuned, else {DEFAULT_N_BATCH}", label="prompt batch",
                                  screen=True, help="prompt tokens evaluated at once")
    flash_attn: bool | None = setting(None, unset="tuned, else off", label="flash attention",
                                      screen=True, help="llama.cpp's flash attention")
    auto_tune: bool = setting(True, env="GPT2_ADVENTURE_AUTO_TUNE",
                              help="measure the fastest speed settings before the first "
                                   "reply when a model file has none on this machine")
    seed: int | None = setting(None, env="GPT2_ADVENTURE_SEED", unset="random per session",
                               help="random seed")
    save_state: bool = setting(True, help="keep llama.cpp's state beside the autosave: "
                                          "loaded games resume warm")
    state_max_mb: int = setting(256, help="larger states are not stored")
    # Where ``name`` was set (a config file, an environment variable), for error messages.
    name_from: str | None = field(default=None, compare=False, repr=False)
