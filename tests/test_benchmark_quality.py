"""benchmarks/quality.py runs (a smoke run on the tiny model) and writes every figure."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_benchmarks import bench


def test_quality_benchmark(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "quality.json"
    run = bench("benchmarks/quality.py", "--model", str(tiny_gguf), "--presets", "default,dry",
                "--stories", "knight", "--turns", "1", "--threads", "1", "--json", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["random_weights"] is False and report["stories"] == ["knight"]
    rows = report["presets"]
    assert [r["preset"] for r in rows] == ["default", "dry"]
    for row in rows:
        assert {"distinct_1", "distinct_2", "distinct_3", "seq_rep_4", "sentence_loop_rate",
                "self_bleu_4", "action_uptake", "mean_reply_words",
                "rerolls_per_turn"} <= set(row)
        assert row["turns"] == 1 and isinstance(row["distinct_1"], float)
    assert "quality per preset" in run.stdout and "rerolls_per_turn" in run.stdout
    bad = bench("benchmarks/quality.py", "--model", str(tiny_gguf), "--presets", "wild")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --presets")
