"""Errors the player can act on: shown as one line, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Something the player handed us is wrong (a file, a flag, a setting).

    Rendered as ``error: <message> (<where>)`` plus an optional hint line.
    """

    exit_code = 2

    def __init__(self, message: str, where: str | Path | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = str(where) if where is not None else None
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.where})" if self.where else self.message


class ModelFileError(UserError):
    """A model file is missing, unreadable, not a GGUF, truncated or not GPT-2."""


class ConfigError(UserError):
    """The config file or an environment setting is malformed."""


class ContextOverflowError(UserError):
    """A prompt does not fit the model's context window."""


class DownloadError(UserError):
    """A model could not be fetched (network, missing file, offline mode)."""
