"""Playing a model that is not installed offers to pull it: catalog names and Hub repositories."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from huggingface_hub import constants as hf_constants
from rich.console import Console

from gpt2_adventure.cli import play
from gpt2_adventure.engine.models import store
from gpt2_adventure.paths import AppPaths
from tests.support.fake_hub import FakeHub


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    return AppPaths.from_env()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tiny_gguf_q8: Path) -> Iterator[FakeHub]:
    with FakeHub() as fake:
        fake.add_repo("someone/tiny-GGUF", {"tiny.Q8_0.gguf": tiny_gguf_q8.read_bytes()})
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        yield fake


def launch(paths: AppPaths, model: str | None = None, name: str = "", kind: str = "local"
           ) -> Any:
    """What of a Launch the offer reads."""
    settings = SimpleNamespace(backend=SimpleNamespace(kind=kind), model=SimpleNamespace(name=name))
    return SimpleNamespace(paths=paths, model=model, settings=settings)


def test_what_is_missing(paths: AppPaths, tmp_path: Path) -> None:
    missing = play._missing_model
    assert missing(launch(paths)) == "gpt2"
    assert missing(launch(paths, "GPT2-Medium:q4_k_m")) == "gpt2-medium:q4_k_m"
    assert missing(launch(paths, name="aidungeon2")) == "aidungeon2"
    assert missing(launch(paths, "someone/tiny-GGUF:Q8_0")) == "someone/tiny-GGUF:Q8_0"
    for nothing_to_pull in (launch(paths, "gpt5"), launch(paths, "gpt2:Q3_K"),
                            launch(paths, "someone/repo:best"), launch(paths, kind="openai"),
                            launch(paths, str(tmp_path))):
        assert missing(nothing_to_pull) is None
    installed = paths.models_dir / "someone--tiny-GGUF" / "tiny.Q8_0.gguf"
    installed.parent.mkdir(parents=True)
    installed.write_bytes(b"GGUF")
    assert missing(launch(paths, "someone/tiny-GGUF")) is None
    assert missing(launch(paths, "someone/tiny-GGUF:F16")) == "someone/tiny-GGUF:F16"


def test_the_offer_pulls_a_repository(paths: AppPaths, hub: FakeHub,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda *args: asked.append("") or "y")
    out = io.StringIO()
    console = Console(file=out, width=200)

    assert play._offer_pull(launch(paths), console, "someone/tiny-GGUF")

    assert asked and "No model installed. Download someone/tiny-GGUF now? [Y/n]" in out.getvalue()
    assert "downloading someone/tiny-GGUF/tiny.Q8_0.gguf (" in out.getvalue()
    [model] = store.installed(paths)
    assert model.name == "someone/tiny-GGUF" and model.quant == "Q8_0"


def test_the_offer_names_the_download_size_and_can_be_declined(
    paths: AppPaths, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("builtins.input", lambda *args: "n")
    out = io.StringIO()
    assert not play._offer_pull(launch(paths), Console(file=out, width=200), "aidungeon2")
    assert "Download aidungeon2 (~3.2 GB) now? [Y/n]" in out.getvalue()
    assert hub.requests == [] and store.installed(paths) == []
