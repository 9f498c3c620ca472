"""Saves by name: ``/save [--replace] [NAME]`` and ``/load [NAME]``."""

from __future__ import annotations

from gpt2_adventure.errors import UserError
from gpt2_adventure.game_commands.host import OpenGame
from gpt2_adventure.game_commands.outcomes import AskReplace, Info, OpenLoad, Outcome, Reloaded
from gpt2_adventure.story.saves.store import NameTaken, describe
from gpt2_adventure.units import count

REPLACE = "--replace"  # /save --replace NAME: replace another game's save


def save(game: OpenGame, arg: str) -> Outcome:
    """``/save [--replace] [NAME]``. A name belongs to one game: another game's save is
    replaced only when asked to. Without a name: the name this game was saved or loaded
    as, else its title (numbered when another game has that name)."""
    replace = arg == REPLACE or arg.startswith(REPLACE + " ")
    name = (arg[len(REPLACE):] if replace else arg).strip() or default_save_name(game)
    try:
        saved = game.store.save_named(game.state, name, replace=replace)
    except NameTaken as taken:
        refusal = Info([str(taken), taken.hint or ""], error=True)
        return AskReplace(taken.name, taken.free, describe(taken.other), refusal)
    game.save_name = saved.path.stem
    return Info(saved.lines())


def default_save_name(game: OpenGame) -> str:
    if game.save_name is not None:
        owner = game.store.owner(game.save_name)
        if owner is None or owner.game_id == game.state.id:
            return game.save_name
    from gpt2_adventure.story.importers.common import save_name

    mine = game.store.names_of(game.state.id)
    return mine[0] if mine else game.store.free_name(save_name(game.state.title),
                                                     game.state.id)


def load(game: OpenGame, arg: str) -> Outcome:
    """``/load NAME``; ``/load`` alone lets the player pick one (``OpenLoad``)."""
    if not arg:
        return OpenLoad(saves_listed(game))
    try:
        path = game.store.locate(arg)
    except UserError as error:  # the CLI's hint (saves list) is not the one in a game
        if error.hint and "saves list" in error.hint:
            error.hint = "/load alone lists the saves"
        raise
    state = game.store.load(path)
    game.replace_story(state)
    game.save_name = path.stem if path.parent == game.store.saves_dir else None
    warm = game.restore_model_state()
    return Reloaded([f"loaded {arg}: {state.title}" + (" (warm)" if warm else "")],
                    changed=None)  # another story: all of it


def saves_listed(game: OpenGame, most: int = 20) -> Info:
    """What ``/load`` alone shows without a save browser: the newest saves to name."""
    found = [i for i in game.store.list() if not i.error]
    if not found:
        return Info(["no saves yet: /save NAME makes one"])
    lines = [f"{i.name} — {describe(i)}" for i in found[:most]]
    more = [f"… and {count(len(found) - most, 'older save')}"] if len(found) > most else []
    return Info(["load one with /load NAME:", *lines, *more])
