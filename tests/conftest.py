"""Shared fixtures: an isolated home and environment for every test, and tiny GPT-2 models
built on the spot."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hf_checkpoint import make_checkpoint

TINY_SHAPE = {"n_layer": 2, "n_embd": 64, "n_head": 4, "n_positions": 1024}


# What the caller's environment may hold that changes what the program or its libraries do:
# colour and terminal size (Rich, Textual, Typer), our own settings, the Hub's, proxies.
_CLEARED_PREFIXES = ("GPT2_ADVENTURE_", "HF_", "HUGGINGFACE_", "HUGGING_FACE_", "TEXTUAL_",
                     "TYPER_", "_TYPER_")
_CLEARED = {"NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE",
            "TTY_INTERACTIVE", "COLORTERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION", "COLUMNS",
            "LINES", "JUPYTER_COLUMNS", "JUPYTER_LINES", "TERMINAL_WIDTH", "ESCDELAY", "TMUX",
            "TRANSFORMERS_OFFLINE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}


def _callers_settings() -> list[str]:
    return [name for name in os.environ
            if name.upper() in _CLEARED or name.upper().startswith(_CLEARED_PREFIXES)]


def pytest_configure(config: pytest.Config) -> None:
    """Before the test modules are imported and the session fixtures built: the whole run
    sees none of the caller's settings (libraries read some of them at import time)."""
    for name in _callers_settings():
        del os.environ[name]
    os.environ["TERM"] = "xterm-256color"


@pytest.fixture(scope="session")
def _plugins_settings() -> frozenset[str]:
    """Variables of the cleared kinds that pytest plugins set for the whole run once the
    caller's were gone (the snapshot plugin's TEXTUAL_SNAPSHOT_TEMPDIR): every test keeps
    them."""
    return frozenset(_callers_settings())


@pytest.fixture(autouse=True)
def _isolated_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                   _plugins_settings: frozenset[str]) -> None:
    """No test depends on the caller's environment (or on one an earlier test left), reads
    or writes the real config/data/cache folders, or reaches the Hub.

    huggingface_hub reads HF_* variables when first imported, so this only governs
    imports that happen after it; tests that need the Hub online use a fake hub.
    """
    for name in _callers_settings():
        if name not in _plugins_settings:
            monkeypatch.delenv(name)
    monkeypatch.setenv("TERM", "xterm-256color")
    home = tmp_path / "_home"
    for name in ("CONFIG", "DATA", "CACHE"):
        monkeypatch.setenv(f"GPT2_ADVENTURE_{name}_DIR", str(home / name.lower()))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # Every fresh cache would tune its model before the first reply; the tests of tuning on
    # first use (tests/engine/test_first_use.py, tests/cli/test_first_tune.py) turn it on.
    monkeypatch.setenv("GPT2_ADVENTURE_AUTO_TUNE", "false")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer, 64-wide GPT-2 in Hugging Face layout with the real vocabulary."""
    return make_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny-gpt2", **TINY_SHAPE)


def _convert(checkpoint: Path, out: Path, quant: str) -> Path:
    from gpt2_adventure.engine.models.convert import convert_checkpoint

    if quant not in ("f32", "f16"):  # llama.cpp's quantizer logs; keep the output clean
        from gpt2_adventure.engine.llama.logs import route_llama_logs

        route_llama_logs(None)
    return convert_checkpoint(checkpoint, out, quant)


@pytest.fixture(scope="session")
def tiny_gguf(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny_checkpoint`` converted to an f32 GGUF."""
    return _convert(tiny_checkpoint, tmp_path_factory.mktemp("gguf") / "tiny-f32.gguf", "f32")


@pytest.fixture(scope="session")
def tiny_gguf_f16(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny_checkpoint`` converted to an f16 GGUF (what llama.cpp requantizes from)."""
    return _convert(tiny_checkpoint, tmp_path_factory.mktemp("gguf") / "tiny-f16.gguf", "f16")


@pytest.fixture(scope="session")
def tiny_gguf_q8(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny_checkpoint`` converted and quantized to Q8_0 by llama.cpp."""
    return _convert(tiny_checkpoint, tmp_path_factory.mktemp("gguf") / "tiny-q8_0.gguf", "q8_0")


@pytest.fixture(autouse=True)
def _unfreeze_gc() -> Iterator[None]:
    """A game screen freezes what is alive when its model is ready (gc.freeze); in one test
    process that would keep every earlier test's garbage for good."""
    yield
    gc.unfreeze()
