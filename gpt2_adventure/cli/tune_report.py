"""`bench --tune` and the speed settings rows of `bench`: what was measured, what was chosen,
and where each setting in use comes from."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gpt2_adventure.units import count

if TYPE_CHECKING:
    from gpt2_adventure.config import Settings
    from gpt2_adventure.paths import AppPaths

LABELS = {"flash_attn": "flash attention", "threads": "threads",
          "n_batch": "prompt batch (n_batch)", "batched": "replies written ahead"}


def shown(name: str, value: Any) -> str:
    if name == "flash_attn":
        return "on" if value else "off"
    if name == "batched":
        return "batched" if value else "one after another"
    return str(value)


def speed_rows(settings: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(label, "value (player|tuned|default)") per speed setting of a bench result."""
    return [(LABELS[name], f"{shown(name, row['value'])} ({row['from']})")
            for name, row in settings.items()]


def tune_and_report(paths: AppPaths, settings: Settings, *, model: str | None,
                    prompt_tokens: int | None, gen_tokens: int | None, repeats: int | None,
                    as_json: bool) -> None:
    from dataclasses import replace

    from gpt2_adventure.engine.bench import run_tune, speed_report
    from gpt2_adventure.engine.tune import WIDE_SPREAD, TuneSizes

    sizes = TuneSizes()
    sizes = replace(sizes, prompt_tokens=prompt_tokens or sizes.prompt_tokens,
                    write_tokens=gen_tokens or sizes.write_tokens,
                    ahead_tokens=gen_tokens or sizes.ahead_tokens,
                    rounds=repeats or sizes.rounds)
    tuning, speed = run_tune(paths, settings.model, model=model, sizes=sizes,
                             progress=lambda text: print(text, file=sys.stderr, flush=True))
    if as_json:
        typer.echo(json.dumps({"path": tuning.model_path, "tuned": tuning.settings(),
                               "figures": tuning.figures, "stored": str(paths.tuning_file),
                               "settings": speed_report(speed)}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    figures = tuning.figures
    table = Table(title=f"{Path(tuning.model_path).name} on this machine: measured in "
                        f"{figures['seconds']:.0f} s ("
                        + (f"medians of {count(sizes.rounds, 'round')})" if sizes.rounds > 1
                           else "1 round)"))
    table.add_column("setting")
    table.add_column("chosen")
    table.add_column("measured")
    for name in ("flash_attn", "threads", "n_batch", "batched"):
        table.add_row(LABELS[name], shown(name, getattr(tuning, name)),
                      _measured(name, figures[name], sizes.replies_ahead))
    console = Console()
    console.print(table)
    spread = max(row.get("spread", 0.0) for name in LABELS for row in figures[name])
    if spread > WIDE_SPREAD:
        console.print(f"note: rounds differed by up to {spread:.0%}: the machine was busy; "
                      f"for figures you can trust, run it again when it is idle")
    console.print(f"kept in {paths.tuning_file}: the game uses these for this model file")
    for name in speed.sources:
        if speed.source(name) == "player":
            console.print(f"your setting wins: {LABELS[name]} {shown(name, getattr(speed, name))}"
                          f" (tuned: {shown(name, getattr(tuning, name))}); leave it unset in "
                          f"config.toml [model] to use the tuned one")


def _measured(name: str, rows: list[dict[str, Any]], replies: int) -> str:
    """One measure's figures, e.g. "writing tok/s: off 55.1, on 53.0 (on/off 0.96)"."""
    def each(key: str, digits: int) -> str:
        return ", ".join(f"{shown(name, r['value'])} {r[key]:.{digits}f}" for r in rows)

    if name == "batched":
        one, batched = rows[0]["seconds"], rows[1]["seconds"]
        return (f"{count(replies, 'reply', 'replies')}: one after another {one:.2f} s, "
                f"batched {batched:.2f} s "
                f"(sequential/batched {one / batched:.2f})")
    if name == "n_batch":
        return f"prompt tok/s: {each('prompt_tok_s', 0)}"
    text = f"writing tok/s: {each('write_tok_s', 1)}; prompt tok/s: {each('prompt_tok_s', 0)}"
    if name == "flash_attn":
        text += f" (writing on/off {rows[1]['write_tok_s'] / rows[0]['write_tok_s']:.2f})"
    return text
