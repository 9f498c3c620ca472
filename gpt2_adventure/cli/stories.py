"""`gpt2-adventure stories ...`: list, show, validate and create story seeds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from gpt2_adventure.cli.help_format import Group
from gpt2_adventure.cli.options import JsonOpt
from gpt2_adventure.errors import UserError

if TYPE_CHECKING:
    from rich.text import Text

    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.model import Seed

stories_app = typer.Typer(cls=Group, help="List, show, check and create story seeds.",
                          no_args_is_help=True)

_MODE_ORDER = {"adventure": 0, "story": 1, "chat": 2}


def _row(seed: Seed, paths: AppPaths) -> dict[str, Any]:
    from gpt2_adventure.story.seeds.library import seed_origin

    return {"id": seed.id, "title": seed.title, "mode": seed.mode, "genre": seed.genre,
            "description": seed.description, "origin": seed_origin(seed, paths),
            "path": str(seed.source) if seed.source else None}


def _warn(message: str) -> None:
    from gpt2_adventure.safe_text import printable

    print(printable(message), file=sys.stderr)


@stories_app.command("list")
def stories_list(as_json: JsonOpt = False
                 ) -> None:
    """The bundled story seeds and your own."""
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.seeds.library import list_seeds

    paths = AppPaths.from_env()
    seeds, errors = list_seeds(paths)
    seeds.sort(key=lambda s: (_MODE_ORDER.get(s.mode, 9), s.id))
    rows = [_row(seed, paths) for seed in seeds]
    for error in errors:
        _warn(f"skipped a broken seed: {error}")
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.text import Text

    from gpt2_adventure.cli.listing import Listing
    from gpt2_adventure.safe_text import printable

    listing = Listing()
    table = listing.table("Story seeds", "id")  # what --story takes
    table.add_column("mode", no_wrap=True)
    table.add_column("genre")
    table.add_column("story", ratio=1)
    table.add_column("from", no_wrap=True)
    for row in rows:
        story = Text(printable(row["title"]), style="bold")
        if row["description"]:
            story.append("\n" + printable(row["description"]), style="")
        table.add_row(Text(printable(row["id"])), row["mode"], Text(printable(row["genre"])),
                      story, row["origin"])
        listing.add_line(row["id"], row["mode"], row["genre"], row["title"], row["origin"])
    listing.notes.append(f"your own seeds go in {paths.stories_dir} (start one with: "
                         "gpt2-adventure stories new NAME)")
    listing.show()


def _section(heading: str, body: str) -> list[Text]:
    """A bold heading, the text as written (escaped, never markup) and a blank line."""
    from rich.text import Text

    from gpt2_adventure.safe_text import printable

    if not body:
        return []
    return [Text(printable(heading), style="bold"), Text(printable(body)), Text("")]


@stories_app.command("show")
def stories_show(
    name: Annotated[str, typer.Argument(help="A seed's id (see `stories list`) or a file.")],
    as_json: JsonOpt = False,
) -> None:
    """Everything in a seed; openings are shown as written, placeholders unfilled."""
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.seeds.library import find_seed

    paths = AppPaths.from_env()
    seed = find_seed(paths, name)
    if as_json:
        typer.echo(json.dumps({**seed.to_dict(), **_row(seed, paths)}, indent=2))
        return
    from rich.console import Console

    row = _row(seed, paths)
    out = _section(seed.title, f"id {seed.id} · {seed.mode} · {seed.genre or 'no genre'} · "
                   f"{row['origin']}: {row['path']}\n{seed.description}")
    for p in seed.placeholders:
        out += _section(f"placeholder {{{p.name}}}",
                        f"{p.question}" + (f" (default: {p.default})" if p.default else ""))
    for index, opening in enumerate(seed.openings, start=1):
        out += _section(f"opening {index} of {len(seed.openings)}", opening)
    out += _section("memory", seed.memory) + _section("author's note", seed.authors_note)
    for index, entry in enumerate(seed.world, start=1):
        keys = "always" if entry.always else ", ".join(entry.keys)
        if entry.secondary_keys:
            keys += " + one of: " + ", ".join(entry.secondary_keys)
        note = f"\n({entry.comment})" if entry.comment else ""
        out += _section(f"world info {index}: {keys}", entry.content + note)
    if seed.sampling:
        out += _section("sampling", "\n".join(f"{k} = {v!r}" for k, v in seed.sampling.items()))
    if seed.chat:
        chat = seed.chat
        out += _section("chat", f"character: {chat.character}\nplayer: {chat.player}"
                        + (f"\nothers: {', '.join(chat.others)}" if chat.others else ""))
        out += _section("persona", chat.persona) + _section("greeting", chat.greeting)
        for index, other in enumerate(chat.alternate_greetings, start=1):
            out += _section(f"alternate greeting {index} (an alternative: /alt)", other)
        out += _section("example dialogue", chat.example_dialogue)
    console = Console()
    for text in out[:-1]:
        console.print(text)


@stories_app.command("validate")
def stories_validate(
    files: Annotated[Optional[list[Path]], typer.Argument(  # noqa: UP045
        help="Seed files or folders of them (default: every bundled seed and your own).",
        show_default=False)] = None,
) -> None:
    """Check seed files: `ok FILE` for each good one, a file:line error for each bad one."""
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.safe_text import printable
    from gpt2_adventure.story.seeds.library import SeedError, load_seed, seed_files

    targets: list[Path] = []
    for item in files or seed_files(AppPaths.from_env()):
        targets += sorted(item.glob("*.toml")) if item.is_dir() else [item]
    if not targets:
        raise UserError("no seed files to check",
                        ", ".join(str(f) for f in files) if files else None)
    failed = 0
    for target in targets:
        try:
            load_seed(target)
        except SeedError as error:
            failed += 1
            print(f"error: {printable(str(error))}", file=sys.stderr)
        else:
            typer.echo(f"ok {printable(str(target))}")
    if failed:
        raise typer.Exit(2)


ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Use a bundled story's name: yours then replaces that story.")]


def _warn_if_shadowing(path: Path) -> None:
    from gpt2_adventure.story.seeds.library import bundled_seed_named

    if bundled_seed_named(path.stem) is not None:
        _warn(f"warning: your {path.stem!r} now replaces the bundled story of that name "
              f"(delete {path} to play the bundled one again)")


@stories_app.command("new")
def stories_new(
    name: Annotated[str, typer.Argument(help="A file name for the new seed, e.g. my-story.")],
    copy_of: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--from", help="Start from a copy of this seed (an id or a file) instead of the "
        "commented template.")] = None,
    force: ForceOpt = False,
) -> None:
    """Write a commented seed template (or a copy of a seed) into your stories folder."""
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.safe_text import printable
    from gpt2_adventure.story.seeds.library import find_seed, write_template

    paths = AppPaths.from_env()
    text = None
    if copy_of is not None:
        source = find_seed(paths, copy_of).source
        text = source.read_text(encoding="utf-8-sig") if source else None
    path = write_template(paths, name, text, shadow=force)
    _warn_if_shadowing(path)
    typer.echo(printable(str(path)))
    typer.echo(f"edit it, then check it with: gpt2-adventure stories validate "
               f"{printable(str(path))}", err=True)


@stories_app.command("import-card")
def stories_import_card(
    card: Annotated[Path, typer.Argument(help="A character card: .json or .png (V1, V2, V3).")],
    name: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="File name for the new chat seed (default: from the character's name).")] = None,
    lorebook: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--lorebook", help="Add a lorebook's world info too: SillyTavern World Info, "
                           "KoboldAI world info or a V2/V3 character book (.json).")] = None,
    force: ForceOpt = False,
) -> None:
    """Turn a SillyTavern/TavernAI character card into a chat seed in your stories folder."""
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.safe_text import printable
    from gpt2_adventure.story.cards.files import load_character_report
    from gpt2_adventure.story.seeds.library import (
        MAX_SEED_BYTES,
        parse_seed,
        to_toml,
        write_template,
    )
    from gpt2_adventure.units import size_text

    seed, notes = load_character_report(card)
    attached = None
    if lorebook is not None:
        from gpt2_adventure.story.cards.to_seed import LINKED_LOREBOOK
        from gpt2_adventure.story.lorebooks.attach import seed_with_lorebook

        seed, attached = seed_with_lorebook(seed, lorebook)
        notes = [n for n in notes if not n.startswith(LINKED_LOREBOOK)]  # given: no nagging
    text = to_toml(seed)
    if len(text.encode("utf-8")) > MAX_SEED_BYTES:
        raise UserError("the card is too large for a story seed "
                        f"(over {size_text(MAX_SEED_BYTES)} of text)", card)
    stem = name or seed.id
    parse_seed(text, stem, where=card)  # refuse before writing anything
    path = write_template(AppPaths.from_env(), stem, text, shadow=force)
    _warn_if_shadowing(path)
    typer.echo(f"created chat seed {printable(stem)}: {printable(str(path))}")
    for note in notes:
        typer.echo(f"dropped: {printable(note)}")
    if attached is not None:
        book = attached.book
        for note in book.notes:
            typer.echo(printable(f"note: {book.source}: {note}"))
        typer.echo(printable(f"added {attached.added} world entries from {book.source} "
                             f"({book.format})"
                             + (f"; skipped {attached.skipped} already in the card"
                                if attached.skipped else "")))
        for part in book.dropped:
            typer.echo(f"dropped: {printable(part)}")
