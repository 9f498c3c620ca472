"""The slash commands of an open game, one small module per kind of work; ``game.COMMAND_TABLE``
maps each command of ``story/commands.COMMANDS`` to its handler here.

A handler is ``(game, arg) -> Outcome``: it sees the open game only through ``host.OpenGame``
(what a command may use of ``game.Game``), raises ``CommandError``/``SessionError``/``UserError``
for ``Game.handle`` to tell, and returns one of ``outcomes``.
"""
