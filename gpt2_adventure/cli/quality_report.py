"""`bench --quality`: scripted games at each sampling preset, and the figures that tell a
player which preset tells better stories on their model (``story/quality``)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from gpt2_adventure.errors import UserError
from gpt2_adventure.units import count

if TYPE_CHECKING:
    from gpt2_adventure.config import Settings
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.model import Seed

# (key, row heading, format) in the order the table shows them; "↓"/"↑": which way is better.
COLUMNS = (
    ("distinct_1", "distinct-1 ↑", "{:.3f}"), ("distinct_2", "distinct-2 ↑", "{:.3f}"),
    ("distinct_3", "distinct-3 ↑", "{:.3f}"), ("seq_rep_4", "seq-rep-4 ↓", "{:.3f}"),
    ("sentence_loop_rate", "sentence loops ↓", "{:.1%}"),
    ("self_bleu_4", "self-BLEU-4 ↓", "{:.3f}"), ("action_uptake", "action uptake ↑", "{:.0%}"),
    ("mean_reply_words", "words per reply", "{:.1f}"),
    ("rerolls_per_turn", "re-rolls per turn ↓", "{:.2f}"),
)


def split_names(text: str | None, flag: str) -> list[str] | None:
    """``A,B`` as names (None when the flag is not given); an empty list is refused."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UserError(f"{flag} names nothing; give names separated by commas", "command line")
    return names


def pick_presets(names: list[str] | None) -> dict[str, Any]:
    from gpt2_adventure.engine.sampling import PRESETS, preset

    if names is None:
        return dict(PRESETS)
    try:
        return {name: preset(name) for name in dict.fromkeys(names)}
    except ValueError as exc:
        raise UserError(f"--presets: {exc}", "command line") from None


def pick_stories(paths: AppPaths, names: list[str] | None) -> list[Seed]:
    """The named stories, or every bundled one."""
    from gpt2_adventure.story.seeds.library import find_seed, list_seeds, seed_origin

    if names is not None:
        return [find_seed(paths, name) for name in dict.fromkeys(names)]
    seeds, _errors = list_seeds(paths)
    return [s for s in seeds if seed_origin(s, paths) == "bundled"]


def quality_and_report(paths: AppPaths, settings: Settings, *, model: str | None,
                       threads: int | None, presets: str | None, stories: str | None,
                       turns: int, as_json: bool) -> None:
    from gpt2_adventure.engine.loader import GAME_SEQUENCES, load_backend
    from gpt2_adventure.story.quality.play import CANDIDATES, run_quality

    chosen = pick_presets(split_names(presets, "--presets"))
    seeds = pick_stories(paths, split_names(stories, "--stories"))
    seed = settings.model.seed if settings.model.seed is not None else 0
    backend = load_backend(paths, settings.model, settings.backend, model=model,
                           threads=threads, seed=seed, sequences=GAME_SEQUENCES)
    try:
        results = run_quality(backend, seeds, chosen, turns, candidates=CANDIDATES, seed=seed,
                              progress=lambda text: print(text, file=sys.stderr, flush=True))
    finally:
        backend.close()
    rows = [r.to_dict() for r in results]
    report = {"model": backend.name, "stories": [s.id for s in seeds], "turns": turns,
              "candidates": CANDIDATES, "seed": seed, "presets": rows}
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    replies = count(CANDIDATES, "reply", "replies")
    table = Table(title=f"{report['model']}: {count(len(seeds), 'story', 'stories')} x "
                        f"{count(turns, 'turn')} per preset, {replies} a turn")
    table.add_column("measure")
    for row in rows:
        table.add_column(row["preset"], justify="right")
    for key, heading, fmt in COLUMNS:
        table.add_row(heading, *("-" if row[key] is None else fmt.format(row[key])
                                 for row in rows))
    console = Console()
    console.print(table)
    console.print("↑ higher is better, ↓ lower; human text repeats ~0.02% of its sentences. "
                  "With random weights these figures mean nothing.")
