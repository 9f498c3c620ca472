"""`bench` and `bench --tune` as a player runs them (subprocesses, the tiny model)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.test_app import assert_clean_error, run

SMALL = ("--prompt-tokens", "16", "--gen-tokens", "8", "--repeats", "1")


def bench_settings(model: Path) -> dict[str, dict[str, object]]:
    result = run("bench", "--model", str(model), *SMALL, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["settings"]


def test_a_tuning_is_stored_and_the_next_bench_runs_with_it(
        tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = bench_settings(tiny_gguf)
    assert {row["from"] for row in before.values()} == {"default"}
    assert before["n_batch"]["value"] == 512 and before["flash_attn"]["value"] is False

    tuned = run("bench", "--tune", "--model", str(tiny_gguf), *SMALL)
    assert tuned.returncode == 0, tuned.stderr
    for label in ("flash attention", "threads", "prompt batch", "replies written ahead",
                  "kept in"):
        assert label in tuned.stdout
    assert "measuring threads" in tuned.stderr
    stored = json.loads((Path(os.environ["GPT2_ADVENTURE_CACHE_DIR"]) / "tuning.json")
                        .read_text())
    (entry,) = stored["tunings"].values()

    after = bench_settings(tiny_gguf)
    assert {row["from"] for row in after.values()} == {"tuned"}
    assert {name: row["value"] for name, row in after.items()} == entry["settings"]

    monkeypatch.setenv("GPT2_ADVENTURE_N_BATCH", "24")  # the player's value still wins
    mine = bench_settings(tiny_gguf)
    assert mine["n_batch"] == {"value": 24, "from": "player"}
    assert mine["threads"]["from"] == "tuned"


def test_tune_json_says_what_was_chosen_and_what_is_in_use(
        tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPT2_ADVENTURE_THREADS", "1")
    result = run("bench", "--tune", "--model", str(tiny_gguf), *SMALL, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["tuned"]) == {"flash_attn", "n_batch", "threads", "batched"}
    assert {"flash_attn", "threads", "n_batch", "batched"} <= set(data["figures"])
    assert data["settings"]["threads"] == {"value": 1, "from": "player"}
    assert data["settings"]["n_batch"] == {"value": data["tuned"]["n_batch"], "from": "tuned"}


def test_tune_refuses_threads_and_a_missing_model_in_one_line(tmp_path: Path) -> None:
    assert_clean_error(run("bench", "--tune", "--threads", "2"), "--threads")
    assert_clean_error(run("bench", "--tune", "--model", str(tmp_path / "none.gguf")),
                       "none.gguf")
    assert not (Path(os.environ["GPT2_ADVENTURE_CACHE_DIR"]) / "tuning.json").exists()


def test_bench_measures_the_local_model_when_the_game_plays_on_a_server(
        tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # bench used to open the server (and, with one up, crash in code only a local model has).
    monkeypatch.setenv("GPT2_ADVENTURE_BACKEND_KIND", "openai")
    monkeypatch.setenv("GPT2_ADVENTURE_BACKEND_URL", "http://127.0.0.1:9")  # nothing there
    result = run("bench", "--model", str(tiny_gguf), *SMALL, "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["path"] == str(tiny_gguf) and figures["gen_tok_s"] > 0
    assert set(figures["settings"]) >= {"threads", "n_batch", "flash_attn"}
