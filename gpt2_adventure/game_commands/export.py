"""``/export FORMAT FILE``: the story (or its world info) written to a file."""

from __future__ import annotations

from gpt2_adventure.errors import UserError
from gpt2_adventure.game_commands.host import OpenGame
from gpt2_adventure.game_commands.outcomes import Info, Outcome
from gpt2_adventure.paths import player_path
from gpt2_adventure.story.commands import CommandError, usage
from gpt2_adventure.story.model import StoryState

EXPORT_FORMATS = ("md", "txt", "kobold", "lorebook", "sillytavern")


def export(game: OpenGame, arg: str) -> Outcome:
    fmt, _, target = arg.partition(" ")
    if fmt not in EXPORT_FORMATS or not target.strip():
        raise CommandError(usage("export"))
    path = player_path(target.strip())
    if path.is_dir():
        raise UserError("this is a folder; give a file name to export to", path)
    if path.exists():  # (a dangling link is replaced by the file, never followed)
        raise UserError("the file exists; choose another name", path)
    if not path.parent.is_dir():
        raise UserError("the folder to export to does not exist", path.parent)
    from gpt2_adventure.fileio import atomic_write

    try:
        atomic_write(path, render(game.state, fmt).encode("utf-8", "replace"), mode=0o644)
    except OSError as error:
        raise UserError(f"cannot write the export: {error.strerror or error}",
                        path) from None
    return Info([f"exported: {path}"])


def render(state: StoryState, fmt: str) -> str:
    if fmt == "lorebook":
        from gpt2_adventure.story.lorebooks.sillytavern import export_world_info

        return export_world_info(state.world, state.title)
    if fmt == "kobold":
        from gpt2_adventure.story.importers.kobold import export_kobold

        text, _notes = export_kobold(state)
        return text
    if fmt == "sillytavern":  # a chat only (anything else is refused, by name)
        from gpt2_adventure.story.importers.sillytavern_chat import export_chat

        text, _notes = export_chat(state)
        return text
    from gpt2_adventure.story.export import export_markdown, export_text

    return export_markdown(state) if fmt == "md" else export_text(state)
