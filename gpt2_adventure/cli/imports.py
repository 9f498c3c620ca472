"""`gpt2-adventure import FILE... [--as seed|save | --into SEED_OR_SAVE]`: bring stories from
AI Dungeon 2, Clover Edition, KoboldAI, KoboldAI United and NovelAI, character cards, and
lorebooks (world info) from SillyTavern, KoboldAI, NovelAI and character books into a seed or
a save. The importers are loaded
inside the command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from gpt2_adventure.errors import UserError

if TYPE_CHECKING:
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.importers import AsKind, ImportResult
    from gpt2_adventure.story.lorebooks.attach import Attached


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


def report_attached(attached: Attached) -> None:
    """What adding a lorebook did, in the shape of the other imports' reports."""
    from gpt2_adventure.story.importers.summary import counted

    book = attached.book
    _say(f"{book.source}: {book.format} ({counted(len(book.entries), 'entry', 'entries')})")
    for note in book.notes + attached.notes:
        _say(f"note: {note}")
    where = f"{attached.kind} {attached.name}: {attached.path}"
    if attached.copied and attached.added:
        _say(f"created {where} (a copy of the bundled seed, which stays as it was)")
    entries = "world entry" if attached.added == 1 else "world entries"
    _say(f"added {attached.added} {entries} to {where}")
    if attached.skipped:
        _say(f"skipped {attached.skipped} already there (the same keys and content)")
    for part in book.dropped:
        _say(f"dropped: {part}")


def _check_character(character: Path | None, into: str | None) -> None:
    if character is not None and into is not None:
        raise UserError("choose --character or --into, not both", "--character",
                        hint="--character goes with a SillyTavern chat (.jsonl)")


def _attach(files: list[Path], into: str, paths: AppPaths) -> int:
    from gpt2_adventure.story.lorebooks.attach import attach_file

    failed = 0
    for path in files:
        try:
            attached = attach_file(path, into, paths)
        except UserError as error:
            failed += 1
            _error(error)
            continue
        report_attached(attached)
    return failed


def import_command(
    files: Annotated[list[Path], typer.Argument(
        help="Files to import: AI Dungeon 2 story_data.yaml or saves, Clover Edition saves or "
             "prompt .txt files, KoboldAI and KoboldAI United story .json files, NovelAI .story "
             "and .scenario files, AI Dungeon scenario exports, SillyTavern chats .jsonl, "
             "characters (SillyTavern cards .json/.png, RisuAI .charx, text-generation-webui "
             ".yaml); with --into, lorebooks.",
        show_default=False)],
    as_: Annotated[Optional[str], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--as", metavar="seed|save",
        help="Make a story seed (how a game starts) or a saved game (to continue). Default: "
             "seeds from story_data.yaml and prompts, saves from saved games.")] = None,
    into: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--into", metavar="SEED_OR_SAVE",
        help="Add lorebooks (SillyTavern World Info, KoboldAI world info, V2/V3 character "
             "books, NovelAI .lorebook, .story or lorebook PNG, AI Dungeon story cards or "
             "world info, Agnai memory books) to this story seed or saved game: a name or a "
             "file. A bundled seed gets a copy in your stories folder.")
    ] = None,
    character: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--character", metavar="CARD",
        help="The character card of a SillyTavern chat (.png or .json); default: a card "
             "named like the chat's character beside the chat, if any.")] = None,
) -> None:
    """Import stories from AI Dungeon 2, Clover Edition, KoboldAI and KoboldAI United, and
    lorebooks.

    The format is told from each file's content. Prints what was created and where, and what
    could not be carried over. A file that cannot be imported is reported and the others are
    still imported; the exit code is then 2. A lorebook (world info only) is not a story: add
    it to one with --into.
    """
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.importers import import_file

    _check_character(character, into)
    if into is not None:
        if as_ is not None:
            raise UserError("choose --as or --into, not both", "--into",
                            hint="--into adds lorebooks to a story; --as imports a story")
        if _attach(files, into, AppPaths.from_env()):
            raise typer.Exit(UserError.exit_code)
        return
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
            result = import_file(path, paths, kind, character)
        except UserError as error:
            failed += 1
            _error(error)
            continue
        _report(result)
    if failed:
        raise typer.Exit(UserError.exit_code)
