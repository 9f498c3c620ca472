"""Speed settings measured on the player's machine (``bench --tune``, see ``tune.py``), kept
in one JSON file in the cache folder, and the settings a local model opens with.

A tuning holds only for what it was measured on: the same model file (the state cache's
fingerprint: its size, first and last MiB), the same machine (CPU model, core counts) and
the same llama.cpp (version and build features). Anything else — another model, machine or
llama.cpp, a damaged or foreign file — reads as "no tuning", never as an error.

Which value a local model opens with: the player's (config file, environment, flag) >
the tuning's > the built-in default (512 / physical cores / flash attention off /
replies written ahead one after another).
"""

from __future__ import annotations

import functools
import json
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeGuard

from gpt2_adventure.engine.settings import DEFAULT_N_BATCH, MAX_THREADS, ModelSettings
from gpt2_adventure.fileio import FileRefused, atomic_write, clean_stale_temps, read_regular_file

FORMAT = 1
MAX_FILE_BYTES = 1_000_000
MAX_ENTRIES = 32  # one per model file; the oldest go first
TEMP_PREFIX = ".tuning-"
SPEED_NAMES = ("threads", "n_batch", "flash_attn", "batched")

Source = Literal["player", "tuned", "default"]


@dataclass(frozen=True)
class Tuning:
    """The fastest settings measured for one model on this machine, and the figures."""

    flash_attn: bool
    n_batch: int
    threads: int
    batched: bool  # replies written ahead in one batched pass rather than one after another
    figures: Mapping[str, Any] = field(default_factory=dict)  # what was measured (JSON)
    model_path: str = ""  # where the model file was when it was measured
    measured_at: str = ""  # ISO 8601, UTC
    # The settings measured; the others (left out by a first-use tuning's time budget, or
    # set by the player then) hold the built-in default and are not "tuned".
    measured: tuple[str, ...] = SPEED_NAMES

    def settings(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SPEED_NAMES}


@dataclass(frozen=True)
class TuningKey:
    """What a tuning is measured on; any difference makes a stored tuning stale."""

    model: str  # the model file's fingerprint
    machine: Mapping[str, Any]
    llama: Mapping[str, Any]


def machine() -> dict[str, Any]:
    from gpt2_adventure.engine.llama.hardware import cpu_model, physical_cores

    return {"cpu": cpu_model(), "physical_cores": physical_cores(),
            "logical_cores": os.cpu_count() or 1, "arch": platform.machine(),
            "system": platform.system()}


