"""`gpt2-adventure saves ...`: list, show, export and delete saved games, and show the prompt
a save's next reply would get (`saves context`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from gpt2_adventure.cli.help_format import Group
from gpt2_adventure.cli.options import JsonOpt, ModelOpt
from gpt2_adventure.errors import UserError
from gpt2_adventure.units import count

if TYPE_CHECKING:
    from datetime import datetime

    from gpt2_adventure.config import Settings
    from gpt2_adventure.engine.backend import Backend
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.inspect import Seen
    from gpt2_adventure.story.model import StoryState
    from gpt2_adventure.story.saves.store import SaveStore

saves_app = typer.Typer(cls=Group, help="List, show, export and delete saved games; show what "
                                        "GPT-2 would see next.",
                        no_args_is_help=True)
# NAME of the commands that read a save (a named one, an autosave/<id> or a .json file)
SaveRef = Annotated[str, typer.Argument(help="Save name (see `saves list`) or a .json path.")]

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
    from gpt2_adventure.cli.confirm import can_ask

    return can_ask()


@saves_app.command("list")
def saves_list(as_json: JsonOpt = False
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
    from rich.text import Text

    from gpt2_adventure.cli.listing import Listing

    listing = Listing()
    table = listing.table("Saved games", "name")  # what --load takes
    table.add_column("title", ratio=1)
    for column in ("mode", "turns", "saved"):  # an autosave's name says it is one
        table.add_column(column, no_wrap=True)
    for info in infos:
        title = f"unreadable: {info.error}" if info.error else info.title
        turns = "" if info.error else str(info.turns)
        table.add_row(Text(printable(info.name)),
                      Text(printable(title), style="red" if info.error else ""),
                      Text(info.mode), turns, _when(info.saved_at))
        listing.add_line(info.name, title, info.mode, turns, _when(info.saved_at))
    listing.show()


@saves_app.command("show")
def saves_show(
    name: SaveRef,
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
        typer.echo(f"\n--- the last {len(shown)} of {count(len(entries), 'entry', 'entries')} ---")
    for entry in shown:
        prefix = {"action": "> ", "chat": f"{entry.speaker}: "}.get(entry.kind, "")
        typer.echo("\n" + printable(prefix + entry.text))


@saves_app.command("export")
def saves_export(
    name: SaveRef,
    fmt: Annotated[Optional[str], typer.Option(  # noqa: UP045 (typer needs Optional on 3.9)
        "--format", "-f", help="md, txt, kobold (KoboldAI story JSON), sillytavern (a chat "
                               "as a SillyTavern chat log) or lorebook (the world info as "
                               "SillyTavern World Info JSON); default: from --out's "
                               "extension: .txt, .json (kobold), .jsonl (sillytavern), else "
                               "md.")
    ] = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--out", "-o", help="File to write, in a folder that exists (default: print it).")
    ] = None,
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
        from gpt2_adventure.cli.out_path import checked_out

        out = checked_out(out, force)
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


@saves_app.command("delete")
def saves_delete(
    name: Annotated[str, typer.Argument(help="Save name (see `saves list`).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
                   ] = False,
) -> None:
    """Delete a save (asks first unless --yes)."""
    from gpt2_adventure.cli.confirm import confirm_delete
    from gpt2_adventure.safe_text import printable

    store = _store()
    path = store.find(name)
    confirm_delete(f"Delete the save {name!r} ({path})?", yes=yes, what=repr(name),
                   interactive=_interactive())
    deleted = store.delete(name)
    typer.echo(printable(f"deleted {deleted}"))


@saves_app.command("context")
def saves_context(
    name: SaveRef,
    action: Annotated[Optional[str], typer.Option(  # noqa: UP045 (typer needs Optional on 3.9)
        "--action", "-a", help="The prompt this action would get (a Do; start it with /say "
                               "or /story for those). It is not taken: the save stays as "
                               "it is.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print JSON: a list of {label, text, tokens, marks}.")] = False,
    model: ModelOpt = None,
) -> None:
    """What GPT-2 would see next: a save's prompt, part by part.

    The prompt of the save's next reply (or of --action's), in prompt order, each part
    under a label line with its token count, counted with the model's tokenizer; laid out
    afresh, as the game is when it opens without its stored model state. Nothing is sent
    or saved."""
    from gpt2_adventure.cli.config import load_cli_settings
    from gpt2_adventure.engine.loader import load_backend
    from gpt2_adventure.safe_text import printable

    paths, settings = load_cli_settings()
    state = _store().load(name)  # a bad name fails before the model loads
    backend = load_backend(paths, settings.model, settings.backend, model=model)
    try:
        seen = _seen(paths, settings, backend, state, action)
    finally:
        backend.close()
    if as_json:
        typer.echo(json.dumps([part.to_json() for part in seen.parts], indent=2,
                              ensure_ascii=False))
        return
    for line in seen.lines():
        typer.echo(printable(line))


def _seen(paths: AppPaths, settings: Settings, backend: Backend, state: StoryState,
          action: str | None) -> Seen:
    """The save's next prompt as an opened game would lay it out (its sampling and [memory]
    settings; recall from an index in memory, so that the game's own is left alone)."""
    from gpt2_adventure.launch import apply_memory, player_sampling, session_sampling
    from gpt2_adventure.story.context import ContextBuilder
    from gpt2_adventure.story.inspect import next_prompt
    from gpt2_adventure.story.recall.recall import Recall
    from gpt2_adventure.story.session import Session

    builder = ContextBuilder(backend.tokenize, backend.n_ctx, recall=Recall())
    apply_memory(builder, settings.memory)
    start = player_sampling(settings, paths, backend)
    session = Session(state, backend, session_sampling(start.sampling, state.sampling,
                                                       start.fixed), builder=builder)
    try:
        return next_prompt(session, action)
    finally:
        if builder.recall is not None:
            builder.recall.close()
