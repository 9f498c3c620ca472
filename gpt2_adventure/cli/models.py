"""`gpt2-adventure models ...`: the catalog, downloads, conversion and file inspection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from gpt2_adventure.cli.help_format import Group
from gpt2_adventure.cli.options import JsonOpt
from gpt2_adventure.errors import UserError

models_app = typer.Typer(cls=Group, help="Find, download, convert and inspect GPT-2 models.",
                         no_args_is_help=True)


def _size(n: int | None) -> str:
    from gpt2_adventure.units import size_text

    return size_text(n) if n else "-"


@models_app.command("list")
def models_list(as_json: JsonOpt = False
                ) -> None:
    """The catalog, and what is installed (models pulled from Hub repositories too)."""
    from gpt2_adventure.engine.models.catalog import DEFAULT_MODEL, catalog
    from gpt2_adventure.engine.models.store import installed
    from gpt2_adventure.paths import AppPaths

    paths = AppPaths.from_env()
    have = installed(paths)

    def files(name: str) -> list[dict[str, object]]:
        return [{"quant": m.quant, "path": str(m.path), "size": m.size}
                for m in have if m.name == name]

    rows: list[dict[str, object]] = []
    for entry in catalog():
        rows.append({
            "name": entry.name,
            "kind": "catalog",
            "parameters": entry.parameters,
            "default": entry.name == DEFAULT_MODEL,
            "quants": {q: entry.sizes.get(q) for q in entry.quants},  # installed file sizes
            "sizes_listed": sorted(entry.listed),
            # Made here from one download (requantized): its quant and size, else null.
            "source": ({"repo": entry.gguf_repo, "quant": entry.source_quant,
                        "size": entry.download_size()} if entry.source_quant else None),
            "preset": entry.preset,
            "installed": files(entry.name),
            "description": entry.description,
        })
    known = {entry.name for entry in catalog()}
    for name in dict.fromkeys(m.name for m in have if m.name not in known):
        rows.append({"name": name, "kind": "repo" if "/" in name else "folder",
                     "installed": files(name)})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.text import Text

    from gpt2_adventure.cli.listing import Listing
    from gpt2_adventure.safe_text import printable

    listing = Listing()
    table = listing.table("GPT-2 models", "name")  # what --model takes
    for column in ("params", "download sizes", "installed", "about"):
        table.add_column(column)
    for entry in catalog():
        sizes = ", ".join(f"{q} {'' if q in entry.listed else '~'}{_size(entry.sizes[q])}"
                          for q in entry.quants)
        if entry.source_quant:
            made = ", ".join(f"{q} ~{_size(entry.sizes[q])}" for q in entry.quants
                             if entry.made_locally(q))
            sizes = (f"{entry.source_quant} ~{_size(entry.download_size())}, "
                     f"requantized here to {made}")
        inst = ", ".join(f"{m.quant} ({_size(m.size)})" for m in have if m.name == entry.name)
        name = entry.name + (" (default)" if entry.name == DEFAULT_MODEL else "")
        params = f"{entry.parameters / 1e6:.0f}M"
        table.add_row(Text(name), params, Text(sizes), Text(inst or "-"), Text(entry.description))
        listing.add_line(entry.name, params, inst or "-", entry.description)
    others = [m for m in have if m.name not in known]
    if others:
        more = listing.table("Also installed (from Hugging Face repositories and folders)",
                             "name")
        for column in ("installed", "file"):
            more.add_column(column)
        for m in others:
            inst = f"{m.quant or '?'} ({_size(m.size)})"
            more.add_row(Text(printable(m.name)), Text(inst), Text(printable(str(m.path))))
            listing.add_line(m.name, "-", inst, str(m.path))
    listing.notes += [
        "~ marks an estimated size; the others are the repositories' listings",
        "pull one with: gpt2-adventure models pull NAME [--quant Q], "
        "or any GPT-2 GGUF repository: gpt2-adventure models pull OWNER/REPO[:QUANT]"]
    listing.show()


@models_app.command("pull")
def models_pull(
    spec: Annotated[str, typer.Argument(
        metavar="NAME|OWNER/REPO[:QUANT]",
        help="A catalog name (gpt2, aidungeon2, ...; see `models list`), or a Hugging Face "
             "repository holding a GPT-2 GGUF: OWNER/REPO, OWNER/REPO:QUANT, or "
             "OWNER/REPO:FILE.gguf to name one file.")],
    quant: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Quantization, e.g. Q8_0 (the default), Q6_K, Q4_K_M or F16. A repository "
             "without Q8_0 gives the first it has of Q8_0, Q6_K, Q5_K_M, Q4_K_M, F16, BF16, "
             "F32; others (Q5_K_S, IQ4_XS, Q4_0...) when asked for.")] = None,
    convert: Annotated[bool, typer.Option(
        "--convert",
        help="Download the repository's transformers checkpoint (for a catalog name, the "
             "model's original one) and convert it here to --quant: F32, F16, Q8_0 (the "
             "default), Q6_K or Q4_K_M. The checkpoint is deleted once converted.")] = False,
) -> None:
    """Download a model from the Hugging Face Hub into the cache (resumable)."""
    from gpt2_adventure.cli.transfer_bar import TransferBar
    from gpt2_adventure.engine.models.download import parse_spec, pull
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.safe_text import printable

    wanted = parse_spec(spec, quant, convert=convert)  # bad input fails before any output
    with TransferBar(f"pulling {wanted.name}") as bar:
        path = pull(AppPaths.from_env(), str(wanted), progress=bar.update, convert=convert,
                    report=bar.report)
    typer.echo(printable(f"installed {wanted.name}: {path}"))


@models_app.command("remove")
def models_remove(
    name: Annotated[str, typer.Argument(
        help="Installed model name: a catalog name or OWNER/REPO.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
                   ] = False,
) -> None:
    """Delete an installed model's files (asks first unless --yes)."""
    from gpt2_adventure.cli import confirm
    from gpt2_adventure.engine.models.store import installed, model_dir, remove
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.safe_text import printable

    paths = AppPaths.from_env()
    folder = model_dir(paths, name)
    if not (folder.is_dir() or folder.is_symlink()):
        raise UserError(f"model {name!r} is not installed", hint="see: gpt2-adventure models list")
    size = sum(m.size for m in installed(paths) if m.path.parent == folder)
    confirm.confirm_delete(f"Delete the model {name} ({folder}, {_size(size)})?", yes=yes,
                           what=f"the model {name!r}")
    removed = remove(paths, name)
    if not removed:
        raise UserError(f"model {name!r} is not installed", hint="see: gpt2-adventure models list")
    for path in removed:
        typer.echo(printable(f"removed {path}"))


