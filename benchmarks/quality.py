"""Which sampling preset tells better stories on a model: ``bench --quality`` as a benchmark.

    python benchmarks/quality.py [--model FILE] [--presets A,B] [--stories A,B] [--turns N]
                                 [--threads N] [--json OUT]

Plays the bundled stories (or those named) for N turns with scripted actions at each preset,
three replies a turn (the shown one and the two a retry would show), and prints per preset
distinct-1/2/3, seq-rep-4, the sentence-loop rate, self-BLEU-4, action uptake, words per reply
and loop re-rolls per turn (``gpt2_adventure/story/quality``: what each one means). Without
--model it plays a GPT-2-124M-shaped Q8_0 file with random weights: the figures then only
show that the run works. The metrics and the games are the package's; this is a thin runner.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import THREADS, isolate, shaped_gguf  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a GGUF file (default: random 124M shape)")
    parser.add_argument("--presets", help="presets to compare, e.g. default,dry (default: all)")
    parser.add_argument("--stories", help="stories to play (default: every bundled one)")
    parser.add_argument("--turns", type=int, default=3, help="turns per story (default: 3)")
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    isolate()  # no player's config, tuning or saves

    from gpt2_adventure.cli.quality_report import pick_presets, pick_stories, split_names
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.loader import GAME_SEQUENCES
    from gpt2_adventure.errors import UserError
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.quality.play import CANDIDATES, run_quality

    paths = AppPaths.from_env()
    try:
        presets = pick_presets(split_names(args.presets, "--presets"))
        seeds = pick_stories(paths, split_names(args.stories, "--stories"))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    model = args.model or shaped_gguf("gpt2")
    backend = LlamaBackend(model, seed=0, threads=args.threads, sequences=GAME_SEQUENCES)
    try:
        results = run_quality(backend, seeds, presets, args.turns, candidates=CANDIDATES,
                              progress=lambda text: print(text, file=sys.stderr, flush=True))
    finally:
        backend.close()
    report = {"model": str(model), "random_weights": args.model is None,
              "stories": [s.id for s in seeds], "turns": args.turns, "candidates": CANDIDATES,
              "presets": [r.to_dict() for r in results]}
    keys = [k for k in report["presets"][0] if k not in ("preset", "games", "turns")]
    print(f"quality per preset ({len(seeds)} stories x {args.turns} turns, "
          f"{CANDIDATES} replies a turn)")
    print(f"{'':20}" + "".join(f"{r['preset']:>12}" for r in report["presets"]))
    for key in keys:
        cells = ["-" if r[key] is None else f"{r[key]:.3f}" for r in report["presets"]]
        print(f"{key:20}" + "".join(f"{c:>12}" for c in cells))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
