"""Whether the full-screen interface can run here."""

from __future__ import annotations

import os
import sys


def on_terminal() -> bool:
    """Whether stdin and stdout are both a terminal (else: plain mode, or help)."""
    return sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()


def full_screen_problem() -> str | None:
    """Why this terminal cannot show the full-screen interface, or None when it can.

    ``TERM=dumb`` (Emacs' shell, some IDE consoles, ``TERM`` set so on purpose) is a terminal
    that cannot move the cursor or draw: the interface would be garbage there.
    """
    if os.environ.get("TERM", "").strip().lower() == "dumb":
        return "TERM=dumb: this terminal cannot show the full-screen interface"
    return None