@models_app.command("path")
def models_path(name: Annotated[str, typer.Argument(
        help="A catalog name or OWNER/REPO (either with :QUANT), or a file.")]) -> None:
    """Print the file a model name resolves to."""
    from gpt2_adventure.engine.models.store import resolve_model
    from gpt2_adventure.paths import AppPaths

    typer.echo(str(resolve_model(AppPaths.from_env(), name)))


@models_app.command("info")
def models_info(
    model: Annotated[str, typer.Argument(
        help="A .gguf file, or an installed model's name (catalog or OWNER/REPO).")],
    as_json: JsonOpt = False,
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
    out: Annotated[Path, typer.Option("--out", "-o", help="The .gguf file to write (in a "
                                                       "folder that exists).")],
    quant: Annotated[str, typer.Option(
        help="f32, f16, q8_0, q6_k or q4_k_m (a GGUF: f16, q8_0, q6_k or q4_k_m).")] = "q8_0",
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUT if it exists.")] = False,
) -> None:
    """Convert a GPT-2 checkpoint to GGUF, or requantize a GGUF, through llama.cpp."""
    from gpt2_adventure.cli.out_path import checked_out
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
    out = checked_out(out, force)
    from gpt2_adventure.safe_text import printable

    report = lambda msg: typer.echo(printable(msg), err=True)  # noqa: E731
    if quant not in ("f32", "f16") or from_gguf:
        from gpt2_adventure.engine.llama.logs import route_llama_logs

        route_llama_logs(AppPaths.from_env().log_file)  # the quantizer's log: not the terminal
    if from_gguf:
        typer.echo(f"wrote {requantize(folder, out, quant, progress=report)}")
        return
    if not folder.exists() and "/" in src and not src.startswith((".", "/", "~")):
        from gpt2_adventure.engine.models.download import fetch_checkpoint

        folder = fetch_checkpoint(AppPaths.from_env(), src, report=report)
    elif not folder.exists():
        raise UserError("checkpoint folder not found", folder)
    result = convert_checkpoint(folder, out, quant, progress=report)
    typer.echo(f"wrote {result}")
