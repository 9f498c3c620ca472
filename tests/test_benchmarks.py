"""The benchmarks run (a smoke run on a tiny model): CI checks that, not how fast they are."""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def bench(*args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)


def path_without_llama_bench() -> str:
    return os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if not (Path(d) / "llama-bench").exists())


def test_speed_suite_quick(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "suite.json"
    run = bench("benchmarks/run.py", "--quick", "--model", str(tiny_gguf), "--json", str(out),
                path=path_without_llama_bench())
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    for key in ("ttft_ratio_naive_over_ours", "evaluated_over_new_tokens", "mean_context_fill",
                "resume_ttft_over_warm", "app_over_bare_tok_s", "first_reply_over_single",
                "retry_latency_ready_s", "act_latency_while_writing_over_without",
                "batched_3_over_1", "sequential_3_over_1"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert "over_transformers_tok_s" in result
    # benchmarks/memory.py's lines (its quick mode; tests/test_benchmark_memory.py checks more)
    for key in ("ttft_over_without_recall", "evaluated_over_new_tokens_with_recall",
                "index_ms_per_turn_p95", "recall_query_ms_at_10k_turns",
                "autosave_ms_10k_over_10_turns"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["fact_recall_in_prompt"] >= 0.95 and result["recall_precision"] >= 0.6
    assert result["long_story"]["quick"] is True and result["long_story"]["index_turns"] == 1000
    assert result["app_over_upstream_tg128"] is None
    assert "llama-bench not on PATH: skipped" in run.stdout
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


# llama-bench's JSON output for ``-p 512 -n 128 -t 2 -fa 0`` on a GPT-2-124M Q8_0 file.
# Written by hand, not recorded: llama.cpp is not built here. Its shape follows the format
# documented in llama.cpp's tools/llama-bench/README.md ("JSON prints an array of benchmark
# objects", each with the fields of test::get_fields() in llama-bench.cpp and the samples_ns
# and samples_ts arrays; avg_ts is the mean of (n_prompt + n_gen) / seconds over samples).
# The figures are made up but consistent with each other.
PP512 = {
    "build_commit": "8cf427ff", "build_number": 5163, "cpu_info": "AMD EPYC (2 cores)",
    "gpu_info": "", "backends": "CPU", "model_filename": "gpt2-random-q8_0.gguf",
    "model_type": "gpt2 0.1B Q8_0", "model_size": 177668736, "model_n_params": 163037184,
    "n_batch": 2048, "n_ubatch": 512, "n_threads": 2, "cpu_mask": "0x0", "cpu_strict": False,
    "poll": 50, "type_k": "f16", "type_v": "f16", "n_gpu_layers": 99, "n_cpu_moe": 0,
    "split_mode": "layer", "main_gpu": 0, "no_kv_offload": False, "flash_attn": 0,
    "devices": "auto", "tensor_split": "0.00", "tensor_buft_overrides": "none",
    "use_mmap": True, "embeddings": False, "no_op_offload": 0, "no_host": False,
    "n_prompt": 512, "n_gen": 0, "n_depth": 0, "test_time": "2025-12-01T04:00:00Z",
    "avg_ns": 1006000000, "stddev_ns": 6670832, "avg_ts": 508.964205, "stddev_ts": 3.371027,
    "samples_ns": [1010000000, 1002000000, 998000000, 1005000000, 1015000000],
    "samples_ts": [506.930693, 510.978044, 513.026052, 509.452736, 504.433498],
}
TG128 = {
    **PP512, "n_prompt": 0, "n_gen": 128, "test_time": "2025-12-01T04:00:06Z",
    "avg_ns": 2134600000, "stddev_ns": 11436782, "avg_ts": 59.965773, "stddev_ts": 0.321177,
    "samples_ns": [2120000000, 2150000000, 2135000000, 2128000000, 2140000000],
    "samples_ts": [60.377358, 59.534884, 59.953162, 60.150376, 59.813084],
}


def test_upstream_parses_llama_bench_json() -> None:
    from benchmarks.upstream import parse_tg

    both = json.dumps([PP512, TG128], indent=2)
    assert parse_tg(both) == pytest.approx(59.965773)
    assert parse_tg("build: 5163 (8cf427ff)\n" + both) == pytest.approx(59.965773)
    with pytest.raises(ValueError, match="no tg128"):
        parse_tg(json.dumps([PP512]))
    with pytest.raises(ValueError, match="no tg128"):
        parse_tg(json.dumps([{**TG128, "n_depth": 512}]))  # tg128 @ d512 is not tg128


def test_upstream_against_llama_bench_on_path(tiny_gguf: Path, tmp_path: Path) -> None:
    """A stand-in llama-bench on PATH prints the sample; its arguments are checked."""
    fake = tmp_path / "bin" / "llama-bench"
    fake.parent.mkdir()
    called = tmp_path / "argv.json"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\n"
                    f"open({str(called)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
                    f"print({json.dumps(json.dumps([TG128], indent=2))})\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    run = bench("benchmarks/upstream.py", "--model", str(tiny_gguf), "--rounds", "2",
                "--repetitions", "1", "--json",
                path=os.pathsep.join([str(fake.parent), path_without_llama_bench()]))
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert result["llama_bench"] == str(fake) and result["flash_attn"] is False
    assert result["upstream_tg128_tok_s"] == pytest.approx(59.965773)
    assert result["app_over_upstream_tg128"] == pytest.approx(
        result["app_tg128_tok_s"] / 59.965773)
    calls = [json.loads(line) for line in called.read_text().splitlines()]
    assert calls == [["-m", str(tiny_gguf), "-t", "2", "-p", "0", "-n", "128", "-fa", "0",
                      "-r", "1", "-o", "json"]] * 2


def test_upstream_skipped_without_llama_bench(tiny_gguf: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import upstream

    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("llama-bench") is None
    notes: list[str] = []
    result = upstream.measure(tiny_gguf, log=notes.append)
    assert result["app_over_upstream_tg128"] is None
    assert notes == ["llama-bench not on PATH: skipped"] == [result["note"]]


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


def test_first_tune_times_the_first_use_tuning(tiny_gguf: Path) -> None:
    run = bench("benchmarks/first_tune.py", "--model", str(tiny_gguf), "--json")
    assert run.returncode == 0, run.stderr
    (result,) = json.loads(run.stdout)["runs"]
    assert result["stored"] and result["budget"] == 12.0 and result["seconds"] > 0
    assert result["measured"] and result["summary"].startswith("tuned in")
    assert set(result["chosen"]) == {"threads", "n_batch", "flash_attn", "batched"}
