"""Settings: built-in defaults < config.toml < GPT2_ADVENTURE_* environment < command-line flags.

Every setting is declared once, on its dataclass (``schema.setting``); the TOML reader, the
environment overrides, ``config show`` and the Settings screen's save are derived from those
declarations. This is the only module that reads the settings' environment variables.
"""

from __future__ import annotations

import os
import sys
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from gpt2_adventure import schema
from gpt2_adventure.engine.remote.settings import BackendSettings, parse_backend_table
from gpt2_adventure.engine.sampling import PRESETS, Sampling, preset
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.errors import ConfigError
from gpt2_adventure.schema import Spec, setting

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_CONFIG_BYTES = 1_000_000  # a settings file is a few hundred bytes


@dataclass(frozen=True)
class UISettings:
    """The [ui] table: how the game looks."""

    theme: str = setting("textual-dark", screen=True,
                         help='any Textual theme, or the shipped "parchment" and "dungeon"')
    text_width: int = setting(88, low=30, high=400, special={0: "the whole window"},
                              label="text width", screen=True, help="columns of story text")


@dataclass(frozen=True)
class MemorySettings:
    """The [memory] table: what the model is shown of the story beyond its window."""

    recall: bool = setting(True, screen=True,
                           help="recall passages of turns out of view that the story names "
                                "again (full-text search of the whole story)")
    recall_share: float = setting(0.12, low=0.0, high=0.5, label="recall share", screen=True,
                                  help="share of the context recalled passages may fill")
    auto_lore: bool = setting(True, label="automatic lore", screen=True,
                              help="world entries for the names the story introduces (the "
                                   "first and latest sentence about each), after yours")
    auto_lore_share: float = setting(0.1, low=0.0, high=0.25, label="automatic lore share",
                                     screen=True,
                                     help="share of the context automatic entries may fill "
                                          "(within the world info's quarter)")
    lore_mid_reply: bool = setting(True, label="lore mid-reply", screen=True,
                                   help="world info a reply names is put in view before it "
                                        "goes on (the reply so far is evaluated again)")


