"""benchmarks/memory.py runs (its smallest mode, on the tiny model) and writes every figure
with a sane type and range: CI checks that it runs and what it counts, not how fast."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.test_benchmarks import bench

HEADLINES = ("fact_recall_in_prompt", "recall_precision", "ttft_over_without_recall",
             "evaluated_over_new_tokens", "index_ms_per_turn_p95",
             "recall_query_ms_at_10k_turns", "autosave_ms_10k_over_10_turns")


def positive(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


def share(value: object) -> bool:
    return isinstance(value, float) and 0 <= value <= 1


def test_memory_benchmark_writes_every_figure(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    run = bench("benchmarks/memory.py", "--quick", "--model", str(tiny_gguf), "--turns", "500",
                "--exchanges", "4", "--autosave-rounds", "2", "--json", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    for key in HEADLINES:
        assert key in run.stdout, key
        assert positive(result[key]) or (key.startswith(("fact", "recall_p"))
                                         and share(result[key])), (key, result[key])
    # The scripted adventure: 20 facts planted in its first 50 turns, probed 550+ turns later.
    assert result["facts"] == 20 and result["last_fact_turn"] < 50
    assert result["story_turns"] >= 600 and result["index_turns"] == 500
    prompts = result["prompts"]
    assert prompts["probes"] == 40 and prompts["passages_at_probes"] >= 1
    # Counts, not times: recall must find what the script planted (the window alone: none).
    assert result["fact_recall_in_prompt"] == prompts["fact_in_prompt"] >= 0.95
    assert prompts["fact_in_prompt_without"] == 0
    assert result["recall_precision"] == prompts["precision"] >= 0.6
    assert 0 < prompts["evaluated_over_new_tokens"] <= 1.5
    assert 0 < prompts["evaluated_over_new_tokens_without"] < prompts["evaluated_over_new_tokens"]
    assert isinstance(prompts["misses"], list)
    model = result["model"]
    assert model["exchanges"] == 4 and model["probes"] == 2
    for key in ("ttft_with_recall_median_s", "ttft_without_recall_median_s",
                "ttft_over_without_recall", "ttft_over_without_recall_at_probes",
                "evaluated_over_new_tokens", "evaluated_over_new_tokens_without_recall"):
        assert positive(model[key]), key
    assert share(model["fact_in_prompt"]) and share(model["precision"])
    assert result["evaluated_over_new_tokens"] == model["evaluated_with_spare_over_new_tokens"]
    assert model["trims_with_recall"] >= 0 and model["evaluated_at_probes_median"] >= 0
    # The search engines on the long story (bm25s only when installed).
    for engine in ("fts5", "plain"):
        figures = result[engine]
        assert figures["hit_rate"] == 1.0, engine  # every planted fact found
        for key in ("build_s", "append_ms_p95", "query_ms_p95"):
            assert positive(figures[key]), (engine, key)
    fts5 = result["fts5"]
    assert fts5["file_mb"] > 0 and positive(fts5["recall_find_ms_p95"])
    assert positive(fts5["append_cpu_ms_p95"]) and positive(fts5["recall_find_cpu_ms_p95"])
    assert result["index_ms_per_turn_p95"] == fts5["append_ms_p95"]
    assert result["recall_query_ms_at_10k_turns"] == fts5["recall_find_ms_p50"]
    assert result["bm25s"] is None or result["bm25s"]["hit_rate"] == 1.0
    rows = result["autosave"]["rows"]
    assert [row["turns"] for row in rows] == [10, 500] and all(r["rounds"] == 2 for r in rows)
