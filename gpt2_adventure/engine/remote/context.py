"""How many tokens a model on a server sees: the player's setting, else the server's word,
else GPT-2's; never past what the model was trained for. And how many of them a reply may
take."""

from __future__ import annotations

import re

GPT2_CONTEXT = 1024
GPT2_NAME = re.compile(r"gpt-?2", re.IGNORECASE)
# Positions a reply's budget leaves free at the end of the context, on every server (one rule;
# a reply that reaches the end is two tokens shorter). llama-cpp-python's server (0.3.x,
# ``Llama._create_completion``) skips its max_tokens check while it holds back an unfinished
# UTF-8 character and writes on until the character is whole: a four-byte one written a byte
# at a time (GPT-2 has a token for every byte) is evaluated two positions past max_tokens, a
# three-byte one one. Past the context that fails (``llama_decode``: no memory slot) and the
# stream ends with no finish. Bytes that never make a character can run on further: the tiny
# random test model's replies at the end of the context failed 1 in 100 before, 1 in 300 now,
# and such a failure looks like any other cut stream, so it stays an error.
OVERRUN = 2


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


def reply_budget(n_ctx: int, prompt_tokens: int, wanted: int) -> int:
    """Tokens a reply may take after ``prompt_tokens``: ``wanted``, within the room left less
    ``OVERRUN``; at least one (servers read 0 as "no limit")."""
    return max(1, min(wanted, n_ctx - prompt_tokens - OVERRUN))
