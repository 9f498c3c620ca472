"""`gpt2-adventure saves ...`: list, show, export and delete saved games."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from gpt2_adventure.errors import UserError

if TYPE_CHECKING:
    from datetime import datetime

    from gpt2_adventure.story.saves.store import SaveStore

saves_app = typer.Typer(help="List, show, export and delete saved games.", no_args_is_help=True)

FORMATS = ("md", "txt", "kobold", "lorebook", "sillytavern")
SHOW_TURNS = 6


def _store() -> SaveStore:
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.saves.store import SaveStore

    return SaveStore(AppPaths.from_env())


def _when(when: datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "-"


def _interactive() -> bool:
    """Whether we may ask a question (a test replaces this)."""
    return sys.stdin is not None and sys.stdin.isatty()


@saves_app.command("list")
def saves_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
               ) -> None:
    """Saved games and autosaves, newest first."""
    store = _store()
    infos = store.list()
    if as_json:
        typer.echo(json.dumps([info.to_json() for info in infos], indent=2))
        return
    from gpt2_adventure.safe_text import printable

    if not infos:
        typer.echo(printable(f"no saves yet (they go in {store.saves_dir})"))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Saved games")
    for column in ("name", "title", "mode", "turns", "saved", "autosave"):
        table.add_column(column, overflow="fold")
    for info in infos:
        if info.error:
            title = Text(printable(f"unreadable: {info.error}"), style="red")
        else:
            title = Text(printable(info.title))
        table.add_row(Text(printable(info.name)), title, Text(info.mode),
                      "" if info.error else str(info.turns), _when(info.saved_at),
                      "yes" if info.autosave else "")
    Console().print(table)


@saves_app.command("show")
def saves_show(
    name: Annotated[str, typer.Argument(help="Save name (see `saves list`) or a .json path.")],
    turns: Annotated[int, typer.Option("--turns", "-n", min=0,
                                       help="How many of the last entries to show.")
                     ] = SHOW_TURNS,
) -> None:
    """A save's summary and the end of its story."""
    from gpt2_adventure.safe_text import printable
    from gpt2_adventure.story.export import transcript

    store = _store()
    path = store.locate(name)
    doc = store.load_document(path)
    state = doc.state
    lines = [
        f"title:    {state.title}",
        f"mode:     {state.mode}",
        f"turns:    {len(state.turns)}",
        f"saved:    {_when(doc.saved_at)} (gpt2-adventure {doc.app_version or '?'}, "
        f"save version {doc.version})",
        f"file:     {path}",
        f"game id:  {state.id}",
    ]
    lines += [f"model:    {state.model}"] if state.model else []
    lines += [f"story:    {state.seed_id}"] if state.seed_id else []
    for line in lines:
        typer.echo(printable(line))
    entries = transcript(state)
    shown = entries[-turns:] if turns else []
    if shown:
        typer.echo(f"\n--- the last {len(shown)} of {len(entries)} entries ---")
    for entry in shown:
        prefix = {"action": "> ", "chat": f"{entry.speaker}: "}.get(entry.kind, "")
        typer.echo("\n" + printable(prefix + entry.text))


@saves_app.command("export")
def saves_export(
    name: Annotated[str, typer.Argument(help="Save name (see `saves list`) or a .json path.")],
    fmt: Annotated[Optional[str], typer.Option(  # noqa: UP045 (typer needs Optional on 3.9)
        "--format", "-f", help="md, txt, kobold (KoboldAI story JSON), sillytavern (a chat "
                               "as a SillyTavern chat log) or lorebook (the world info as "
                               "SillyTavern World Info JSON); default: from --out's "
                               "extension: .txt, .json (kobold), .jsonl (sillytavern), else "
                               "md.")
    ] = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--out", "-o", help="File to write (default: print it).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")
                     ] = False,
) -> None:
    """Export a save's story as a Markdown or plain-text transcript, or as a KoboldAI story
    (KoboldAI, KoboldAI Lite and KoboldCpp load it); or its world info as a SillyTavern
    World Info file (a lorebook)."""
    from gpt2_adventure.safe_text import printable

    if fmt is None:
        suffix = out.suffix.lower() if out is not None else ""
        fmt = {".txt": "txt", ".json": "kobold", ".jsonl": "sillytavern"}.get(suffix, "md")
    fmt = fmt.lower().lstrip(".")
    fmt = "kobold" if fmt in ("json", "koboldai") else fmt
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r} (use md, txt, kobold, sillytavern or "
                        "lorebook)",
                        "--format")
    if out is not None:  # check before the (possibly slow) load
        _check_out(out, force)
    state = _store().load(name)
    if fmt == "lorebook":
        from gpt2_adventure.story.lorebooks.sillytavern import export_world_info

        text = export_world_info(state.world, state.title)
        if not state.world:
            print("note: this game has no world info; the lorebook is empty", file=sys.stderr)
    elif fmt in ("kobold", "sillytavern"):
        from gpt2_adventure.story.importers.kobold import export_kobold
        from gpt2_adventure.story.importers.sillytavern_chat import export_chat

        text, notes = (export_kobold if fmt == "kobold" else export_chat)(state)
        for note in notes:  # on stderr: stdout may be the JSON itself
            print(printable(f"dropped: {note}"), file=sys.stderr)
    else:
        from gpt2_adventure.story.export import export_markdown, export_text

        text = export_markdown(state) if fmt == "md" else export_text(state)
    if out is None:
        typer.echo(text, nl=False)
        return
    from gpt2_adventure.fileio import atomic_write

    try:
        atomic_write(out, text.encode("utf-8", "replace"), mode=0o644)
    except OSError as error:
        raise UserError(f"cannot write the export: {error.strerror or error}", out) from None
    typer.echo(printable(f"wrote {out}"))


def _check_out(out: Path, force: bool) -> None:
    if out.is_dir():
        raise UserError("--out is a folder; give a file name", out)
    if out.exists() and not force:
        raise UserError("file already exists", out, hint="pass --force to overwrite it")
    if not out.parent.is_dir():
        raise UserError("the folder for --out does not exist", out.parent)


@saves_app.command("delete")
def saves_delete(
    name: Annotated[str, typer.Argument(help="Save name (see `saves list`).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
                   ] = False,
) -> None:
    """Delete a save (asks first unless --yes)."""
    from gpt2_adventure.safe_text import printable

    store = _store()
    path = store.find(name)
    if not yes:
        if not _interactive():
            raise UserError(f"not deleting {name!r} without confirmation",
                            hint="pass --yes to delete without being asked")
        if not typer.confirm(printable(f"Delete the save {name!r} ({path})?")):
            raise typer.Exit(1)
    deleted = store.delete(name)
    typer.echo(printable(f"deleted {deleted}"))