@dataclass(frozen=True)
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    # Settings' own settings sit in [sampling] (see OWN_TABLE); choosing a preset starts the
    # sampling of that layer (file, environment) from it.
    preset: str = setting("default", choices=tuple(PRESETS), env="GPT2_ADVENTURE_PRESET",
                          screen=True, help="named sampling settings to start from")
    sampling: Sampling = field(default_factory=Sampling)
    ui: UISettings = field(default_factory=UISettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    backend: BackendSettings = field(default_factory=BackendSettings)

    def to_dict(self) -> dict[str, Any]:
        """The settings as config tables (``config show``); None and an empty secret are
        left out (TOML has no None; a blank key would invite pasting one into the file)."""
        return {section: {spec.name: schema.plain(spec, value)
                          for spec, value in table_rows(self, section)
                          if value is not None and (value or not spec.secret)}
                for section in SECTIONS}


OWN_TABLE = "sampling"
# [section] -> the dataclass behind it: the fields of Settings that hold one.
_HINTS = typing.get_type_hints(Settings)
SECTIONS: tuple[str, ...] = tuple(f.name for f in fields(Settings)
                                  if is_dataclass(_HINTS[f.name]))


def table_rows(settings: Settings, section: str) -> list[tuple[Spec, Any]]:
    """The settings of one [section] with their values, in the file's order."""
    own = schema.rows(settings) if section == OWN_TABLE else []
    return own + schema.rows(getattr(settings, section))


def settings_rows(settings: Settings) -> list[tuple[str, Spec, Any]]:
    """(section, setting, value) for every setting, for display."""
    return [(section, spec, value) for section in SECTIONS
            for spec, value in table_rows(settings, section)]


def find_setting(section: str, name: str) -> Spec | None:
    return next((spec for spec, _ in table_rows(Settings(), section) if spec.name == name),
                None)


def apply_tables(settings: Settings, data: Mapping[str, Any], where: str) -> Settings:
    """Layer a parsed config document (or equivalent mapping) over ``settings``."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"unknown section [{schema.shown(unknown[0])}]", where,
                          hint="known sections: " + ", ".join(f"[{s}]" for s in SECTIONS))
    for section in SECTIONS:
        if section in data and not isinstance(data[section], dict):
            raise ConfigError(f"[{section}] must be a table", where)
    for section in SECTIONS:
        if section in data:
            settings = _apply_table(settings, section, data[section], where)
    return settings


def _apply_table(settings: Settings, section: str, table: dict[str, Any],
                 where: str) -> Settings:
    names = [spec.name for spec, _ in table_rows(settings, section)]
    for key in table:
        if key not in names:
            raise ConfigError(f"unknown setting [{section}].{schema.shown(key)}", where,
                              hint=f"known settings: {', '.join(names)}")
    if section == "backend":  # the backend checks url against kind too
        return replace(settings, backend=parse_backend_table(table, where, settings.backend))
    own_names = {spec.name for spec in schema.specs(Settings)} if section == OWN_TABLE else set()
    own = {k: v for k, v in table.items() if k in own_names}
    try:
        if own:
            settings = schema.update(settings, own, section)
            settings = replace(settings, sampling=preset(settings.preset))
        part = schema.update(getattr(settings, section),
                             {k: v for k, v in table.items() if k not in own}, section)
    except schema.SettingError as error:
        raise ConfigError(str(error), where, hint=error.hint) from None
    if section == "model" and "name" in table:
        part = replace(part, name_from=where)
    return replace(settings, **{section: part})


def _read_config_text(path: Path) -> str:
    """config.toml's text; a missing file is empty."""
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            raise ConfigError("the config file is not a regular file", path)  # a FIFO blocks
        with path.open("rb") as file:
            raw = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return ""
    except IsADirectoryError:
        raise ConfigError("the config file is a directory", path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the config file: {exc.strerror}", path) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"the config file is too large (over {MAX_CONFIG_BYTES // 1000} kB)",
                          path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("the config file is not UTF-8 text", path) from None


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse config.toml; a missing file is an empty config."""
    text = _read_config_text(path)
    try:
        table: dict[str, Any] = tomllib.loads(text)
        return table
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path) from None
    except RecursionError:
        raise ConfigError("the config file is nested too deeply", path) from None


def env_tables(environ: Mapping[str, str]) -> dict[str, Any]:
    """The GPT2_ADVENTURE_* variables as config tables (an empty variable is not set)."""
    tables: dict[str, Any] = {}
    for section, spec, _ in settings_rows(Settings()):
        raw = environ.get(spec.env) if spec.env else None
        if not raw:
            continue
        try:
            value = schema.from_text(spec, raw, label=spec.env)
        except schema.SettingError as error:
            raise ConfigError(str(error), "environment") from None
        tables.setdefault(section, {})[spec.name] = value
    return tables


def load_settings(config_file: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the config file, then the environment. Flags are applied by the caller."""
    settings = apply_tables(Settings(), read_config_file(config_file), str(config_file))
    env = env_tables(os.environ if environ is None else environ)
    settings = apply_tables(settings, env, "environment")
    if "name" in env.get("model", {}):  # errors about the model name the variable
        name = schema.find(ModelSettings, "name")
        settings = replace(settings, model=replace(settings.model,
                                                   name_from=name.env if name else None))
    return settings


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
    """The settings as a config.toml document that load_settings reads back unchanged; a
    setting left unset shows as a comment saying what that means."""
    lines = [_HEADER]
    for section, table in settings.to_dict().items():
        lines.append(f"\n[{section}]")
        for spec, value in table_rows(settings, section):
            if spec.name in table:
                lines.append(f"{spec.name} = {toml_value(table[spec.name])}")
            elif value is None and spec.unset:
                lines.append(f"# {spec.name}: not set ({spec.unset})")
    return "\n".join(lines) + "\n"


_HEADER = "# gpt2-adventure settings (see `gpt2-adventure config show`)"


def save_changes(path: Path, changes: Mapping[str, Mapping[str, Any]]) -> None:
    """Set ``changes`` ({section: {key: value}}, None removes the key) in config.toml and
    leave the rest of the file (comments, key order, spacing) byte for byte as it was."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    text = _read_config_text(path)
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path) from None
    if not text.strip():
        doc.add(tomlkit.comment(_HEADER.removeprefix("# ")))
    for section, values in changes.items():
        if section not in doc:
            doc[section] = tomlkit.table()
        table = doc[section]
        for key, value in values.items():
            spec = find_setting(section, key)
            if spec is None:
                raise ConfigError(f"unknown setting [{section}].{schema.shown(key)}", path)
            if value is None:
                table.pop(key, None)
            else:
                table[key] = schema.plain(spec, value)
    data = tomlkit.dumps(doc)
    apply_tables(Settings(), tomllib.loads(data), str(path))  # never a file the next start refuses
    _write(path, data)


def _write(path: Path, text: str) -> None:
    from gpt2_adventure.fileio import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"), mode=0o644, temp_prefix=".config-")
