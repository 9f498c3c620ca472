"""How long tuning on first use takes, on a GPT-2-shaped model (the bound: 15 s for 124M).

    python benchmarks/first_tune.py [--shape gpt2|gpt2-xl|...] [--model FILE] [--runs 1]
                                    [--json]

Each run measures with the plan the game uses for that model's size (engine/first_use.py)
in a fresh cache folder, as the first game on a fresh install does, and reports its wall
time, each measure's time, what it chose and what the budget left out. The machine's load
average is reported too: on a busy machine some settings crawl, and the budget then cuts
measures short rather than running long.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_once(model: Path) -> dict[str, Any]:
    from gpt2_adventure.engine.first_use import tune_first_use
    from gpt2_adventure.engine.settings import ModelSettings
    from gpt2_adventure.paths import AppPaths

    with tempfile.TemporaryDirectory() as folder:
        os.environ["GPT2_ADVENTURE_CACHE_DIR"] = str(Path(folder) / "cache")
        os.environ["GPT2_ADVENTURE_DATA_DIR"] = str(Path(folder) / "data")
        os.environ["GPT2_ADVENTURE_CONFIG_DIR"] = str(Path(folder) / "config")
        paths = AppPaths.from_env()
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        started = time.perf_counter()
        result = tune_first_use(paths, ModelSettings(), model)
        seconds = time.perf_counter() - started
        if result.tuning is None:
            raise SystemExit(f"tuning did not finish: {result.summary()}")
        tuning = result.tuning
        return {"seconds": round(seconds, 2), "load_average": load,
                "budget": tuning.figures["sizes"]["budget_seconds"],
                "measure_seconds": {k: round(v, 2)
                                    for k, v in tuning.figures["measure_seconds"].items()},
                "skipped": tuning.figures["skipped"], "chosen": tuning.settings(),
                "measured": list(tuning.measured), "summary": result.summary(),
                "stored": paths.tuning_file.exists()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="gpt2")
    parser.add_argument("--model", type=Path, help="a GGUF file instead of a shaped one")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.model is None:
        from benchmarks.common import shaped_gguf

        args.model = shaped_gguf(args.shape)
    runs = [run_once(args.model) for _ in range(args.runs)]
    if args.json:
        print(json.dumps({"model": str(args.model), "runs": runs}, indent=2))
        return
    for run in runs:
        print(f"{run['seconds']:.1f} s (budget {run['budget']} s, load average "
              f"{run['load_average']}): {run['summary']}")
        print(f"  per measure: {run['measure_seconds']}")


if __name__ == "__main__":
    main()
