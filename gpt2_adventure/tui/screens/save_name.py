"""Saving under a name that holds another game's save: replace it, save beside it, or not."""

from __future__ import annotations

from textual.await_complete import AwaitComplete

from gpt2_adventure.game_commands.outcomes import AskReplace
from gpt2_adventure.game_commands.saves import REPLACE
from gpt2_adventure.tui.screens.dialogs import Choice


class ReplaceSave(Choice):
    """Asks what to do; dismisses with the line to run ("/save --replace NAME" or
    "/save FREE"), or "" to save nothing (Esc, Cancel)."""

    DEFAULT_CSS = Choice.DEFAULT_CSS.replace("Choice", "ReplaceSave")

    def __init__(self, ask: AskReplace) -> None:
        super().__init__(f"The save {ask.name!r} holds another game",
                         f"{ask.other}\n\nReplace it with this game, or save this game beside "
                         f"it as {ask.free!r}?",
                         [("beside", f"Save as {ask.free}"), ("replace", "Replace it"),
                          ("cancel", "Cancel")])
        self.ask = ask

    def dismiss(self, result: str | None = None) -> AwaitComplete:
        """Choice dismisses with the button's key; this screen with the line it stands for."""
        if result == "replace":
            return super().dismiss(f"/save {REPLACE} {self.ask.name}")
        return super().dismiss(f"/save {self.ask.free}" if result == "beside" else "")
