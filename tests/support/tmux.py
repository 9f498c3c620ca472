"""tmux for the tests that need a real terminal.

A tmux server of this test run's own: a session gets the environment of the server that
holds it, so a server the user (or another test run) started would hand the program theirs
(NO_COLOR, GPT2_ADVENTURE_*, HF_HOME...) instead of this run's isolated one.
"""

from __future__ import annotations

import os

TMUX = ("tmux", "-L", f"gpt2-adventure-tests-{os.getpid()}")
