"""Settings: built-in defaults < config.toml < GPT2_ADVENTURE_* environment < command-line flags."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gpt2_adventure.engine.remote.settings import BackendSettings, parse_backend_table
from gpt2_adventure.engine.sampling import PRESETS, Sampling, preset
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_PREFIX = "GPT2_ADVENTURE_"
MAX_CONFIG_BYTES = 1_000_000  # a settings file is a few hundred bytes
MAX_THREADS = 512  # ggml's own limit (GGML_MAX_N_THREADS)


@dataclass(frozen=True)
class UISettings:
    """The [ui] table: how the game looks."""

    theme: str = "textual-dark"
    text_width: int = 88  # columns of story text; 0 = the whole window


@dataclass(frozen=True)
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    preset: str = "default"
    sampling: Sampling = field(default_factory=Sampling)
    ui: UISettings = field(default_factory=UISettings)
    backend: BackendSettings = field(default_factory=BackendSettings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": {k: v for k, v in asdict(self.model).items() if v is not None},
            "sampling": {"preset": self.preset, **self.sampling.to_dict()},
            "ui": asdict(self.ui),
            "backend": {k: v for k, v in asdict(self.backend).items()
                        if k != "api_key" or v},
        }


# name in [model] -> (environment variable, parser)
_MODEL_ENV = {
    "name": ("MODEL", str),
    "threads": ("THREADS", int),
    "n_gpu_layers": ("N_GPU_LAYERS", int),
    "n_ctx": ("N_CTX", int),
    "n_batch": ("N_BATCH", int),
    "seed": ("SEED", int),
}


def _shown(name: str) -> str:
    """A key from the file as it can be shown in a one-line message."""
    return name if name.isprintable() else repr(name)[1:-1]


def _model_from(table: dict[str, Any], base: ModelSettings, where: str) -> ModelSettings:
    known = {f.name: f for f in fields(ModelSettings)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"unknown setting [model].{_shown(key)}", where,
                              hint=f"known settings: {', '.join(known)}")
        expected = {"name": str, "save_state": bool}.get(key, int)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            what = {str: "text", bool: "true or false"}.get(expected, "an integer")
            raise ConfigError(f"[model].{key} must be {what}, got {value!r}", where)
        values[key] = value
    result = replace(base, **values)
    if result.threads is not None and not 1 <= result.threads <= MAX_THREADS:
        raise ConfigError(f"[model].threads must be 1..{MAX_THREADS}, got {result.threads}",
                          where)  # llama.cpp crashes with tens of thousands
    if result.n_ctx < 16:
        raise ConfigError(f"[model].n_ctx must be >= 16, got {result.n_ctx}", where)
    if result.n_batch < 1:
        raise ConfigError(f"[model].n_batch must be >= 1, got {result.n_batch}", where)
    return result


def _sampling_from(table: dict[str, Any], settings: Settings, where: str) -> Settings:
    table = dict(table)
    name = table.pop("preset", None)
    base = settings.sampling
    if name is not None:
        if not isinstance(name, str) or name not in PRESETS:
            raise ConfigError(f"[sampling].preset must be one of {', '.join(PRESETS)}, "
                              f"got {name!r}", where)
        base = preset(name)
    for key, value in table.items():
        _check_sampling_value(key, value, where)
    try:
        sampling = Sampling.from_dict(table, base)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"[sampling]: {_shown(str(exc))}", where) from None
    return replace(settings, preset=name or settings.preset, sampling=sampling)


def _check_sampling_value(key: str, value: Any, where: str) -> None:
    """The type each sampling setting needs (llama.cpp's C functions take nothing else)."""
    default = getattr(Sampling(), key, None)
    if default is None:
        return  # an unknown key: Sampling.from_dict names it
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, bool):
        ok, want = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        ok, want = number and isinstance(value, int), "an integer"
    elif isinstance(default, float):
        ok, want = number and math.isfinite(value), "a number"
    elif isinstance(default, tuple):
        ok, want = (isinstance(value, list) and all(isinstance(v, str) for v in value),
                    "a list of texts")
    else:  # logit_bias
        ok = isinstance(value, dict) and all(
            k.lstrip("-").isdecimal() and isinstance(v, (int, float))
            and not isinstance(v, bool) and not math.isnan(v) for k, v in value.items())
        want = 'a table of token id = bias, e.g. { "50256" = -100.0 }'
    if not ok:
        raise ConfigError(f"[sampling].{key} must be {want}, got {repr(value)[:60]}", where)


