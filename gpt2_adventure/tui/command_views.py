"""How the game screen shows what a command answers or needs: the title of the dialog with
its answer, and the numbered lines /forget N and /world remove N (or keep N) choose from."""

from __future__ import annotations

from gpt2_adventure.game import Info
from gpt2_adventure.story.autolore import numbered
from gpt2_adventure.story.commands import CommandError, parse
from gpt2_adventure.story.model import StoryState

# What a dialog showing a command's answer is titled, by command.
INFO_TITLES = {"memory": "Memory", "world": "World info", "help": "Commands",
               "settings": "Sampling settings", "note": "Author's note"}


def info_title(line: str, info: Info) -> str:
    """A title for the dialog showing ``info``, the game's answer to ``line``."""
    try:
        command = parse(line)
    except CommandError:
        command = None
    if command is None:
        return "Something is wrong" if info.error else "GPT-2"
    if command.name == "world" and command.arg.startswith("import"):
        return "The lorebook was not imported" if info.error else "Lorebook imported"
    title = INFO_TITLES.get(command.name, f"/{command.name}")
    return f"{title}: something is wrong" if info.error else title


def numbered_memory(lines: list[str]) -> list[str]:
    return [f"{i}. {line}" for i, line in enumerate(lines, start=1)] or ["memory is empty"]


def numbered_world(state: StoryState) -> list[str]:
    """The world entries as /world numbers them, automatic lore marked (auto)."""
    return [f"{i}. [{', '.join(entry.keys) or 'always'}]{'' if auto is None else ' (auto)'} "
            f"{' '.join(entry.content.split())}"
            for i, (entry, auto) in enumerate(numbered(state), start=1)] or ["no world info"]
