"""`models pull` draws its progress bar from the first byte received: offline, or with the Hub
out of reach, the error is the only output (no empty bar above it)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from gpt2_adventure.cli.transfer_bar import TransferBar
from tests.cli.terminal import run_on_terminal


@pytest.mark.parametrize("env", [{"HF_HUB_OFFLINE": "1"},
                                 {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9"}])
def test_a_pull_that_cannot_start_shows_only_its_error(env: dict[str, str]) -> None:
    code, shown, err = run_on_terminal("models", "pull", "gpt2", env=env)
    assert code == 2
    assert shown.strip() == "", shown
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: no network") and len(lines) == 2


def test_the_bar_starts_with_the_first_byte() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80)
    with TransferBar("pulling [gpt2]", console) as bar:
        bar.report("downloading gpt2.Q8_0.gguf (178 MB)")
        bar.update(0, 1000)
        assert not bar.started
        assert "pulling" not in screen.getvalue()
        bar.update(500, 1000)
        assert bar.started
    shown = screen.getvalue()
    assert shown.index("downloading gpt2.Q8_0.gguf") < shown.index("pulling [gpt2]")
    assert "0.5/1.0 kB" in shown
