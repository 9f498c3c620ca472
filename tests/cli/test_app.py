"""The real command, in a subprocess, as a player would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpt2_adventure import __version__


def run(*args: str, stdin: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gpt2_adventure", *args], capture_output=True,
                          text=True, input=stdin, timeout=timeout, env=dict(os.environ))


def assert_clean_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and 1 <= len(lines) <= 2, result.stderr
    for word in words:
        assert word in result.stderr


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"gpt2-adventure {__version__}"


def test_config_path_follows_the_environment() -> None:
    result = run("config", "path")
    assert result.returncode == 0
    assert os.environ["GPT2_ADVENTURE_CONFIG_DIR"] in result.stdout
    assert os.environ["GPT2_ADVENTURE_CACHE_DIR"] in result.stdout


def test_config_show_layers_file_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = Path(os.environ["GPT2_ADVENTURE_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[model]\nthreads = 3\nseed = 5\n[sampling]\npreset = "aidungeon2"\n')
    monkeypatch.setenv("GPT2_ADVENTURE_SEED", "9")
    shown = json.loads(run("config", "show", "--json").stdout)
    assert shown["model"]["threads"] == 3 and shown["model"]["seed"] == 9
    assert shown["sampling"]["temperature"] == 0.4
    toml = run("config", "show").stdout
    assert "[model]" in toml and "threads = 3" in toml
    assert shown["sampling"]["candidates"] == 2 and "\ncandidates = 2\n" in toml


def test_bad_config_is_one_line_and_exit_2() -> None:
    config = Path(os.environ["GPT2_ADVENTURE_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[model]\nthreads = 'x'\n")
    assert_clean_error(run("config", "show"), "[model].threads", str(config))


def test_debug_shows_the_traceback() -> None:
    config = Path(os.environ["GPT2_ADVENTURE_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[model\n")
    result = run("--debug", "config", "show")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_no_model_installed_says_what_to_run() -> None:
    assert_clean_error(run("generate", "Hello"), "gpt2-adventure models pull gpt2")


def test_models_info(tiny_gguf: Path) -> None:
    data = json.loads(run("models", "info", str(tiny_gguf), "--json").stdout)
    assert data["architecture"] == "gpt2" and data["vocab_size"] == 50257
    assert data["training_context"] == 1024 and data["quantization"] == "F32"
    table = run("models", "info", str(tiny_gguf))
    assert table.returncode == 0 and "training context" in table.stdout


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"not a model at all" * 10, "not a GGUF file"),
    (b"GGUF\x03\x00\x00\x00" + b"\x01" * 30, "GGUF file"),
])
def test_models_info_bad_files(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    assert_clean_error(run("models", "info", str(path)), words, str(path))


def test_generate_streams_a_reply(tiny_gguf: Path) -> None:
    result = run("generate", "The cave is dark.", "--model", str(tiny_gguf), "--max-tokens",
                 "12", "--seed", "3", "--ignore-eos", "--threads", "1")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    again = run("generate", "The cave is dark.", "--model", str(tiny_gguf), "--max-tokens",
                "12", "--seed", "3", "--ignore-eos", "--threads", "1")
    assert result.stdout == again.stdout and result.stdout.strip()


def test_generate_reads_stdin_and_takes_the_model_from_the_environment(
        tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPT2_ADVENTURE_MODEL", str(tiny_gguf))
    result = run("generate", "-", "--max-tokens", "4", "--ignore-eos", stdin="Once")
    assert result.returncode == 0, result.stderr


def test_a_5000_token_prompt_does_not_crash(tiny_gguf: Path) -> None:
    prompt = "The wind howls over the moor. " * 720  # about 5000 tokens
    result = run("generate", prompt, "--model", str(tiny_gguf), "--max-tokens", "40",
                 "--ignore-eos", "--threads", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "keeping the last" in result.stderr


def test_bad_sampling_flag_is_exit_2(tiny_gguf: Path) -> None:
    result = run("generate", "x", "--model", str(tiny_gguf), "--top-p", "3")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_bench_json(tiny_gguf: Path) -> None:
    result = run("bench", "--model", str(tiny_gguf), "--prompt-tokens", "64", "--gen-tokens",
                 "16", "--repeats", "1", "--threads", "1", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["prompt_tok_s"] > 0 and data["gen_tok_s"] > 0 and data["load_seconds"] > 0
