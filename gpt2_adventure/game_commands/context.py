"""``/context [ACTION]``: what GPT-2 sees for the next reply (``story/inspect.py``)."""

from __future__ import annotations

from gpt2_adventure.game_commands.host import OpenGame
from gpt2_adventure.game_commands.outcomes import Info, Outcome, ShowContext
from gpt2_adventure.story.inspect import next_prompt


def context(game: OpenGame, arg: str) -> Outcome:
    """The next reply's prompt, or ACTION's, built without sending or taking it."""
    seen = next_prompt(game.session, arg or None)
    return ShowContext(seen, Info(seen.lines()))
