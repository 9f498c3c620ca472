"""The stored tuning: one JSON file, good only for the model file, machine and llama.cpp it was
measured on; and which speed settings a model opens with (player > tuned > default)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import llama_cpp
import pytest

from gpt2_adventure.engine import tuning as tuning_module
from gpt2_adventure.engine.llama import hardware
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.engine.tuning import (
    Tuning,
    choose_speed,
    load_tuning,
    save_tuning,
)

TUNED = Tuning(flash_attn=True, n_batch=128, threads=1, batched=True,
               figures={"flash_attn": [{"value": False, "write_tok_s": 50.0}], "seconds": 9.5},
               model_path="/models/gpt2.gguf", measured_at="2025-01-01T00:00:00Z")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """Any file serves: a tuning is keyed by the file's fingerprint, not its contents' kind."""
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    return path


@pytest.fixture
def file(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "tuning.json"


def test_a_stored_tuning_reads_back_whole(file: Path, model: Path) -> None:
    assert load_tuning(file, model) is None  # nothing stored yet
    save_tuning(file, model, TUNED)
    assert load_tuning(file, model) == TUNED
    assert [p.name for p in file.parent.iterdir()] == ["tuning.json"]  # no temp file left


def test_the_same_file_elsewhere_keeps_its_tuning_and_another_file_has_none(
        file: Path, model: Path, tmp_path: Path) -> None:
    save_tuning(file, model, TUNED)
    copy = tmp_path / "moved.gguf"
    copy.write_bytes(model.read_bytes())
    assert load_tuning(file, copy) == TUNED
    other = tmp_path / "other.gguf"
    other.write_bytes(model.read_bytes() + b"requantized")
    assert load_tuning(file, other) is None


def test_each_model_file_keeps_its_own_tuning(file: Path, model: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.gguf"
    other.write_bytes(b"another model")
    save_tuning(file, model, TUNED)
    save_tuning(file, other, Tuning(flash_attn=False, n_batch=512, threads=2, batched=False))
    assert load_tuning(file, model) == TUNED
    assert load_tuning(file, other) is not None and load_tuning(file, other).threads == 2
    again = Tuning(flash_attn=False, n_batch=64, threads=2, batched=False)
    save_tuning(file, model, again)  # measured again: replaces the first
    assert load_tuning(file, model) == again


@pytest.mark.parametrize("change", ["version", "system_info", "cpu", "cores"])
def test_a_tuning_from_another_llama_cpp_or_machine_is_ignored(
        file: Path, model: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    save_tuning(file, model, TUNED)
    assert load_tuning(file, model) == TUNED
    if change == "version":
        monkeypatch.setattr(llama_cpp, "__version__", llama_cpp.__version__ + ".1")
    elif change == "system_info":
        built = llama_cpp.llama_print_system_info()
        monkeypatch.setattr(llama_cpp, "llama_print_system_info",
                            lambda: built.replace(b"AVX2 = 1", b"AVX2 = 0") + b"CUDA = 1 | ")
    elif change == "cpu":
        monkeypatch.setattr(hardware, "cpu_model", lambda: "Another CPU @ 5.0GHz")
    else:
        cores = hardware.physical_cores()
        monkeypatch.setattr(hardware, "physical_cores", lambda: cores + 2)
    assert load_tuning(file, model) is None


@pytest.mark.parametrize("content", [
    b"", b"{", b"\xff\xfe not utf-8", b"[]", b"null", b'{"format": 2, "tunings": {}}',
    b'{"format": 1, "tunings": []}', b"[" * 100_000 + b"]" * 100_000,
])
def test_a_damaged_file_is_no_tuning_and_is_replaced_by_the_next(
        file: Path, model: Path, content: bytes) -> None:
    file.parent.mkdir(parents=True)
    file.write_bytes(content)
    assert load_tuning(file, model) is None
    save_tuning(file, model, TUNED)
    assert load_tuning(file, model) == TUNED


@pytest.mark.parametrize("settings", [
    {"flash_attn": 1, "n_batch": 128, "threads": 1, "batched": True},
    {"flash_attn": True, "n_batch": "128", "threads": 1, "batched": True},
    {"flash_attn": True, "n_batch": 128, "threads": 0, "batched": True},
    {"flash_attn": True, "n_batch": 128, "threads": 100_000, "batched": True},
    {"flash_attn": True, "n_batch": True, "threads": 1, "batched": True},
    {"flash_attn": True, "n_batch": 128, "threads": 1},
    None,
])
def test_an_entry_with_wrong_values_is_no_tuning(file: Path, model: Path,
                                                 settings: object) -> None:
    save_tuning(file, model, TUNED)
    data = json.loads(file.read_text())
    (entry,) = data["tunings"].values()
    entry["settings"] = settings
    file.write_text(json.dumps(data))
    assert load_tuning(file, model) is None


def test_a_folder_where_the_file_should_be_is_no_tuning(file: Path, model: Path) -> None:
    file.mkdir(parents=True)
    assert load_tuning(file, model) is None


def test_a_missing_model_file_is_no_tuning(file: Path, model: Path, tmp_path: Path) -> None:
    save_tuning(file, model, TUNED)
    assert load_tuning(file, tmp_path / "gone.gguf") is None


def test_the_oldest_tunings_go_when_too_many_models_were_tuned(
        file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuning_module, "MAX_ENTRIES", 2)
    models = []
    for i in range(3):
        models.append(tmp_path / f"m{i}.gguf")
        models[-1].write_bytes(b"model %d" % i)
        save_tuning(file, models[-1], Tuning(flash_attn=False, n_batch=512, threads=1,
                                             batched=False, measured_at=f"2025-01-0{i + 1}"))
    assert [load_tuning(file, m) is not None for m in models] == [False, True, True]


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_the_file_is_written_whole_with_a_normal_mode(file: Path, model: Path) -> None:
    save_tuning(file, model, TUNED)
    assert file.stat().st_mode & 0o777 == 0o644
    data = json.loads(file.read_text())
    (entry,) = data["tunings"].values()
    assert entry["llama_cpp"]["version"] == llama_cpp.__version__
    assert entry["machine"]["cpu"] == hardware.cpu_model()


# -- player > tuned > default -----------------------------------------------------------------

def test_without_tuning_or_player_values_the_defaults_are_used() -> None:
    speed = choose_speed(ModelSettings(), None)
    assert (speed.threads, speed.n_batch, speed.flash_attn, speed.batched) == (
        hardware.physical_cores(), 512, False, False)
    assert set(speed.sources.values()) == {"default"}


def test_a_tuning_beats_the_defaults() -> None:
    speed = choose_speed(ModelSettings(), TUNED)
    assert (speed.threads, speed.n_batch, speed.flash_attn, speed.batched) == (1, 128, True, True)
    assert set(speed.sources.values()) == {"tuned"}


def test_the_players_values_beat_the_tuning_one_by_one() -> None:
    speed = choose_speed(ModelSettings(n_batch=32), TUNED)
    assert (speed.n_batch, speed.source("n_batch")) == (32, "player")
    assert (speed.threads, speed.source("threads")) == (1, "tuned")
    speed = choose_speed(ModelSettings(threads=3, flash_attn=False), TUNED)
    assert (speed.threads, speed.source("threads")) == (3, "player")
    assert (speed.flash_attn, speed.source("flash_attn")) == (False, "player")
    assert (speed.n_batch, speed.source("n_batch")) == (128, "tuned")
    # --threads beats [model].threads
    assert choose_speed(ModelSettings(threads=3), TUNED, threads=2).threads == 2


def test_a_setting_a_tuning_did_not_measure_is_the_default_not_tuned(file: Path,
                                                                     model: Path) -> None:
    from dataclasses import replace

    partial = replace(TUNED, measured=("threads", "flash_attn"))  # a first-use budget ran out
    save_tuning(file, model, partial)
    stored = load_tuning(file, model)
    assert stored is not None and stored.measured == ("threads", "flash_attn")
    speed = choose_speed(ModelSettings(), stored)
    assert (speed.threads, speed.source("threads")) == (1, "tuned")
    assert (speed.flash_attn, speed.source("flash_attn")) == (True, "tuned")
    assert (speed.n_batch, speed.source("n_batch")) == (512, "default")
    assert (speed.batched, speed.source("batched")) == (False, "default")


def test_a_tuning_stored_before_first_use_tuning_counts_as_measured_whole(
        file: Path, model: Path) -> None:
    save_tuning(file, model, TUNED)
    data = json.loads(file.read_text())
    for entry in data["tunings"].values():
        del entry["measured"]
    file.write_text(json.dumps(data))
    stored = load_tuning(file, model)
    assert stored is not None
    assert {choose_speed(ModelSettings(), stored).source(n) for n in
            ("threads", "n_batch", "flash_attn", "batched")} == {"tuned"}


def test_the_model_file_is_read_once_per_version_when_a_game_opens(
        file: Path, model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gpt2_adventure.engine.llama import state_cache

    reads: list[Path] = []
    real = state_cache.model_fingerprint
    monkeypatch.setattr(state_cache, "model_fingerprint",
                        lambda path: (reads.append(path), real(path))[1])
    save_tuning(file, model, TUNED)
    assert load_tuning(file, model) is not None  # whether to tune first...
    assert load_tuning(file, model) is not None  # ...then the speed to open with
    assert len(reads) == 1
    model.write_bytes(b"GGUF another model, another size")  # a new file: read again
    assert load_tuning(file, model) is None and len(reads) == 2
