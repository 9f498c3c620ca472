"""`gpt2-adventure models ...`: the catalog, downloads, conversion and file inspection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from gpt2_adventure.errors import UserError

models_app = typer.Typer(help="Find, download, convert and inspect GPT-2 models.",
                         no_args_is_help=True)


def _size(n: int | None) -> str:
    from gpt2_adventure.units import size_text

    return size_text(n) if n else "-"


@models_app.command("list")
def models_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
                ) -> None:
    """The catalog and what is installed."""
    from gpt2_adventure.engine.models.catalog import DEFAULT_MODEL, catalog
    from gpt2_adventure.engine.models.store import installed
    from gpt2_adventure.paths import AppPaths

    paths = AppPaths.from_env()
    have = installed(paths)
    rows = []
    for entry in catalog():
        mine = [m for m in have if m.name == entry.name]
        rows.append({
            "name": entry.name,
            "parameters": entry.parameters,
            "default": entry.name == DEFAULT_MODEL,
            "quants": {q: entry.sizes.get(q) for q in entry.files},
            "sizes_listed": sorted(entry.listed),
            "installed": [{"quant": m.quant, "path": str(m.path), "size": m.size} for m in mine],
            "description": entry.description,
        })
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="GPT-2 models")
    for column in ("name", "params", "download sizes", "installed", "about"):
        table.add_column(column)
    for row in rows:
        sizes = ", ".join(f"{q} {'' if q in row['sizes_listed'] else '~'}{_size(s)}"
                          for q, s in row["quants"].items())
        inst = ", ".join(f"{m['quant']} ({_size(m['size'])})" for m in row["installed"]) or "-"
        name = row["name"] + (" (default)" if row["default"] else "")
        table.add_row(Text(name), f"{row['parameters'] / 1e6:.0f}M", Text(sizes), Text(inst),
                      Text(row["description"]))
    Console().print(table)
    others = [m for m in have if m.name not in {r["name"] for r in rows}]
    for m in others:
        Console().print(Text(f"also installed: {m.name} {m.path}"))
    typer.echo("~ marks an estimated size; the others are the repositories' listings")
    typer.echo("pull one with: gpt2-adventure models pull NAME [--quant Q]")


@models_app.command("pull")
def models_pull(
    name: Annotated[str, typer.Argument(help="Catalog name, e.g. gpt2.")],
    quant: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Quantization, e.g. Q8_0 (default) or Q4_K_M.")] = None,
) -> None:
    """Download a model from the Hugging Face Hub into the cache (resumable)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from gpt2_adventure.engine.models.download import pull
    from gpt2_adventure.paths import AppPaths

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn()) as progress:
        task = progress.add_task(f"pulling {name}", total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)

        path = pull(AppPaths.from_env(), name, quant, progress=update)
    typer.echo(f"installed {name}: {path}")


@models_app.command("remove")
def models_remove(name: Annotated[str, typer.Argument(help="Installed model name.")]) -> None:
    """Delete an installed model's files."""
    from gpt2_adventure.engine.models.store import remove
    from gpt2_adventure.paths import AppPaths

    removed = remove(AppPaths.from_env(), name)
    if not removed:
        raise UserError(f"model {name!r} is not installed", hint="see: gpt2-adventure models list")
    for path in removed:
        typer.echo(f"removed {path}")


@models_app.command("path")
def models_path(name: Annotated[str, typer.Argument(help="Catalog name or file.")]) -> None:
    """Print the file a model name resolves to."""
    from gpt2_adventure.engine.models.store import resolve_model
    from gpt2_adventure.paths import AppPaths

    typer.echo(str(resolve_model(AppPaths.from_env(), name)))


@models_app.command("info")
def models_info(
    model: Annotated[str, typer.Argument(help="A .gguf file or an installed model's name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Name, architecture, parameters, quantization, context, vocabulary and size of a model."""
    from gpt2_adventure.engine.models.gguf_info import read_model_info
    from gpt2_adventure.engine.models.store import resolve_model
    from gpt2_adventure.paths import AppPaths

    info = read_model_info(resolve_model(AppPaths.from_env(), model))
    data = info.to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False)
    table.add_column("field")
    table.add_column("value")
    shown = {**data, "parameters": f"{info.parameters:,}", "file_size": _size(info.file_size)}
    for key, value in shown.items():
        table.add_row(key.replace("_", " "), Text(str(value)))
    Console().print(table)


@models_app.command("convert")
def models_convert(
    src: Annotated[str, typer.Argument(
        help="A GGUF file to requantize, a Hugging Face GPT-2 checkpoint folder, "
             "or a repo id to download.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The .gguf file to write.")],
    quant: Annotated[str, typer.Option(
        help="f32, f16, q8_0, q6_k or q4_k_m (a GGUF: f16, q8_0, q6_k or q4_k_m).")] = "q8_0",
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUT if it exists.")] = False,
) -> None:
    """Convert a GPT-2 checkpoint to GGUF, or requantize a GGUF, through llama.cpp."""
    from gpt2_adventure.engine.models.convert import (
        QUANT_TYPES,
        REQUANT_TYPES,
        convert_checkpoint,
        requantize,
    )
    from gpt2_adventure.paths import AppPaths

    quant = quant.lower()
    folder = Path(src).expanduser()
    from_gguf = folder.suffix.lower() == ".gguf"
    allowed = REQUANT_TYPES if from_gguf else QUANT_TYPES
    if quant not in allowed:
        raise UserError(f"unknown quantization {quant!r}; choose {', '.join(allowed)}",
                        "--quant")
    if out.exists() and not force:
        raise UserError("the output file exists; pass --force to overwrite it", out)
    report = lambda msg: typer.echo(msg, err=True)  # noqa: E731
    if from_gguf:
        typer.echo(f"wrote {requantize(folder, out, quant, progress=report)}")
        return
    if not folder.exists() and "/" in src and not src.startswith((".", "/", "~")):
        from gpt2_adventure.engine.models.download import fetch_checkpoint

        typer.echo(f"downloading {src} ...", err=True)
        folder = fetch_checkpoint(AppPaths.from_env(), src)
    elif not folder.exists():
        raise UserError("checkpoint folder not found", folder)
    result = convert_checkpoint(folder, out, quant, progress=report)
    typer.echo(f"wrote {result}")
