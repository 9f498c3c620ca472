"""How many tokens a model on a server sees: the player's setting, else the server's word,
else GPT-2's; never past what the model was trained for."""

from __future__ import annotations

import re

GPT2_CONTEXT = 1024
GPT2_NAME = re.compile(r"gpt-?2", re.IGNORECASE)


def context_size(configured: int, reported: int | None, source: str, train: int | None,
                 name: str) -> tuple[int, str]:
    """(tokens, where the number came from: "config", ``source`` or "default"). A GPT-2
    evaluated past 1024 positions aborts its server, so a model named GPT-2 (``name``: the
    file name, not its folders) is held to that too."""
    if configured:
        n, where = configured, "config"
    elif reported and reported > 0:
        n, where = int(reported), source
    else:
        n, where = GPT2_CONTEXT, "default"
    if train and train > 0:
        n = min(n, int(train))
    if GPT2_NAME.search(name):
        n = min(n, GPT2_CONTEXT)
    return max(16, n), where
