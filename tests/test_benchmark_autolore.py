"""benchmarks/autolore.py runs (a smoke run on small stories) and writes every figure."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_benchmarks import bench


def test_autolore_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "autolore.json"
    run = bench("benchmarks/autolore.py", "--turns", "10", "200", "--json", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    rows = json.loads(out.read_text())["autolore"]
    assert [row["turns"] for row in rows] == [11, 201]
    for row in rows:
        assert row["entries"] == 40  # every character, and not the guard
        assert row["update_ms_p50"] > 0 and row["update_ms_p95"] >= row["update_ms_p50"]
        assert row["open_ms"] >= 0
