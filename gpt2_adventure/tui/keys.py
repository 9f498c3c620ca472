"""The game screen's keys as F1 shows them (the README's key table says the same)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from gpt2_adventure.story.commands import COMMANDS


def game_keys(mode: str) -> list[tuple[str, str]]:
    """(key, what it does) for a game in ``mode`` ("adventure", "chat" or "story")."""
    tab = ("Do / Say / Story; completes a /command being typed" if mode == "adventure"
           else "completes a /command being typed")
    return [
        ("Enter", "send; alone, GPT-2 goes on with the story"),
        ("Tab", tab),
        ("Esc", "stop GPT-2 mid-reply (keep or drop what it wrote); close the side panel"),
        ("Ctrl+R", "retry: another reply (the old one stays as an alternative)"),
        ("Alt+→ / Alt+←", "the next / previous reply of the last turn"),
        ("Ctrl+Z / Ctrl+Y", "undo / redo the last exchange"),
        ("Ctrl+E", "continue: more of the last reply"),
        ("Ctrl+S", "save"),
        ("F2", "memory, author's note and world info, beside the story"),
        ("F4", "what GPT-2 sees: the next reply's prompt, part by part"),
        ("F1", "these keys and the commands"),
        ("PgUp / PgDn", "scroll the story (the mouse wheel too)"),
        ("Ctrl+Q", "quit (autosaved)"),
    ]


def _grid(rows: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for left, right in rows:
        grid.add_row(left, right)
    return grid


def help_body(mode: str) -> Group:
    """The keys, then the slash commands: what F1 shows."""
    commands = [(f"/{name}" + (f" {synopsis}" if synopsis else ""), what)
                for name, (synopsis, what) in COMMANDS.items()]
    return Group(Text("Keys", style="bold underline"), _grid(game_keys(mode)), Text(""),
                 Text("Commands", style="bold underline"), _grid(commands))
