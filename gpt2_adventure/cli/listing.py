"""How `saves list`, `stories list` and `models list` print: the names they show are what
`--load`, `--story` and `--model` take, so a name is never wrapped or cut.

On a terminal wide enough for the whole table (its name columns are ``no_wrap``), the table;
otherwise — piped, or a terminal too narrow — plain lines, one entry a line, its fields
separated by tabs, the name first (``cut -f1`` gives the names). Notes that are not entries go
to stdout beside a table, to stderr beside lines.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

# Measure a table without the terminal's width limit (rich clamps a measurement to it).
_UNLIMITED = 100_000


def console() -> Console:
    from rich.console import Console

    return Console()


class Listing:
    """One list command's output: a table on a terminal that fits it, plain lines otherwise.

    ``tables`` are rendered only when every one fits; ``lines`` are their rows as fields.
    """

    def __init__(self) -> None:
        self.tables: list[Table] = []
        self.lines: list[Sequence[str]] = []
        self.notes: list[str] = []

    def table(self, title: str, name: str) -> Table:
        """A new table of this listing, its first column ``name``: what the command's
        option takes, so never wrapped."""
        from rich.table import Table

        table = Table(title=title)
        table.add_column(name, no_wrap=True)
        self.tables.append(table)
        return table

    def add_line(self, *fields: str) -> None:
        self.lines.append(fields)

    def show(self) -> None:
        from rich.measure import Measurement

        from gpt2_adventure.safe_text import printable

        out = console()
        options = out.options.update(max_width=_UNLIMITED)
        fits = out.is_terminal and all(
            Measurement.get(out, options, table).minimum <= out.width for table in self.tables)
        if fits:
            for table in self.tables:
                out.print(table)
            for note in self.notes:
                typer.echo(printable(note))
            return
        for fields in self.lines:
            typer.echo(plain_line(fields))
        for note in self.notes:
            print(printable(note), file=sys.stderr)


def plain_line(fields: Iterable[str]) -> str:
    """The fields joined by tabs, each on one line (tabs and line ends inside made spaces)."""
    from gpt2_adventure.safe_text import printable

    return "\t".join(" ".join(printable(field).split()) for field in fields)
