"""A GPT-2 .gguf file the player names by its path (the Models screen, the no-model dialog):
recognised, and checked before the game tries to load it."""

from __future__ import annotations

from pathlib import Path

# Said where the engine's hints point at the command line's --model PATH.
TUI_FILE_HINT = "play a GPT-2 .gguf file you have: type its path below"


def is_model_path(typed: str) -> bool:
    """A path rather than a catalog name or a Hub repository (``owner/repo``, which holds
    a slash too): it begins like one, names a file there is, or ends in .gguf without a
    repository's ``:QUANT``/``:FILE`` part."""
    text = typed.strip().strip("\"'")
    if text.startswith(("/", "~", ".", "\\")) or Path(text).expanduser().is_file():
        return True
    return text.lower().endswith(".gguf") and ":" not in text


def checked_model_file(typed: str) -> Path:
    """The file ``typed`` names, checked as a GPT-2 GGUF llama.cpp can load; a
    ``ModelFileError`` (one line saying what is wrong, and where) if it is not."""
    from gpt2_adventure.engine.models.gguf_info import read_model_info

    path = Path(typed.strip().strip("\"'")).expanduser().absolute()
    read_model_info(path)
    return path


def for_the_tui(hint: str) -> str:
    """An engine hint as the TUI says it: the --model flag is the command line's way."""
    return hint.replace("play a GGUF file you already have with --model PATH", TUI_FILE_HINT)
