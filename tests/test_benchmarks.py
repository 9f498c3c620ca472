"""The benchmarks run (a smoke run on a tiny model): CI checks that, not how fast they are."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_speed_suite_quick(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "suite.json"
    run = bench("benchmarks/run.py", "--quick", "--model", str(tiny_gguf), "--json", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    for key in ("ttft_ratio_naive_over_ours", "evaluated_over_new_tokens", "mean_context_fill",
                "resume_ttft_over_warm", "app_over_bare_tok_s"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert "over_transformers_tok_s" in result
    assert "speed suite" in run.stdout


def test_candidates(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "candidates.json"
    run = bench("benchmarks/candidates.py", "--model", str(tiny_gguf), "--rounds", "1",
                "--write-rounds", "1", "--json", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    seconds = [key for key in result if key.endswith("_s")]
    ratios = [key for key in result if "_over_" in key]
    assert len(seconds) == 10 and len(ratios) == 4, sorted(result)
    for key in seconds + ratios:
        assert isinstance(result[key], float) and 0 < result[key] < 600, key
        assert math.isfinite(result[key]), key
    for key in ("first_reply_over_single", "retry_latency_ready_s",
                "act_latency_while_writing_over_without", "batched_3_over_1",
                "sequential_3_over_1", "retry_latency_live_s"):
        assert key in ratios + seconds, key
    assert result["rounds"] == 1 and result["candidates"] == 3
    assert result["story_prompt_tokens"] >= 450 and result["write_prompt_tokens"] == 450
    assert 0 <= result["retry_ready_share"] <= 1
    assert "replies written ahead" in run.stdout


def test_generation_overhead_and_prefix_stability(tiny_gguf: Path) -> None:
    run = bench("benchmarks/generate_overhead.py", "--model", str(tiny_gguf), "--rounds", "1",
                "--tokens", "16", "--json")
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout)["app_over_bare"] > 0
    run = bench("benchmarks/prefix_stability.py", "--turns", "20", "--json")
    assert run.returncode == 0, run.stderr[-3000:]
    assert 0 < json.loads(run.stdout)["mean_prefix_share"] <= 1


def test_open_game_ui_stall(tiny_gguf: Path) -> None:
    run = bench("benchmarks/open_game.py", "--model", str(tiny_gguf), "--rounds", "1",
                "--model-load-s", "0", "--json")
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert result["state_mb"] > 0 and result["prompt_tokens"] > 100
    assert result["max_stall_ms"] > 0 and result["rounds"][0]["open_game_s"] > 0


def test_convert_memory(tmp_path: Path) -> None:
    run = bench("benchmarks/convert_memory.py", "--tiny", "--cache", str(tmp_path),
                "--quants", "f16,q8_0", "--json")
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert result["checkpoint_mib"] > 20 and result["baseline"]["peak_rss_mib"] > 0
    f16, q8 = result["runs"]
    assert f16["quant"] == "f16" and 0 < q8["output_mib"] < f16["output_mib"]
    for run_ in (f16, q8):
        assert run_["peak_rss_mib"] >= run_["peak_anon_mib"] > 0 and run_["seconds"] > 0
    assert q8["quantize_peak_anon_mib"] > 0 and "quantize_peak_anon_mib" not in f16
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-random-f32-hf"]  # no outputs
