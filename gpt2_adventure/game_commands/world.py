"""World info: ``/world`` lists, adds, removes, keeps (an automatic one) and imports (a
lorebook) its entries."""

from __future__ import annotations

from pathlib import Path

from gpt2_adventure.game_commands.host import OpenGame, number
from gpt2_adventure.game_commands.outcomes import Info, Outcome
from gpt2_adventure.paths import player_path
from gpt2_adventure.story.autolore import numbered
from gpt2_adventure.story.commands import CommandError, usage
from gpt2_adventure.story.model import WorldEntry


def world(game: OpenGame, arg: str) -> Outcome:
    action, _, rest = arg.partition(" ")
    if not arg:  # automatic entries (story/autolore.py) after the game's own, marked
        entries = numbered(game.state)
        return Info([f"{i + 1}. [{', '.join(e.keys) or 'always'}]"
                     f"{'' if auto is None else ' (auto)'} {e.content}"
                     for i, (e, auto) in enumerate(entries)] or ["no world info"])
    if action == "add" and "=" in rest:
        keys, _, content = rest.partition("=")
        key_list = tuple(k.strip() for k in keys.split(",") if k.strip())
        if not key_list or not content.strip():
            raise CommandError(usage("world"))
        index = game.session.add_world(WorldEntry(keys=key_list, content=content.strip()))
        return Info([f"world info {index + 1} added"])
    if action == "remove":
        gone = game.session.remove_world(number(rest, "world") - 1)
        return Info([f"removed world info: {gone.content}"])
    if action == "keep":
        kept = game.session.keep_world(number(rest, "world") - 1)
        return Info([f"kept as world info {kept + 1}: {game.state.world[kept].content}"])
    if action == "import" and rest.strip():
        return world_import(game, player_path(rest.strip()))
    raise CommandError(usage("world"))


def world_import(game: OpenGame, path: Path) -> Info:
    """A lorebook's entries added to the game (macros with the chat's names)."""
    from gpt2_adventure.story.lorebooks.attach import fresh, state_names
    from gpt2_adventure.story.lorebooks.read import read_lorebook

    book = read_lorebook(path, state_names(game.state))
    new, skipped = fresh(game.state.world, book.entries)
    if new:
        game.session.replace_world([*game.state.world, *new])
    entries = "world entry" if len(new) == 1 else "world entries"
    lines = [f"added {len(new)} {entries} from {path.name} ({book.format})"]
    lines += [f"skipped {skipped} already there"] if skipped else []
    lines += [f"note: {note}" for note in book.notes]
    lines += [f"dropped: {part}" for part in book.dropped]
    return Info(lines)
