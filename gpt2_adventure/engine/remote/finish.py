"""Why a remote reply ended, in our words, from what the server said (if anything)."""

from __future__ import annotations

from collections.abc import Sequence


def finish_reason(server: str | None, stop: Sequence[str], generated: int, max_tokens: int,
                  clamped: bool) -> str:
    """Our finish reason from the server's ("stop" or "length", or none at all);
    ``clamped``: ``max_tokens`` was cut to the room left in the context."""
    if server == "length" or (server is None and generated >= max_tokens):
        return "context" if clamped else "length"
    if server in ("stop", "eos", None):
        # A server trims the stop string it met, so "stop" may be either.
        return "stop" if stop else "eos"
    return server
