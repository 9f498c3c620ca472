"""Tuning on first use: the first time a local model file opens on this machine and llama.cpp
with no tuning stored, its speed settings are measured quickly, within a time budget, and
stored (``bench --tune`` measures longer and everything).

What is measured, and the budget, by the model's size (on 2 cores):
- up to 200M parameters (GPT-2 124M, distilgpt2): threads, flash attention, replies written
  ahead batched or not, then the prompt batch if time is left; 12 s, so that with the one
  model opening or evaluation that may run past it, it ends within 15 s.
- bigger (up to the 1.5B gpt2-xl): threads and flash attention only, by writing speed: a
  reply takes ~10 s there and writing is what the player waits for; replies written ahead
  run while the player reads, and the prompt batch decides only a whole cold prompt (one
  costs ~6 s per measurement there). 40 s, so that it ends within 45 s.
Left out (budget or plan) = the built-in default, not "tuned"; a setting the player set is
not measured (the others are measured with it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.engine.tune import WHAT, Step, TuneSizes, TuningStopped
from gpt2_adventure.engine.tuning import SPEED_NAMES, Tuning
from gpt2_adventure.paths import AppPaths

SMALL_MODEL = 200_000_000  # parameters: GPT-2 124M and distilgpt2 take the small plan

QUICK_SMALL = TuneSizes(prompt_tokens=192, turn_tokens=32, write_tokens=16, ahead_tokens=12,
                        replies_ahead=3, rounds=2, max_write_seconds=1.0, max_prefill_seconds=2.0,
                        n_batches=(256, 512), cold_tokens=512,
                        measures=("threads", "flash_attn", "batched", "n_batch"),
                        budget_seconds=12.0)
QUICK_BIG = TuneSizes(prompt_tokens=128, turn_tokens=16, write_tokens=8, rounds=2,
                      max_write_seconds=2.0, max_prefill_seconds=5.0,
                      measures=("threads", "flash_attn"),
                      budget_seconds=40.0)


def quick_sizes(parameters: int) -> TuneSizes:
    return QUICK_SMALL if parameters <= SMALL_MODEL else QUICK_BIG


@dataclass
class TuneWatch:
    """How a front end follows a tuning on first use: ``begin`` once it starts (with the
    budget in seconds), ``step`` after each measurement (both on the tuning's thread),
    ``stop`` to skip it."""

    begin: Callable[[float | None], None] = lambda _budget: None
    step: Callable[[Step], None] = lambda _step: None
    stop: CancelToken = field(default_factory=CancelToken)


@dataclass(frozen=True)
class FirstUse:
    """What a tuning on first use did: ``tuning`` stored, or skipped, or failed (``error``)."""

    tuning: Tuning | None
    seconds: float
    skipped: bool = False
    error: str | None = None

    def summary(self) -> str:
        """One line for the player."""
        if self.skipped:
            return ("speed tuning skipped: default settings for this game (it measures again "
                    "next time; [model] auto_tune = false turns it off)")
        if self.tuning is None:
            return f"speed tuning failed ({self.error}): default settings for this game"
        from gpt2_adventure.engine.tuning import Speed

        tuning = self.tuning
        shown = Speed(threads=tuning.threads, n_batch=tuning.n_batch,
                      flash_attn=tuning.flash_attn, batched=tuning.batched, sources={})
        parts = [describe(name, getattr(shown, name)) for name in SPEED_NAMES
                 if name in tuning.measured]
        left = [WHAT[name] for name in tuning.figures.get("skipped", [])]
        text = f"tuned in {self.seconds:.0f} s: " + (", ".join(parts) or "nothing measured")
        return text + (f" (no time left for {', '.join(left)}: default)" if left else "")


def describe(name: str, value: Any) -> str:
    if name == "flash_attn":
        return f"flash attention {'on' if value else 'off'}"
    if name == "batched":
        return "replies written ahead " + ("batched" if value else "one after another")
    if name == "threads":
        return f"{value} thread" + ("" if value == 1 else "s")
    return f"prompt batch {value}"


def wanted(paths: AppPaths, model: ModelSettings, path: Path) -> bool:
    """Whether opening the local model at ``path`` tunes it first: [model] auto_tune is on
    and no tuning is stored for this file, machine and llama.cpp."""
    from gpt2_adventure.engine.tuning import load_tuning

    return model.auto_tune and load_tuning(paths.tuning_file, path) is None


def tune_first_use(paths: AppPaths, model: ModelSettings, path: Path, *,
                   threads: int | None = None, watch: TuneWatch | None = None,
                   sizes: TuneSizes | None = None) -> FirstUse:
    """Measure the speed settings of the model at ``path`` quickly and store them; a stop
    (``watch.stop``) or a failure stores nothing (the game then opens on the defaults)."""
    from gpt2_adventure.engine.models.gguf_info import read_model_info
    from gpt2_adventure.engine.tune import tune_model
    from gpt2_adventure.engine.tuning import choose_speed, save_tuning

    watch = watch or TuneWatch()
    started = time.perf_counter()
    player = choose_speed(model, None, threads)
    fixed = {name: getattr(player, name) for name in SPEED_NAMES
             if player.source(name) == "player"}
    try:
        chosen = sizes or quick_sizes(read_model_info(path).parameters)
        watch.begin(chosen.budget_seconds)
        tuning = tune_model(path, n_ctx=model.n_ctx, n_gpu_layers=model.n_gpu_layers,
                            log_file=paths.log_file, sizes=chosen, stop=watch.stop,
                            steps=watch.step, fixed=fixed)
    except TuningStopped:
        return FirstUse(None, time.perf_counter() - started, skipped=True)
    except Exception as error:  # noqa: BLE001 - the game goes on with the defaults
        return FirstUse(None, time.perf_counter() - started, error=f"{type(error).__name__}: "
                                                                  f"{error}")
    if watch.stop.cancelled:  # skipped as the last measurement ended
        return FirstUse(None, time.perf_counter() - started, skipped=True)
    save_tuning(paths.tuning_file, path, tuning)
    return FirstUse(tuning, time.perf_counter() - started)