def _ui_from(table: dict[str, Any], base: UISettings, where: str) -> UISettings:
    known = {f.name for f in fields(UISettings)}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"unknown setting [ui].{_shown(key)}", where,
                              hint=f"known settings: {', '.join(sorted(known))}")
        expected = str if key == "theme" else int
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(f"[ui].{key} must be {'text' if expected is str else 'an integer'}"
                              f", got {value!r}", where)
    result = replace(base, **table)
    if result.text_width != 0 and not 30 <= result.text_width <= 400:
        raise ConfigError(f"[ui].text_width must be 0 or 30..400, got {result.text_width}", where)
    return result


SECTIONS = ("model", "sampling", "ui", "backend")


def apply_tables(settings: Settings, data: dict[str, Any], where: str) -> Settings:
    """Layer a parsed config document (or equivalent mapping) over ``settings``."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"unknown section [{_shown(unknown[0])}]", where,
                          hint="known sections: " + ", ".join(f"[{s}]" for s in SECTIONS))
    for section in SECTIONS:
        if section in data and not isinstance(data[section], dict):
            raise ConfigError(f"[{section}] must be a table", where)
    if "model" in data:
        settings = replace(settings, model=_model_from(data["model"], settings.model, where))
    if "sampling" in data:
        settings = _sampling_from(data["sampling"], settings, where)
    if "backend" in data:
        settings = replace(settings, backend=parse_backend_table(data["backend"], where,
                                                                 settings.backend))
    if "ui" in data:
        settings = replace(settings, ui=_ui_from(data["ui"], settings.ui, where))
    return settings


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse config.toml; a missing file is an empty config."""
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            raise ConfigError("the config file is not a regular file", path)  # a FIFO blocks
        with path.open("rb") as file:
            raw = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise ConfigError("the config file is a directory", path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the config file: {exc.strerror}", path) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"the config file is too large (over {MAX_CONFIG_BYTES // 1000} kB)",
                          path)
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("the config file is not UTF-8 text", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path) from None
    except RecursionError:
        raise ConfigError("the config file is nested too deeply", path) from None


def env_tables(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    """The GPT2_ADVENTURE_* variables as config tables."""
    model: dict[str, Any] = {}
    for key, (suffix, parse) in _MODEL_ENV.items():
        raw = environ.get(ENV_PREFIX + suffix)
        if raw is None or raw == "":
            continue
        try:
            model[key] = parse(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{suffix} must be an integer, got {raw!r}",
                              "environment") from None
    tables: dict[str, Any] = {"model": model} if model else {}
    if environ.get(ENV_PREFIX + "PRESET"):
        tables["sampling"] = {"preset": environ[ENV_PREFIX + "PRESET"]}
    server = {key: environ[ENV_PREFIX + "BACKEND_" + key.upper()]
              for key in ("kind", "url", "api_key")
              if environ.get(ENV_PREFIX + "BACKEND_" + key.upper())}
    if server:
        tables["backend"] = server
    return tables


def load_settings(config_file: Path, environ: dict[str, str] | None = None) -> Settings:
    """Defaults, then the config file, then the environment. Flags are applied by the caller."""
    settings = apply_tables(Settings(), read_config_file(config_file), str(config_file))
    return apply_tables(settings, env_tables(os.environ if environ is None else environ),
                        "environment")


def toml_value(value: object) -> str:
    """One TOML value (the subset settings use: text, numbers, booleans, lists, tables)."""
    import json
    import math

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}"
                                for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    # JSON escapes the C0 controls; TOML also forbids a raw DEL in a string.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def settings_toml(settings: Settings) -> str:
    """The settings as a config.toml document that load_settings reads back unchanged."""
    lines = ["# gpt2-adventure settings (see `gpt2-adventure config show`)"]
    for section, table in settings.to_dict().items():
        lines.append(f"\n[{section}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def save_settings(path: Path, settings: Settings) -> None:
    """Write config.toml atomically (a half-written config would stop the next start)."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(settings_toml(settings))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
