"""Where files live (computed on demand; nothing is created at import time), and telling a
path the player typed from one of our names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "gpt2-adventure"


def _dir(env_var: str, default: str) -> Path:
    override = os.environ.get(env_var)
    return Path(override).expanduser() if override else Path(default)


@dataclass(frozen=True)
class AppPaths:
    """The three roots (config, data, cache) and the well-known places inside them."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @classmethod
    def from_env(cls) -> AppPaths:
        return cls(
            config_dir=_dir("GPT2_ADVENTURE_CONFIG_DIR", platformdirs.user_config_dir(APP_NAME)),
            data_dir=_dir("GPT2_ADVENTURE_DATA_DIR", platformdirs.user_data_dir(APP_NAME)),
            cache_dir=_dir("GPT2_ADVENTURE_CACHE_DIR", platformdirs.user_cache_dir(APP_NAME)),
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
