"""Tuning on first use, as a player meets it: plain mode through its real entry point with
the tiny model in a fresh cache, then `bench` (subprocesses)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.test_app import run

GAME = ("play", "--plain", "--story", "knight", "--name", "Anna")


def tuning_file() -> Path:
    return Path(os.environ["GPT2_ADVENTURE_CACHE_DIR"]) / "tuning.json"


def bench_sources(model: Path) -> dict[str, str]:
    result = run("bench", "--model", str(model), "--prompt-tokens", "16", "--gen-tokens", "8",
                 "--repeats", "1", "--json")
    assert result.returncode == 0, result.stderr
    return {name: row["from"] for name, row in json.loads(result.stdout)["settings"].items()}


@pytest.fixture
def auto_tune(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPT2_ADVENTURE_AUTO_TUNE")  # as on a player's machine: on


@pytest.mark.usefixtures("auto_tune")
def test_the_first_game_tunes_the_model_and_the_second_does_not(tiny_gguf: Path) -> None:
    assert set(bench_sources(tiny_gguf).values()) == {"default"}  # bench measures nothing
    assert not tuning_file().exists()

    first = run(*GAME, "--model", str(tiny_gguf), stdin="look around\n")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "> You look around." in first.stdout  # the game was played
    # Piped: one line per measure, then what was chosen.
    assert "tuning: measuring threads" in first.stderr
    assert "note: tuned in" in first.stderr and "thread" in first.stderr
    assert "Enter skips" not in first.stderr  # stdin carries the actions: never read for it
    stored = tuning_file().read_bytes()
    (entry,) = json.loads(stored)["tunings"].values()
    # What the time budget left out (on a very busy machine) stays default, and says so.
    left_out = set(entry["figures"]["skipped"])
    assert "threads" not in left_out
    assert bench_sources(tiny_gguf) == {name: "default" if name in left_out else "tuned"
                                        for name in ("threads", "n_batch", "flash_attn",
                                                     "batched")}

    second = run(*GAME, "--model", str(tiny_gguf), stdin="look around\n")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "tuning" not in second.stderr and "tuned" not in second.stderr
    assert tuning_file().read_bytes() == stored


@pytest.mark.usefixtures("auto_tune")
def test_auto_tune_false_in_the_config_measures_nothing(tiny_gguf: Path) -> None:
    config = Path(os.environ["GPT2_ADVENTURE_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[model]\nauto_tune = false\n")
    result = run(*GAME, "--model", str(tiny_gguf), stdin="look around\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tuning" not in result.stderr and "tuned" not in result.stderr
    assert not tuning_file().exists()
    assert set(bench_sources(tiny_gguf).values()) == {"default"}


@pytest.mark.usefixtures("auto_tune")
def test_a_setting_the_player_chose_is_not_measured(tiny_gguf: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPT2_ADVENTURE_THREADS", "1")
    result = run(*GAME, "--model", str(tiny_gguf), stdin="look around\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tuning: measuring flash attention" in result.stderr
    assert "measuring threads" not in result.stderr
    sources = bench_sources(tiny_gguf)
    assert sources["threads"] == "player" and sources["flash_attn"] == "tuned"
    monkeypatch.delenv("GPT2_ADVENTURE_THREADS")  # unset later: the default, never measured
    assert bench_sources(tiny_gguf)["threads"] == "default"
