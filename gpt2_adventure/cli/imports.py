"""`gpt2-adventure import FILE... [--as seed|save]`: bring stories from AI Dungeon 2, Clover
Edition, KoboldAI and KoboldAI United. The importers are loaded inside the command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from gpt2_adventure.errors import UserError

if TYPE_CHECKING:
    from gpt2_adventure.story.importers import AsKind, ImportResult


def _say(line: str) -> None:
    from gpt2_adventure.safe_text import printable

    typer.echo(printable(line))


def _error(error: UserError) -> None:
    """The same shape as the CLI's own errors, so one bad file does not stop the rest."""
    from gpt2_adventure.safe_text import printable

    print(f"error: {printable(str(error))}", file=sys.stderr)
    if error.hint:
        print(f"hint: {printable(error.hint)}", file=sys.stderr)


def _report(result: ImportResult) -> None:
    _say(f"{result.source}: {result.format}")
    for note in result.notes:
        _say(f"note: {note}")
    for item in result.created:
        _say(f"created {item.kind} {item.name}: {item.path}")
    for item in result.skipped:
        _say(f"skipped {item.kind} {item.name}: it already exists ({item.path}); delete it to "
             "import it again")
    for part in result.dropped:
        _say(f"dropped: {part}")


def import_command(
    files: Annotated[list[Path], typer.Argument(
        help="Files to import: AI Dungeon 2 story_data.yaml or saves, Clover Edition saves or "
             "prompt .txt files, KoboldAI and KoboldAI United story .json files.",
        show_default=False)],
    as_: Annotated[Optional[str], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--as", metavar="seed|save",
        help="Make a story seed (how a game starts) or a saved game (to continue). Default: "
             "seeds from story_data.yaml and prompts, saves from saved games.")] = None,
) -> None:
    """Import stories from AI Dungeon 2, Clover Edition, KoboldAI and KoboldAI United.

    The format is told from each file's content. Prints what was created and where, and what
    could not be carried over. A file that cannot be imported is reported and the others are
    still imported; the exit code is then 2.
    """
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.importers import import_file

    kind: AsKind | None = None
    if as_ is not None:
        kinds: dict[str, AsKind] = {"seed": "seed", "save": "save"}
        if as_.strip().lower() not in kinds:
            raise UserError(f"--as should be seed or save, not {as_!r}", "--as")
        kind = kinds[as_.strip().lower()]
    paths = AppPaths.from_env()
    failed = 0
    for path in files:
        try:
            result = import_file(path, paths, kind)
        except UserError as error:
            failed += 1
            _error(error)
            continue
        _report(result)
    if failed:
        raise typer.Exit(UserError.exit_code)
