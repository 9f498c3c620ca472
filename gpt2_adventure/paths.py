"""Where files live (computed on demand; nothing is created at import time), and telling a
path the player typed from one of our names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from gpt2_adventure.errors import UserError

APP_NAME = "gpt2-adventure"


def _dir(env_var: str, default: str, what: str) -> Path:
    override = os.environ.get(env_var)
    folder = player_path(override) if override else Path(default)
    _check_folder(folder, f"the {what} folder" + (f" ({env_var})" if override else ""),
                  env_var)
    return folder


def _check_folder(folder: Path, label: str, env_var: str) -> None:
    """A folder we may create: neither it nor a folder above it may be a file (else every
    write under it fails with NotADirectoryError). Only looks; creates nothing."""
    place = folder
    while not place.exists() and place != place.parent:
        place = place.parent
    if place.exists() and not place.is_dir():
        where = "is" if place == folder else "would be inside what is"
        raise UserError(f"{label} {where} a file, not a folder", place,
                        hint=f"move the file away, or set {env_var} to a folder")


@dataclass(frozen=True)
class AppPaths:
    """The three roots (config, data, cache) and the well-known places inside them."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @classmethod
    def from_env(cls) -> AppPaths:
        """The roots from the environment, else the system's usual places; a root that is a
        file (or inside one) is a UserError naming it."""
        return cls(
            config_dir=_dir("GPT2_ADVENTURE_CONFIG_DIR", platformdirs.user_config_dir(APP_NAME),
                            "config"),
            data_dir=_dir("GPT2_ADVENTURE_DATA_DIR", platformdirs.user_data_dir(APP_NAME),
                          "data"),
            cache_dir=_dir("GPT2_ADVENTURE_CACHE_DIR", platformdirs.user_cache_dir(APP_NAME),
                           "cache"),
        )

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def saves_dir(self) -> Path:
        return self.data_dir / "saves"

    @property
    def stories_dir(self) -> Path:
        return self.data_dir / "stories"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / "gpt2-adventure.log"

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def tuning_file(self) -> Path:
        """The speed settings ``bench --tune`` measured (engine/tuning.py)."""
        return self.cache_dir / "tuning.json"


def player_path(text: str) -> Path:
    """A path the player typed, ``~`` expanded; a UserError when no file could have it (a NUL
    character, the home folder of a user who does not exist)."""
    if "\0" in text:
        raise UserError("a file name cannot contain a NUL character", repr(text))
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~nobody/x": Python cannot tell where that home folder is
        raise UserError("no such home folder", text.split("/")[0].split("\\")[0]) from None


def has_separator(text: str) -> bool:
    """Does ``text`` hold a folder separator? Either slash counts on every system (they are
    ``os.sep`` and ``os.altsep`` everywhere), so no name of ours can hold one."""
    return "/" in text or "\\" in text


def looks_like_path(text: str, suffix: str, starts: tuple[str, ...] = ("~",),
                    suffix_if_file: bool = False) -> bool:
    """Is what the player typed a file path rather than one of our names (a story id, a save,
    a model)? Yes when it holds a folder separator, begins with one of ``starts`` (``~``: a
    home folder) or ends with the file type's ``suffix`` — with ``suffix_if_file``, only when
    that file exists, where a name may end so too."""
    if has_separator(text) or text.startswith(starts):
        return True
    return text.endswith(suffix) and (not suffix_if_file or Path(text).is_file())
