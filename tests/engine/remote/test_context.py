"""How many tokens a reply on a server may take (``context.reply_budget``)."""

from __future__ import annotations

import pytest

from gpt2_adventure.engine.remote.context import OVERRUN, reply_budget


@pytest.mark.parametrize("prompt, wanted, budget", [
    (100, 60, 60),  # room enough: what the player asked for
    (1010, 60, 1024 - 1010 - OVERRUN),  # near the end: OVERRUN positions kept free
    (1024 - 60 - OVERRUN, 60, 60),  # just fits
    (1024 - 60 - OVERRUN + 1, 60, 59),
    (1022, 60, 1),  # no room beyond OVERRUN: one token, never 0 (a server's "no limit")
    (1023, 60, 1),
    (1023, 1, 1),
])
def test_reply_budget(prompt: int, wanted: int, budget: int) -> None:
    assert reply_budget(1024, prompt, wanted) == budget
