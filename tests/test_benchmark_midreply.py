"""benchmarks/midreply.py runs (a smoke run on the tiny model) and writes every figure."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_benchmarks import bench


def test_midreply_benchmark(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "midreply.json"
    run = bench("benchmarks/midreply.py", "--model", str(tiny_gguf), "--rounds", "1",
                "--prompt-tokens", "150", "--json", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text())
    measured = [row for row in report["positions"].values() if row is not None]
    assert measured, report  # the tiny model's reply gave at least one key
    for row in measured:
        # Only the entry and the reply so far were evaluated again ...
        assert row["evaluated"] == report["entry_tokens"] + row["reply_tokens_so_far"]
        assert row["restart_ms"] > 0 and row["reply_ms_with"] > 0
        # ... and the next turn evaluates only its action.
        assert row["next_turn_evaluated"] <= row["next_turn_action_tokens"] + 2