def llama_build() -> dict[str, Any]:
    """llama-cpp-python's version and the features its llama.cpp was built with."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    if isinstance(info, bytes):
        info = info.decode("utf-8", errors="replace")
    return {"version": str(llama_cpp.__version__), "system_info": str(info).strip()}


def current_key(model_path: Path) -> TuningKey:
    return TuningKey(_fingerprint(Path(model_path)), machine(), llama_build())


def _fingerprint(path: Path) -> str:
    """The model file's fingerprint, remembered per file version (path, size, modification
    time, inode): opening a game looks it up twice (whether to tune first, then the speed to
    open with), and the second look must cost nothing."""
    info = path.stat()
    return _fingerprint_of(str(path), info.st_size, info.st_mtime_ns, info.st_ino)


@functools.lru_cache(maxsize=8)
def _fingerprint_of(path: str, _size: int, _mtime_ns: int, _inode: int) -> str:
    from gpt2_adventure.engine.llama.state_cache import model_fingerprint

    return model_fingerprint(Path(path))


# -- the file ---------------------------------------------------------------------------------

def load_tuning(file: Path, model_path: Path) -> Tuning | None:
    """The stored tuning for this model file on this machine and llama.cpp, or None."""
    try:
        key = current_key(model_path)
    except OSError:
        return None
    return lookup(_read(file), key)


def lookup(entries: Mapping[str, Any], key: TuningKey) -> Tuning | None:
    entry = entries.get(key.model)
    if not isinstance(entry, dict):
        return None
    if entry.get("machine") != dict(key.machine) or entry.get("llama_cpp") != dict(key.llama):
        return None
    return _tuning(entry)


def save_tuning(file: Path, model_path: Path, tuning: Tuning) -> None:
    """Store ``tuning`` for this model file (replacing its earlier one), atomically."""
    store(file, current_key(model_path), tuning)


def store(file: Path, key: TuningKey, tuning: Tuning) -> None:
    entries = {k: v for k, v in _read(file).items() if k != key.model}
    entries[key.model] = {
        "model_path": tuning.model_path, "measured_at": tuning.measured_at,
        "machine": dict(key.machine), "llama_cpp": dict(key.llama),
        "settings": tuning.settings(), "figures": dict(tuning.figures),
        "measured": list(tuning.measured),
    }
    while len(entries) > MAX_ENTRIES:
        oldest = min(entries, key=lambda k: str(entries[k].get("measured_at", "")))
        del entries[oldest]
    data = json.dumps({"format": FORMAT, "tunings": entries}, indent=1).encode("utf-8")
    file.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(file.parent, TEMP_PREFIX)
    atomic_write(file, data, mode=0o644, temp_prefix=TEMP_PREFIX)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _read(file: Path) -> dict[str, Any]:
    """The stored entries by model fingerprint; {} for a missing, damaged or foreign file."""
    try:
        data = json.loads(read_regular_file(file, MAX_FILE_BYTES, "tuning file"))
    except (FileRefused, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    entries = data.get("tunings")
    return entries if isinstance(entries, dict) else {}


def _tuning(entry: dict[str, Any]) -> Tuning | None:
    settings, figures = entry.get("settings"), entry.get("figures", {})
    if not isinstance(settings, dict) or not isinstance(figures, dict):
        return None
    flash, n_batch = settings.get("flash_attn"), settings.get("n_batch")
    threads, batched = settings.get("threads"), settings.get("batched")
    if not (isinstance(flash, bool) and isinstance(batched, bool)
            and _whole(n_batch) and _whole(threads) and threads <= MAX_THREADS):
        return None
    path, at = entry.get("model_path", ""), entry.get("measured_at", "")
    measured = entry.get("measured", list(SPEED_NAMES))  # before first-use tuning: all
    if not isinstance(measured, list):
        return None
    return Tuning(flash_attn=flash, n_batch=n_batch, threads=threads, batched=batched,
                  figures=figures, model_path=path if isinstance(path, str) else "",
                  measured_at=at if isinstance(at, str) else "",
                  measured=tuple(name for name in SPEED_NAMES if name in measured))


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1 << 20


# -- the settings a local model opens with ----------------------------------------------------

@dataclass(frozen=True)
class Speed:
    """The speed settings in use and where each comes from."""

    threads: int
    n_batch: int
    flash_attn: bool
    batched: bool
    sources: Mapping[str, Source]  # by name in SPEED_NAMES

    def source(self, name: str) -> Source:
        return self.sources[name]


def choose_speed(model: ModelSettings, tuning: Tuning | None,
                 threads: int | None = None) -> Speed:
    """The player's value (``threads``: the --threads flag, which beats [model].threads) >
    the tuning's > the built-in default."""
    from gpt2_adventure.engine.llama.hardware import physical_cores

    player: dict[str, Any] = {"threads": threads or model.threads, "n_batch": model.n_batch,
                              "flash_attn": model.flash_attn, "batched": None}
    defaults: dict[str, Any] = {"n_batch": DEFAULT_N_BATCH, "flash_attn": False,
                                "batched": False}
    chosen: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for name in SPEED_NAMES:
        if player[name] is not None:
            chosen[name], sources[name] = player[name], "player"
        elif tuning is not None and name in tuning.measured:
            chosen[name], sources[name] = getattr(tuning, name), "tuned"
        else:
            chosen[name] = defaults[name] if name in defaults else physical_cores()
            sources[name] = "default"
    return Speed(sources=sources, **chosen)
