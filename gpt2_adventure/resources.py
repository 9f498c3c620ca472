"""Files shipped with the game (tokenizer, bundled stories).

In a wheel they live in ``gpt2_adventure/_data``; in a source checkout (editable install)
they are the top-level ``assets/`` and ``stories/`` folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    installed = _PACKAGE_DIR / "_data" / name
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / name


def assets_dir() -> Path:
    return _shipped("assets")


def stories_dir() -> Path:
    return _shipped("stories")


def gpt2_tokenizer_dir() -> Path:
    """The real GPT-2 vocabulary (vocab.json) and BPE merges (merges.txt), MIT, OpenAI."""
    return assets_dir() / "gpt2-tokenizer"
